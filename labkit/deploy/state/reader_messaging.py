"""Reading SQS queues, SNS topics, S3 buckets and Lambda permissions (part of
:class:`~labkit.deploy.state.Boto3StateReader`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from ..resources import Environment
from .model import (
    BucketState,
    NotificationState,
    ObjectVersion,
    PermissionState,
    QueueState,
    SubscriptionState,
    TopicState,
    normalise_policy,
)

QUEUE_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
TOPIC_MISSING = {"NotFound", "NotFoundException"}
#: 403: the name belongs to someone else's bucket; creating it then says so clearly.
BUCKET_MISSING = {"404", "NoSuchBucket", "NotFound", "403", "AccessDenied"}
NO_TAGS = {"NoSuchTagSet", "NoSuchTagSetError"}
#: ``get_bucket_notification_configuration`` keys, by the kind of destination.
NOTIFICATION_KINDS = (
    ("TopicConfigurations", "TopicArn", "sns"),
    ("QueueConfigurations", "QueueArn", "sqs"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"),
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def tag_dict(pairs: list[Any] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in pairs or []}


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _permission(statement: Mapping[str, Any]) -> PermissionState:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        principal = _first(principal.get("Service") or principal.get("AWS"))
    conditions = statement.get("Condition") or {}
    source_arn = source_account = None
    for block in conditions.values():
        for key, value in (block or {}).items():
            if key.lower() == "aws:sourcearn":
                source_arn = _first(value)
            elif key.lower() == "aws:sourceaccount":
                source_account = _first(value)
    return PermissionState(
        statement_id=str(statement.get("Sid", "")),
        principal=str(principal or ""),
        action=str(_first(statement.get("Action")) or ""),
        source_arn=source_arn,
        source_account=source_account,
    )


def notification_entries(configuration: Mapping[str, Any]) -> tuple[NotificationState, ...]:
    """A bucket's notification configuration as entries (filter names in any case)."""
    entries: list[NotificationState] = []
    for key, arn_key, kind in NOTIFICATION_KINDS:
        for entry in configuration.get(key) or []:
            rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
            values = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}
            entries.append(
                NotificationState(
                    id=str(entry.get("Id", "")),
                    kind=kind,
                    arn=str(entry.get(arn_key, "")),
                    events=tuple(sorted(entry.get("Events") or ())),
                    prefix=values.get("prefix", ""),
                    suffix=values.get("suffix", ""),
                )
            )
    return tuple(entries)


class MessagingReader:
    """Queues, topics, buckets and permissions; mixed into the boto3 state reader."""

    _client: Any

    @property
    def environment(self) -> Environment:
        raise NotImplementedError

    # ----- Lambda permissions --------------------------------------------------------------
    def permissions(self, function_name: str) -> tuple[PermissionState, ...]:
        try:
            found = self._client("lambda").get_policy(FunctionName=function_name)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return ()
            raise
        document = found.get("Policy") or "{}"
        if isinstance(document, str):
            document = json.loads(document)
        statements = document.get("Statement") or []
        if isinstance(statements, Mapping):
            statements = [statements]
        return tuple(_permission(s) for s in statements)

    # ----- SQS -----------------------------------------------------------------------------
    def queue(self, name: str) -> QueueState | None:
        sqs = self._client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        except ClientError as error:
            if error_code(error) in QUEUE_MISSING:
                return None
            raise
        values = dict(attributes.get("Attributes") or {})
        try:
            tags = dict(sqs.list_queue_tags(QueueUrl=url).get("Tags") or {})
        except ClientError:
            tags = {}
        arn = values.get("QueueArn") or self.environment.queue_arn(name)
        return QueueState(name=name, url=url, arn=arn, attributes=values, tags=tags)

    # ----- SNS -----------------------------------------------------------------------------
    def topic(self, name: str) -> TopicState | None:
        sns = self._client("sns")
        arn = self.environment.topic_arn(name)
        try:
            attributes = sns.get_topic_attributes(TopicArn=arn).get("Attributes") or {}
        except ClientError as error:
            if error_code(error) in TOPIC_MISSING:
                return None
            raise
        subscriptions: list[SubscriptionState] = []
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn):
            subscriptions.extend(
                SubscriptionState(s["SubscriptionArn"], s["Protocol"], s["Endpoint"])
                for s in page.get("Subscriptions", [])
            )
        try:
            tags = tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))
        except ClientError:
            tags = {}
        policy = attributes.get("Policy")
        return TopicState(
            name=name,
            arn=arn,
            policy=normalise_policy(policy) if policy else None,
            subscriptions=tuple(subscriptions),
            tags=tags,
        )

    # ----- S3 ------------------------------------------------------------------------------
    def bucket(self, name: str) -> BucketState | None:
        s3 = self._client("s3")
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as error:
            if error_code(error) in BUCKET_MISSING:
                return None
            raise
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status") or None
        configuration = s3.get_bucket_notification_configuration(Bucket=name)
        try:
            tags = tag_dict(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
        except ClientError as error:
            if error_code(error) not in NO_TAGS:
                raise
            tags = {}
        return BucketState(
            name=name,
            versioning=versioning,
            notifications=notification_entries(configuration),
            tags=tags,
        )

    def bucket_objects(self, name: str) -> tuple[ObjectVersion, ...]:
        found: list[ObjectVersion] = []
        pages = self._client("s3").get_paginator("list_object_versions").paginate(Bucket=name)
        try:
            for page in pages:
                for entry in (*page.get("Versions", []), *page.get("DeleteMarkers", [])):
                    version = entry.get("VersionId")
                    found.append(
                        ObjectVersion(entry["Key"], None if version in (None, "null") else version)
                    )
        except ClientError as error:
            if error_code(error) in BUCKET_MISSING:
                return ()
            raise
        return tuple(found)
