"""Queues, topics, subscriptions, Lambda permissions and buckets: created in an order AWS
accepts, compared with what exists, changed in place, removed when owned and not wanted."""

from __future__ import annotations

import dataclasses
import json

from labkit.deploy.executor import DisplayExecutor
from labkit.deploy.packaging import Package
from labkit.deploy.planner import plan_stack
from labkit.deploy.resources import (
    ACCOUNT_ID,
    Bucket,
    Condition,
    Environment,
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
from labkit.deploy.state import ObjectVersion, PermissionState, SubscriptionState

from .conftest import ENV, FakeReader, reader_for

BUCKET, TOPIC, QUEUE, FN = "uploads", "uploads-topic", "dead-letters", "processor"


def publish_policy() -> PolicyDocument:
    return PolicyDocument(
        (
            Statement(
                "AllowBucket",
                ("sns:Publish",),
                (topic_arn_template(TOPIC),),
                principal=Principal.service("s3.amazonaws.com"),
                conditions=(Condition("ArnLike", "aws:SourceArn", (bucket_arn_template(BUCKET),)),),
            ),
        )
    )


def messaging_stack(prefix: str = "path/to/data/") -> Stack:
    function = Function(FN, "role", Package.build("p", {"lambda_function.py": "x"}), timeout=10)
    return Stack(
        roles=(Role("role", ()),),
        functions=(function,),
        permissions=(Permission(FN, "sns", "sns.amazonaws.com", topic_arn_template(TOPIC)),),
        topics=(Topic(TOPIC, publish_policy()),),
        queues=(Queue(QUEUE, visibility_timeout=30, message_retention=1209600),),
        subscriptions=(Subscription(TOPIC, Target("lambda", FN)),),
        buckets=(
            Bucket(
                BUCKET,
                versioning=True,
                notifications=(Notification("to-topic", Target("sns", TOPIC), prefix=prefix),),
                tags=(("lab", "counters"),),
            ),
        ),
    )


def ops(plan: object) -> list[str]:
    return [call.api for call in plan]  # type: ignore[attr-defined]


def test_empty_account_creates_in_dependency_order() -> None:
    """Queues, topics and their policies and buckets come first, then the role and function,
    the permission before the subscription, and the bucket's notifications last."""
    plan = plan_stack(messaging_stack(), FakeReader())
    assert ops(plan) == [
        "sqs.create_queue",
        "sns.create_topic",
        "sns.set_topic_attributes",
        "s3.create_bucket",
        "s3.put_bucket_versioning",
        "s3.put_bucket_tagging",
        "iam.create_role",
        "lambda.create_function",
        "lambda.add_permission",
        "sns.subscribe",
        "s3.put_bucket_notification_configuration",
    ]
    assert {c.change for c in plan} == {"create"}
    by_op = {c.operation: c for c in plan}
    assert by_op["create_queue"].params["Attributes"] == {
        "VisibilityTimeout": "30",
        "MessageRetentionPeriod": "1209600",
    }
    policy = json.loads(by_op["set_topic_attributes"].params["AttributeValue"])
    assert policy["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert policy["Statement"][0]["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}
    }
    assert by_op["add_permission"].params == {
        "FunctionName": FN,
        "StatementId": "sns",
        "Action": "lambda:InvokeFunction",
        "Principal": "sns.amazonaws.com",
        "SourceArn": ENV.topic_arn(TOPIC),
    }
    assert by_op["subscribe"].params["Endpoint"] == ENV.function_arn(FN)
    configuration = by_op["put_bucket_notification_configuration"].params[
        "NotificationConfiguration"
    ]
    assert configuration == {
        "TopicConfigurations": [
            {
                "Id": "to-topic",
                "TopicArn": ENV.topic_arn(TOPIC),
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "path/to/data/"}]}},
            }
        ]
    }
    assert "CreateBucketConfiguration" not in by_op["create_bucket"].params


def test_second_plan_is_empty() -> None:
    """When everything matches, nothing is planned."""
    stack = messaging_stack()
    assert plan_stack(stack, reader_for(stack)).empty


