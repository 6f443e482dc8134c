""":class:`Boto3StateReader`: the current state of an account (or the local cloud) via boto3."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from ..resources import Environment, Throughput
from .model import (
    FunctionState,
    IndexState,
    KinesisStreamState,
    LogGroupState,
    MappingState,
    PolicyState,
    RoleState,
    TableState,
    normalise_policy,
)
from .reader_messaging import MessagingReader, error_code, tag_dict

NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
    "NotFoundException",
}


def _throughput(described: Mapping[str, Any] | None) -> Throughput | None:
    if not described:
        return None
    return Throughput(
        int(described.get("ReadCapacityUnits", 0)), int(described.get("WriteCapacityUnits", 0))
    )


def _keys(schema: list[Mapping[str, str]]) -> tuple[str | None, str | None]:
    hash_keys = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    range_keys = [k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"]
    return (hash_keys[0] if hash_keys else None, range_keys[0] if range_keys else None)


def _index(described: Mapping[str, Any], provisioned: bool) -> IndexState:
    partition, sort = _keys(described.get("KeySchema", []))
    projection = described.get("Projection") or {}
    return IndexState(
        name=described["IndexName"],
        partition_key=partition,
        sort_key=sort,
        projection=projection.get("ProjectionType", "ALL"),
        non_key_attributes=tuple(projection.get("NonKeyAttributes") or ()),
        capacity=_throughput(described.get("ProvisionedThroughput")) if provisioned else None,
        status=described.get("IndexStatus", "ACTIVE"),
    )


class Boto3StateReader(MessagingReader):
    """Reads the current state with boto3 clients from a factory (``service -> client``)."""

    def __init__(self, client: Any, environment: Environment | None = None) -> None:
        self._client = client
        self._environment = environment

    @property
    def environment(self) -> Environment:
        if self._environment is None:
            identity = self._client("sts").get_caller_identity()
            partition = str(identity["Arn"]).split(":")[1]
            region = self._client("dynamodb").meta.region_name
            self._environment = Environment(partition, region, str(identity["Account"]))
        return self._environment

    # ----- DynamoDB ------------------------------------------------------------------------
    def table(self, name: str) -> TableState | None:
        dynamodb = self._client("dynamodb")
        try:
            described = dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        if described.get("TableStatus") == "DELETING":
            return None
        partition, sort = _keys(described.get("KeySchema", []))
        spec = described.get("StreamSpecification") or {}
        enabled = bool(spec.get("StreamEnabled"))
        billing = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        provisioned = billing == "PROVISIONED"
        try:
            tags = tag_dict(
                dynamodb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"]
            )
        except ClientError:
            tags = {}
        return TableState(
            name=name,
            arn=described["TableArn"],
            partition_key=partition,
            stream_view=spec.get("StreamViewType") if enabled else None,
            stream_arn=described.get("LatestStreamArn") if enabled else None,
            status=described.get("TableStatus", "ACTIVE"),
            billing_mode=billing,
            tags=tags,
            sort_key=sort,
            attribute_types={
                a["AttributeName"]: a["AttributeType"]
                for a in described.get("AttributeDefinitions", [])
            },
            capacity=_throughput(described.get("ProvisionedThroughput")) if provisioned else None,
            indexes=tuple(
                _index(i, provisioned) for i in described.get("GlobalSecondaryIndexes") or []
            ),
        )

    def item(self, table: str, key_name: str, key_value: str) -> Mapping[str, Any] | None:
        from boto3.dynamodb.types import TypeDeserializer

        try:
            found = self._client("dynamodb").get_item(
                TableName=table, Key={key_name: {"S": key_value}}, ConsistentRead=True
            )
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        if "Item" not in found:
            return None
        deserialise = TypeDeserializer().deserialize
        return {k: deserialise(v) for k, v in found["Item"].items()}

    # ----- Kinesis -------------------------------------------------------------------------
    def kinesis_stream(self, name: str) -> KinesisStreamState | None:
        kinesis = self._client("kinesis")
        try:
            summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        if summary.get("StreamStatus") == "DELETING":
            return None
        try:
            tags = tag_dict(kinesis.list_tags_for_stream(StreamName=name).get("Tags"))
        except ClientError:
            tags = {}
        return KinesisStreamState(
            name=name,
            arn=summary["StreamARN"],
            shard_count=int(summary.get("OpenShardCount", 0)),
            status=summary.get("StreamStatus", "ACTIVE"),
            tags=tags,
            encryption=summary.get("EncryptionType") or "NONE",
        )

    # ----- IAM -----------------------------------------------------------------------------
    def role(self, name: str) -> RoleState | None:
        iam = self._client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        attached: list[str] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
            attached.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
        inline: list[str] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            inline.extend(page["PolicyNames"])
        documents: dict[str, Mapping[str, Any]] = {}
        for policy in inline:
            try:
                found = iam.get_role_policy(RoleName=name, PolicyName=policy)
            except ClientError as error:
                if error_code(error) in NOT_FOUND:
                    continue
                raise
            documents[policy] = normalise_policy(found["PolicyDocument"])
        trust = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(trust, str):
            trust = json.loads(unquote(trust))
        return RoleState(
            name=name,
            arn=role["Arn"],
            trust=trust,
            attached=tuple(attached),
            inline=tuple(inline),
            tags=tag_dict(role.get("Tags")),
            inline_documents=documents,
        )

    def policy(self, name: str) -> PolicyState | None:
        iam = self._client("iam")
        arn = self.environment.policy_arn(name)
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        default = policy["DefaultVersionId"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        others = sorted(
            (v for v in versions if not v.get("IsDefaultVersion")),
            key=lambda v: (v.get("CreateDate") or 0, v["VersionId"]),
        )
        roles: list[str] = []
        users: list[str] = []
        groups: list[str] = []
        for page in iam.get_paginator("list_entities_for_policy").paginate(PolicyArn=arn):
            roles.extend(r["RoleName"] for r in page.get("PolicyRoles", []))
            users.extend(u["UserName"] for u in page.get("PolicyUsers", []))
            groups.extend(g["GroupName"] for g in page.get("PolicyGroups", []))
        try:
            tags = tag_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags"))
        except ClientError:
            tags = {}
        return PolicyState(
            name=name,
            arn=arn,
            document=normalise_policy(version["Document"]),
            default_version=default,
            other_versions=tuple(v["VersionId"] for v in others),
            attached_roles=tuple(roles),
            attached_users=tuple(users),
            attached_groups=tuple(groups),
            tags=tags,
        )

    # ----- Lambda --------------------------------------------------------------------------
    def function(self, name: str) -> FunctionState | None:
        lambda_ = self._client("lambda")
        try:
            found = lambda_.get_function(FunctionName=name)
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return None
            raise
        config = found["Configuration"]
        concurrency = (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        return FunctionState(
            name=name,
            arn=config["FunctionArn"],
            code_sha256=config.get("CodeSha256", ""),
            role=config.get("Role", ""),
            handler=config.get("Handler", ""),
            runtime=config.get("Runtime", ""),
            timeout=int(config.get("Timeout", 3)),
            memory_size=int(config.get("MemorySize", 128)),
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            reserved_concurrency=None if concurrency is None else int(concurrency),
            state=config.get("State", "Active"),
            tags=dict(found.get("Tags") or {}),
            layers=tuple(layer["Arn"] for layer in config.get("Layers") or []),
        )

    def mappings(self, function_name: str) -> tuple[MappingState, ...]:
        lambda_ = self._client("lambda")
        found: list[MappingState] = []
        try:
            pages = lambda_.get_paginator("list_event_source_mappings").paginate(
                FunctionName=function_name
            )
            for page in pages:
                found.extend(_mapping(m) for m in page.get("EventSourceMappings", []))
        except ClientError as error:
            if error_code(error) in NOT_FOUND:
                return ()
            raise
        return tuple(found)

    # ----- CloudWatch Logs -----------------------------------------------------------------
    def log_group(self, name: str) -> LogGroupState | None:
        logs = self._client("logs")
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            for group in page.get("logGroups", []):
                if group["logGroupName"] == name:
                    retention = group.get("retentionInDays")
                    return LogGroupState(name, None if retention is None else int(retention))
        return None


def _mapping(m: Mapping[str, Any]) -> MappingState:
    destination = ((m.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    filters = (m.get("FilterCriteria") or {}).get("Filters") or []
    return MappingState(
        uuid=m["UUID"],
        function_arn=m.get("FunctionArn", ""),
        source_arn=m.get("EventSourceArn", ""),
        state=m.get("State", "Enabled"),
        batch_size=int(m.get("BatchSize", 100)),
        maximum_batching_window=int(m.get("MaximumBatchingWindowInSeconds", 0)),
        parallelization_factor=int(m.get("ParallelizationFactor", 1)),
        maximum_retry_attempts=int(m.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(m.get("BisectBatchOnFunctionError", False)),
        starting_position=m.get("StartingPosition"),
        maximum_record_age=int(m.get("MaximumRecordAgeInSeconds", -1)),
        function_response_types=tuple(m.get("FunctionResponseTypes") or ()),
        on_failure=destination or None,
        tumbling_window=int(m.get("TumblingWindowInSeconds", 0) or 0),
        filters=tuple(str(f.get("Pattern", "")) for f in filters),
    )
