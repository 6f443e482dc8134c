"""What exists now, as plain data, read through the :class:`StateReader` protocol.

The planner reads only through this protocol, so unit tests give it an in-memory reader and
the executor stays the only place that changes anything. :class:`Boto3StateReader` reads a
real account (or the local cloud) with boto3.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from botocore.exceptions import ClientError

from .resources import Environment

NOT_FOUND = {
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
    "NotFoundException",
}


@dataclass(frozen=True)
class TableState:
    name: str
    arn: str
    partition_key: str | None
    stream_view: str | None
    stream_arn: str | None
    status: str
    billing_mode: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KinesisStreamState:
    name: str
    arn: str
    shard_count: int
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)
    encryption: str = "NONE"


@dataclass(frozen=True)
class RoleState:
    name: str
    arn: str
    trust: Mapping[str, Any]
    attached: tuple[str, ...]  # policy ARNs
    inline: tuple[str, ...]  # inline policy names
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyState:
    name: str
    arn: str
    document: Mapping[str, Any]
    default_version: str
    other_versions: tuple[str, ...]  # oldest first
    attached_roles: tuple[str, ...]
    attached_users: tuple[str, ...] = ()
    attached_groups: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionState:
    name: str
    arn: str
    code_sha256: str
    role: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    reserved_concurrency: int | None
    state: str = "Active"
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingState:
    uuid: str
    function_arn: str
    source_arn: str
    state: str
    batch_size: int
    maximum_batching_window: int
    parallelization_factor: int
    maximum_retry_attempts: int
    bisect_on_error: bool
    starting_position: str | None = None

    @property
    def function_name(self) -> str:
        return self.function_arn.split(":")[6] if self.function_arn.count(":") >= 6 else ""


@dataclass(frozen=True)
class LogGroupState:
    name: str
    retention_days: int | None


class StateReader(Protocol):
    """Everything the planner needs to know about what exists."""

    @property
    def environment(self) -> Environment: ...

    def table(self, name: str) -> TableState | None: ...

    def kinesis_stream(self, name: str) -> KinesisStreamState | None: ...

    def role(self, name: str) -> RoleState | None: ...

    def policy(self, name: str) -> PolicyState | None: ...

    def function(self, name: str) -> FunctionState | None: ...

    def mappings(self, function_name: str) -> tuple[MappingState, ...]: ...

    def log_group(self, name: str) -> LogGroupState | None: ...

    def item(self, table: str, key_name: str, key_value: str) -> Mapping[str, Any] | None: ...


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _tags(pairs: list[Any] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in pairs or []}


def normalise_policy(document: Any) -> dict[str, Any]:
    """A policy document in a form that compares equal when AWS would treat it the same."""
    if isinstance(document, str):
        document = json.loads(unquote(document) if document.startswith("%") else document)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for statement in statements:
        item = dict(statement)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in item:
                value = item[key]
                item[key] = sorted([value] if isinstance(value, str) else value)
        out.append(item)
    return {"Version": document.get("Version", "2008-10-17"), "Statement": out}


class Boto3StateReader:
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
            if _code(error) in NOT_FOUND:
                return None
            raise
        if described.get("TableStatus") == "DELETING":
            return None
        schema = described.get("KeySchema", [])
        keys = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
        spec = described.get("StreamSpecification") or {}
        enabled = bool(spec.get("StreamEnabled"))
        billing = (described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        try:
            tags = _tags(dynamodb.list_tags_of_resource(ResourceArn=described["TableArn"])["Tags"])
        except ClientError:
            tags = {}
        return TableState(
            name=name,
            arn=described["TableArn"],
            partition_key=keys[0] if keys else None,
            stream_view=spec.get("StreamViewType") if enabled else None,
            stream_arn=described.get("LatestStreamArn") if enabled else None,
            status=described.get("TableStatus", "ACTIVE"),
            billing_mode=billing,
            tags=tags,
        )

    def item(self, table: str, key_name: str, key_value: str) -> Mapping[str, Any] | None:
        from boto3.dynamodb.types import TypeDeserializer

        try:
            found = self._client("dynamodb").get_item(
                TableName=table, Key={key_name: {"S": key_value}}, ConsistentRead=True
            )
        except ClientError as error:
            if _code(error) in NOT_FOUND:
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
            if _code(error) in NOT_FOUND:
                return None
            raise
        if summary.get("StreamStatus") == "DELETING":
            return None
        try:
            tags = _tags(kinesis.list_tags_for_stream(StreamName=name).get("Tags"))
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
            if _code(error) in NOT_FOUND:
                return None
            raise
        attached: list[str] = []
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
            attached.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
        inline: list[str] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            inline.extend(page["PolicyNames"])
        trust = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(trust, str):
            trust = json.loads(unquote(trust))
        return RoleState(
            name=name,
            arn=role["Arn"],
            trust=trust,
            attached=tuple(attached),
            inline=tuple(inline),
            tags=_tags(role.get("Tags")),
        )

    def policy(self, name: str) -> PolicyState | None:
        iam = self._client("iam")
        arn = self.environment.policy_arn(name)
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
        except ClientError as error:
            if _code(error) in NOT_FOUND:
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
            tags = _tags(iam.list_policy_tags(PolicyArn=arn).get("Tags"))
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
            if _code(error) in NOT_FOUND:
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
        )

    def mappings(self, function_name: str) -> tuple[MappingState, ...]:
        lambda_ = self._client("lambda")
        found: list[MappingState] = []
        try:
            pages = lambda_.get_paginator("list_event_source_mappings").paginate(
                FunctionName=function_name
            )
            for page in pages:
                for m in page.get("EventSourceMappings", []):
                    found.append(
                        MappingState(
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
                        )
                    )
        except ClientError as error:
            if _code(error) in NOT_FOUND:
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