def test_bucket_outside_us_east_1_names_its_region() -> None:
    """Outside us-east-1, create_bucket names the region (S3 refuses it otherwise)."""

    class Elsewhere(FakeReader):
        @property
        def environment(self) -> Environment:
            return Environment("aws", "eu-west-1", "123456789012")

    plan = plan_stack(Stack(buckets=(Bucket("b"),)), Elsewhere())
    assert plan.calls[0].params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}


def test_changed_notification_prefix_replaces_the_configuration() -> None:
    """Another prefix puts the whole configuration again (it is one document)."""
    reader = reader_for(messaging_stack())
    plan = plan_stack(messaging_stack("other/"), reader)
    assert ops(plan) == ["s3.put_bucket_notification_configuration"]
    assert plan.calls[0].change == "update"
    assert "other/*" in plan.calls[0].description


def test_bucket_without_notifications_clears_them() -> None:
    """A bucket whose step has no notifications gets an empty configuration."""
    stack = messaging_stack()
    bare = dataclasses.replace(stack.buckets[0], notifications=())
    plan = plan_stack(dataclasses.replace(stack, buckets=(bare,)), reader_for(stack))
    assert ops(plan) == ["s3.put_bucket_notification_configuration"]
    assert plan.calls[0].params["NotificationConfiguration"] == {}
    assert plan.calls[0].change == "remove"


def test_versioning_off_suspends_and_tags_are_merged() -> None:
    """Versioning cannot be turned off, only suspended; a missing tag is added while the
    bucket's other tags are kept (put_bucket_tagging replaces them all)."""
    stack = messaging_stack()
    reader = reader_for(stack)
    reader.buckets[BUCKET] = dataclasses.replace(reader.buckets[BUCKET], tags={"owner": "me"})
    wanted = dataclasses.replace(stack.buckets[0], versioning=False)
    plan = plan_stack(dataclasses.replace(stack, buckets=(wanted,)), reader)
    assert ops(plan) == ["s3.put_bucket_versioning", "s3.put_bucket_tagging"]
    assert plan.calls[0].params["VersioningConfiguration"] == {"Status": "Suspended"}
    assert plan.calls[1].params["Tagging"]["TagSet"] == [
        {"Key": "owner", "Value": "me"},
        {"Key": "lab", "Value": "counters"},
    ]


def test_queue_attributes_and_policies_compare_by_meaning() -> None:
    """Only the attributes that differ are set; a policy with the same meaning in another
    form is not a difference."""
    policy = PolicyDocument(
        (
            Statement(
                "S3",
                ("sqs:SendMessage",),
                (queue_arn_template(QUEUE),),
                principal=Principal.service("s3.amazonaws.com"),
            ),
        )
    )
    queue = Queue(QUEUE, visibility_timeout=30, policy=policy)
    reader = reader_for(Stack(queues=(queue,)))
    document = policy.to_dict(ENV)
    document["Statement"][0]["Action"] = ["sqs:SendMessage"]
    document["Statement"][0]["Principal"] = {"Service": ["s3.amazonaws.com"]}
    reader.queues[QUEUE].attributes["Policy"] = json.dumps(document)  # type: ignore[index]
    assert plan_stack(Stack(queues=(queue,)), reader).empty
    plan = plan_stack(Stack(queues=(dataclasses.replace(queue, visibility_timeout=90),)), reader)
    assert ops(plan) == ["sqs.set_queue_attributes"]
    assert plan.calls[0].params["Attributes"] == {"VisibilityTimeout": "90"}


def test_topic_policy_is_set_when_it_differs_and_left_alone_when_unmanaged() -> None:
    """A different topic policy is set again; a topic without one in the stack keeps
    whatever policy it has."""
    stack = messaging_stack()
    reader = reader_for(stack)
    reader.topics[TOPIC] = dataclasses.replace(reader.topics[TOPIC], policy={"Statement": []})
    assert ops(plan_stack(stack, reader)) == ["sns.set_topic_attributes"]
    unmanaged = dataclasses.replace(stack, topics=(Topic(TOPIC),))
    assert plan_stack(unmanaged, reader).empty


