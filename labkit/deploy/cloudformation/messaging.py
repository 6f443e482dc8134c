"""SQS queues, SNS topics and subscriptions, and S3 buckets (with their notifications) as
CloudFormation resources."""

from __future__ import annotations

from typing import Any

from ..resources import Bucket, Notification, Queue, Subscription, Target, Topic
from .common import Ids, logical_id, policy_document, tags

DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
#: CloudFormation's notification keys, by the kind of destination.
NOTIFICATION_KEYS = {
    "sns": ("TopicConfigurations", "Topic"),
    "sqs": ("QueueConfigurations", "Queue"),
    "lambda": ("LambdaConfigurations", "Function"),
}


def queue(q: Queue) -> dict[str, Any]:
    properties: dict[str, Any] = {"QueueName": q.name}
    if q.visibility_timeout is not None:
        properties["VisibilityTimeout"] = q.visibility_timeout
    if q.message_retention is not None:
        properties["MessageRetentionPeriod"] = q.message_retention
    if q.tags:
        properties["Tags"] = tags(q.tags)
    return {"Type": "AWS::SQS::Queue", **DELETE, "Properties": properties}


def queue_policy(q: Queue, ids: Ids) -> dict[str, Any]:
    assert q.policy is not None
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": ids[f"sqs:{q.name}"]}],
            "PolicyDocument": policy_document(q.policy),
        },
    }


def topic(t: Topic) -> dict[str, Any]:
    properties: dict[str, Any] = {"TopicName": t.name}
    if t.tags:
        properties["Tags"] = tags(t.tags)
    return {"Type": "AWS::SNS::Topic", "Properties": properties}


def topic_policy(t: Topic, ids: Ids) -> dict[str, Any]:
    assert t.policy is not None
    return {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": ids[f"sns:{t.name}"]}],
            "PolicyDocument": policy_document(t.policy),
        },
    }


def subscription(s: Subscription, ids: Ids) -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "TopicArn": ids.target_arn(Target("sns", s.topic)),
            "Protocol": s.protocol,
            "Endpoint": ids.target_arn(s.target),
        },
    }


def subscription_id(s: Subscription) -> str:
    return logical_id(s.topic, s.target.name, "Subscription")


def _notification(n: Notification, event: str, ids: Ids) -> dict[str, Any]:
    entry: dict[str, Any] = {NOTIFICATION_KEYS[n.target.kind][1]: ids.target_arn(n.target)}
    entry["Event"] = event
    rules = [{"Name": k, "Value": v} for k, v in (("prefix", n.prefix), ("suffix", n.suffix)) if v]
    if rules:
        entry["Filter"] = {"S3Key": {"Rules": rules}}
    return entry


def bucket(b: Bucket, ids: Ids, depends: list[str]) -> dict[str, Any]:
    """The bucket; it depends on the topic and queue policies and the Lambda permissions its
    notifications need (S3 checks them when the configuration is set)."""
    properties: dict[str, Any] = {"BucketName": b.name}
    if b.versioning:
        properties["VersioningConfiguration"] = {"Status": "Enabled"}
    if b.notifications:
        configuration: dict[str, list[dict[str, Any]]] = {}
        for n in b.notifications:
            key = NOTIFICATION_KEYS[n.target.kind][0]
            configuration.setdefault(key, []).extend(
                _notification(n, event, ids) for event in n.events
            )
        properties["NotificationConfiguration"] = configuration
    if b.tags:
        properties["Tags"] = tags(b.tags)
    resource: dict[str, Any] = {"Type": "AWS::S3::Bucket", **DELETE, "Properties": properties}
    if depends:
        resource["DependsOn"] = sorted(set(depends))
    return resource
