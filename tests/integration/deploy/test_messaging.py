"""Queues, topics with policies, subscriptions, Lambda permissions and buckets with
notifications on the local cloud: created in an order S3 accepts, re-planned to nothing,
changed in place, removed, torn down."""

from __future__ import annotations

import dataclasses
import json

from labkit.deploy.packaging import Package
from labkit.deploy.resources import (
    ACCOUNT_ID,
    Bucket,
    Condition,
    Function,
    Notification,
    Permission,
    PolicyDocument,
    Principal,
    Queue,
    Role,
    Stack,
    Statement,
    Subscription,
    Target,
    Topic,
    bucket_arn_template,
    queue_arn_template,
    topic_arn_template,
)
from labkit.testing import RunningCloud

from .conftest import Deployer

HANDLER = "def lambda_handler(event, context):\n    print(event)\n"


def publish_policy(topic: str, bucket: str) -> PolicyDocument:
    """Only this bucket may publish to the topic."""
    return PolicyDocument(
        (
            Statement(
                "AllowBucketPublish",
                ("sns:Publish",),
                (topic_arn_template(topic),),
                principal=Principal.service("s3.amazonaws.com"),
                conditions=(
                    Condition("ArnLike", "aws:SourceArn", (bucket_arn_template(bucket),)),
                    Condition("StringEquals", "aws:SourceAccount", (ACCOUNT_ID,)),
                ),
            ),
        ),
        policy_id="upload-events",
    )


def send_policy(queue: str, bucket: str) -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "AllowBucketSend",
                ("sqs:SendMessage",),
                (queue_arn_template(queue),),
                principal=Principal.service("s3.amazonaws.com"),
                conditions=(Condition("ArnLike", "aws:SourceArn", (bucket_arn_template(bucket),)),),
            ),
        )
    )


def counters(prefix: str = "path/to/data/") -> Stack:
    """Lab 4's shape: bucket -> topic -> function, plus a queue and a direct function."""
    bucket, topic, queue, fn = "uploads-x", "uploads-topic", "uploads-queue", "processor"
    function = Function(
        fn, "processor-role", Package.build("p", {"lambda_function.py": HANDLER}), timeout=10
    )
    return Stack(
        roles=(Role("processor-role", ()),),
        functions=(function,),
        permissions=(
            Permission(fn, "sns-invoke", "sns.amazonaws.com", topic_arn_template(topic)),
            Permission(
                fn, "s3-invoke", "s3.amazonaws.com", bucket_arn_template(bucket), ACCOUNT_ID
            ),
        ),
        topics=(Topic(topic, publish_policy(topic, bucket), (("lab", "counters"),)),),
        queues=(Queue(queue, visibility_timeout=45, policy=send_policy(queue, bucket)),),
        subscriptions=(Subscription(topic, Target("lambda", fn)),),
        buckets=(
            Bucket(
                bucket,
                versioning=True,
                notifications=(
                    Notification("to-topic", Target("sns", topic), prefix=prefix),
                    Notification("to-queue", Target("sqs", queue), suffix=".csv"),
                    Notification(
                        "to-function",
                        Target("lambda", fn),
                        ("s3:ObjectRemoved:*",),
                        prefix="deleted/",
                    ),
                ),
                tags=(("lab", "counters"),),
            ),
        ),
    )


def notification_config(cloud: RunningCloud) -> dict[str, object]:
    found = cloud.client("s3").get_bucket_notification_configuration(Bucket="uploads-x")
    found.pop("ResponseMetadata", None)
    return dict(found)


def test_messaging_lifecycle(deployer: Deployer, cloud: RunningCloud) -> None:
    """The whole path is created (policies and permissions before the notifications S3
    checks), a second plan is empty, changes are made in place, and removals work."""
    stack = counters()
    plan = deployer.apply(stack)
    operations = [c.api for c in plan]
    assert operations.index("sns.set_topic_attributes") < operations.index(
        "s3.put_bucket_notification_configuration"
    )
    assert operations.index("lambda.add_permission") < operations.index("sns.subscribe")
    config = notification_config(cloud)
    assert config["TopicConfigurations"][0]["Id"] == "to-topic"  # type: ignore[index]
    assert len(config["QueueConfigurations"]) == 1  # type: ignore[arg-type]
    assert len(config["LambdaFunctionConfigurations"]) == 1  # type: ignore[arg-type]
    s3 = cloud.client("s3")
    assert s3.get_bucket_versioning(Bucket="uploads-x")["Status"] == "Enabled"
    subs = cloud.client("sns").list_subscriptions()["Subscriptions"]
    assert [s["Protocol"] for s in subs if s["TopicArn"].endswith(":uploads-topic")] == ["lambda"]
    policy = json.loads(cloud.client("lambda").get_policy(FunctionName="processor")["Policy"])
    assert sorted(s["Sid"] for s in policy["Statement"]) == ["s3-invoke", "sns-invoke"]

    # Changes in place: another prefix, a wider topic policy, another queue setting, a
    # permission with another source.
    changed = counters("path/to/other/")
    topic = changed.topics[0]
    wider = dataclasses.replace(
        topic.policy,  # type: ignore[arg-type]
        statements=(
            *topic.policy.statements,  # type: ignore[union-attr]
            Statement(
                "OwnerSubscribe",
                ("sns:Subscribe",),
                (topic_arn_template(topic.name),),
                principal=Principal("AWS", (ACCOUNT_ID,)),
            ),
        ),
    )
    changed = dataclasses.replace(
        changed,
        topics=(dataclasses.replace(topic, policy=wider),),
        queues=(dataclasses.replace(changed.queues[0], visibility_timeout=60),),
        permissions=(
            changed.permissions[0],
            dataclasses.replace(changed.permissions[1], source_account=None),
        ),
    )
    plan = deployer.apply(changed, owned=stack)
    assert sorted(c.api for c in plan) == sorted(
        [
            "sqs.set_queue_attributes",
            "sns.set_topic_attributes",
            "lambda.remove_permission",
            "lambda.add_permission",
            "s3.put_bucket_notification_configuration",
        ]
    )
    rules = notification_config(cloud)["TopicConfigurations"][0]["Filter"]["Key"]["FilterRules"]  # type: ignore[index]
    assert [r["Value"] for r in rules] == ["path/to/other/"]

    # Removals: no subscription, no notifications, no permissions.
    bare = dataclasses.replace(
        changed,
        subscriptions=(),
        permissions=(),
        buckets=(dataclasses.replace(changed.buckets[0], notifications=()),),
    )
    plan = deployer.apply(bare, owned=stack)
    assert sorted(c.api for c in plan) == sorted(
        [
            "sns.unsubscribe",
            "lambda.remove_permission",
            "lambda.remove_permission",
            "s3.put_bucket_notification_configuration",
        ]
    )
    assert notification_config(cloud) == {}

    # Teardown empties the versioned bucket (every version) and leaves nothing.
    s3.put_object(Bucket="uploads-x", Key="path/to/other/a", Body=b"1")
    s3.put_object(Bucket="uploads-x", Key="path/to/other/a", Body=b"2")
    deployer.teardown(stack)
    assert "uploads-x" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert cloud.client("sns").list_topics()["Topics"] == []
    assert cloud.client("sqs").list_queues().get("QueueUrls", []) == []
    assert [s for s in cloud.client("sns").list_subscriptions()["Subscriptions"]] == []