def test_subscriptions_of_the_lab_are_kept_once_and_others_left_alone() -> None:
    """A duplicate and a qualified lab subscription are removed; a learner's e-mail
    subscription stays; a missing one is created."""
    stack = messaging_stack()
    reader = reader_for(stack)
    topic = reader.topics[TOPIC]
    arn = ENV.topic_arn(TOPIC)
    reader.topics[TOPIC] = dataclasses.replace(
        topic,
        subscriptions=(
            *topic.subscriptions,
            SubscriptionState(f"{arn}:zz-dup", "lambda", ENV.function_arn(FN)),
            SubscriptionState(f"{arn}:mail", "email", "me@example.com"),
        ),
    )
    plan = plan_stack(stack, reader, owned=stack)
    assert ops(plan) == ["sns.unsubscribe"]
    assert plan.calls[0].params == {"SubscriptionArn": f"{arn}:zz-dup"}
    qualified = SubscriptionState(f"{arn}:v1", "lambda", ENV.function_arn(FN) + ":1")
    reader.topics[TOPIC] = dataclasses.replace(topic, subscriptions=(qualified,))
    plan = plan_stack(stack, reader, owned=stack)
    assert ops(plan) == ["sns.unsubscribe", "sns.subscribe"]


def test_removing_a_topic_unsubscribes_the_lab_first() -> None:
    """Teardown unsubscribes the lab's subscriptions before deleting the topic, and empties
    a versioned bucket (every version, in batches of 1000) before deleting it."""
    stack = messaging_stack()
    reader = reader_for(stack)
    reader.objects[BUCKET] = tuple(ObjectVersion(f"k{i}", f"v{i}") for i in range(1001))
    plan = plan_stack(Stack(), reader, owned=stack)
    assert ops(plan) == [
        "s3.delete_objects",
        "s3.delete_objects",
        "s3.delete_bucket",
        "sns.unsubscribe",
        "lambda.delete_function",
        "sns.delete_topic",
        "sqs.delete_queue",
        "iam.delete_role",
    ]
    first = plan.calls[0].params["Delete"]["Objects"]
    assert len(first) == 1000 and first[0] == {"Key": "k0", "VersionId": "v0"}
    assert {c.change for c in plan} == {"remove"}


def test_permissions_are_replaced_when_they_differ_and_removed_when_unwanted() -> None:
    """A statement with another source is removed and added again; an owned statement the
    step lacks is removed; a statement the lab never made is left alone."""
    stack = messaging_stack()
    reader = reader_for(stack)
    extra = Permission(FN, "s3", "s3.amazonaws.com", bucket_arn_template(BUCKET), ACCOUNT_ID)
    owned = dataclasses.replace(stack, permissions=(*stack.permissions, extra))
    reader.function_permissions[FN] = [
        PermissionState("sns", "sns.amazonaws.com", "lambda:InvokeFunction", "arn:other"),
        PermissionState("s3", "s3.amazonaws.com", "lambda:InvokeFunction"),
        PermissionState("learner", "events.amazonaws.com", "lambda:InvokeFunction"),
    ]
    plan = plan_stack(stack, reader, owned=owned)
    assert [(c.operation, c.params["StatementId"]) for c in plan] == [
        ("remove_permission", "s3"),
        ("remove_permission", "sns"),
        ("add_permission", "sns"),
    ]
    assert [c.change for c in plan] == ["remove", "update", "update"]
    wanted = dataclasses.replace(stack, permissions=(extra,))
    add = next(c for c in plan_stack(wanted, FakeReader()) if c.operation == "add_permission")
    assert add.params["SourceAccount"] == "123456789012"


def test_dry_run_says_what_each_call_does() -> None:
    """The dry run describes each new kind in words."""
    lines: list[str] = []
    DisplayExecutor(lines.append).run(plan_stack(messaging_stack(), FakeReader()))
    text = "\n".join(lines)
    assert "Create queue dead-letters" in text
    assert "Set the access policy of topic uploads-topic (AllowBucket)" in text
    assert "Let sns.amazonaws.com invoke processor from uploads-topic" in text
    assert "Subscribe function processor to topic uploads-topic" in text
    assert (
        "Send events of bucket uploads: s3:ObjectCreated:* for keys path/to/data/* -> "
        "topic uploads-topic" in text
    )
