"""Kinesis streams and DynamoDB tables as CloudFormation resources."""

from __future__ import annotations

from typing import Any

from ..resources import KinesisStream, Table
from .common import tags

DELETE = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def stream(s: KinesisStream) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Name": s.name,
        "ShardCount": {"Ref": "ShardCount"},
        "RetentionPeriodHours": s.retention_hours,
    }
    if s.kms_key is not None:
        properties["StreamEncryption"] = {"EncryptionType": "KMS", "KeyId": s.kms_key}
    if s.tags:
        properties["Tags"] = tags(s.tags)
    return {"Type": "AWS::Kinesis::Stream", "Properties": properties}


def shard_parameter(s: KinesisStream) -> dict[str, Any]:
    return {
        "Type": "Number",
        "Default": s.shard_count,
        "MinValue": 1,
        "Description": f"Shards of the Kinesis stream {s.name}.",
    }


def table(t: Table) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": t.name,
        "BillingMode": t.billing_mode,
        "AttributeDefinitions": t.attribute_definitions(),
        "KeySchema": t.key_schema(),
    }
    if t.capacity is not None:
        properties["ProvisionedThroughput"] = t.capacity.to_api()
    if t.indexes:
        properties["GlobalSecondaryIndexes"] = [t.index_definition(i) for i in t.indexes]
    if t.stream_view is not None:
        properties["StreamSpecification"] = {"StreamViewType": str(t.stream_view)}
    if t.tags:
        properties["Tags"] = tags(t.tags)
    return {"Type": "AWS::DynamoDB::Table", **DELETE, "Properties": properties}
