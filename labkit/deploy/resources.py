"""Resources as plain data: what should exist, independent of how it is created.

These frozen dataclasses know nothing of boto3. The planner compares them with what exists and
produces API calls; :mod:`labkit.deploy.cloudformation` turns the same objects into a template.

ARNs inside policies are written as templates with CloudFormation's pseudo parameters
(``arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/StateTable``), so one
policy serves both: the planner fills them in for the account at hand, the template keeps them
as ``Fn::Sub``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from .packaging import Package

Tags = tuple[tuple[str, str], ...]
Pairs = tuple[tuple[str, str], ...]

LAMBDA_SERVICE = "lambda.amazonaws.com"


def tags_of(mapping: Mapping[str, str]) -> Tags:
    """Tags as a sorted tuple of pairs (hashable, stable order)."""
    return tuple(sorted(mapping.items()))


class StreamView(StrEnum):
    """What a DynamoDB stream record carries."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class Environment:
    """Where ARN templates get their values: the account the plan is for."""

    partition: str
    region: str
    account: str

    def fill(self, template: str) -> str:
        return (
            template.replace("${AWS::Partition}", self.partition)
            .replace("${AWS::Region}", self.region)
            .replace("${AWS::AccountId}", self.account)
        )

    def kinesis_stream_arn(self, name: str) -> str:
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account}:stream/{name}"

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{name}"

    def policy_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:policy/{name}"

    def function_arn(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def log_group_arn(self, name: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{name}"


# --- ARN templates for policies ---------------------------------------------------------------
_PREFIX = "arn:${AWS::Partition}"
_WHERE = "${AWS::Region}:${AWS::AccountId}"


def table_arn_template(table: str) -> str:
    return f"{_PREFIX}:dynamodb:{_WHERE}:table/{table}"


def table_stream_arn_template(table: str) -> str:
    """Every stream of a table (the label changes each time the stream is re-enabled)."""
    return f"{_PREFIX}:dynamodb:{_WHERE}:table/{table}/stream/*"


def kinesis_stream_arn_template(stream: str) -> str:
    return f"{_PREFIX}:kinesis:{_WHERE}:stream/{stream}"


def log_group_arn_template(group: str) -> str:
    return f"{_PREFIX}:logs:{_WHERE}:log-group:{group}"


# --- resources ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KinesisStream:
    """A provisioned Kinesis data stream; ``kms_key`` turns on server-side encryption."""

    name: str
    shard_count: int
    retention_hours: int = 24
    tags: Tags = ()
    kms_key: str | None = None

    @property
    def label(self) -> str:
        return f"Kinesis stream {self.name}"


@dataclass(frozen=True)
class Table:
    """An on-demand DynamoDB table with a string partition key and an optional stream."""

    name: str
    partition_key: str
    stream_view: StreamView | None = None
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"table {self.name}"


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: Literal["Allow", "Deny"] = "Allow"

    def to_dict(self, env: Environment | None = None) -> dict[str, Any]:
        resources = [env.fill(r) if env else r for r in self.resources]
        return {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": list(self.actions) if len(self.actions) > 1 else self.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]

    def to_dict(self, env: Environment | None = None) -> dict[str, Any]:
        """The policy JSON; with ``env``, ARN templates are filled in for that account."""
        return {"Version": "2012-10-17", "Statement": [s.to_dict(env) for s in self.statements]}

    def to_json(self, env: Environment | None = None) -> str:
        return json.dumps(self.to_dict(env), indent=2)


def trust_policy(service: str) -> dict[str, Any]:
    """Who may assume a role: here, one AWS service."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer managed policy (its own resource, attachable to roles)."""

    name: str
    document: PolicyDocument
    description: str = ""
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"IAM policy {self.name}"


@dataclass(frozen=True)
class Role:
    """An execution role: trusted by ``service``, with managed policies attached by name."""

    name: str
    policies: tuple[str, ...]
    service: str = LAMBDA_SERVICE
    description: str = ""
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"IAM role {self.name}"


@dataclass(frozen=True)
class LogGroup:
    name: str
    retention_days: int | None = None
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"log group {self.name}"


@dataclass(frozen=True)
class Function:
    name: str
    role: str
    code: Package
    timeout: int
    memory_size: int = 256
    runtime: str = "python3.12"
    handler: str = "lambda_function.lambda_handler"
    environment: Pairs = ()
    reserved_concurrency: int | None = None
    description: str = ""
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"function {self.name}"


@dataclass(frozen=True)
class StreamSource:
    """The stream a mapping reads: a Kinesis stream by name, or a table's DynamoDB stream."""

    kind: Literal["kinesis", "dynamodb"]
    name: str

    def describe(self) -> str:
        return f"Kinesis stream {self.name}" if self.kind == "kinesis" else f"{self.name} stream"


@dataclass(frozen=True)
class EventSourceMapping:
    function: str
    source: StreamSource
    batch_size: int
    starting_position: Literal["LATEST", "TRIM_HORIZON"]
    maximum_batching_window: int = 0
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False

    @property
    def key(self) -> tuple[str, StreamSource]:
        return (self.function, self.source)

    @property
    def label(self) -> str:
        return f"mapping {self.source.describe()} -> {self.function}"


@dataclass(frozen=True)
class TableItem:
    """One item the lab needs (a ParameterTable setting): key attribute + plain attributes."""

    table: str
    key_name: str
    key_value: str
    attributes: tuple[tuple[str, int | str], ...]

    @property
    def label(self) -> str:
        return f"{self.table} item {self.key_value}"

    def as_dict(self) -> dict[str, int | str]:
        return {self.key_name: self.key_value, **dict(self.attributes)}


@dataclass(frozen=True)
class Stack:
    """Everything one state of the lab consists of."""

    streams: tuple[KinesisStream, ...] = ()
    tables: tuple[Table, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    log_groups: tuple[LogGroup, ...] = ()
    functions: tuple[Function, ...] = ()
    mappings: tuple[EventSourceMapping, ...] = ()
    items: tuple[TableItem, ...] = field(default=())

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)

    def names(self) -> dict[str, tuple[str, ...]]:
        """The names of everything in the stack, by kind (for listings and tests)."""
        return {
            "streams": tuple(s.name for s in self.streams),
            "tables": tuple(t.name for t in self.tables),
            "policies": tuple(p.name for p in self.policies),
            "roles": tuple(r.name for r in self.roles),
            "log_groups": tuple(g.name for g in self.log_groups),
            "functions": tuple(f.name for f in self.functions),
        }


def merge(stacks: Iterable[Stack]) -> Stack:
    """One stack with the resources of all (first occurrence of a name wins)."""

    def unique(items: Iterable[Any], key: Any) -> tuple[Any, ...]:
        seen: dict[Any, Any] = {}
        for item in items:
            seen.setdefault(key(item), item)
        return tuple(seen.values())

    parts = list(stacks)
    return Stack(
        streams=unique((s for p in parts for s in p.streams), lambda s: s.name),
        tables=unique((t for p in parts for t in p.tables), lambda t: t.name),
        policies=unique((x for p in parts for x in p.policies), lambda x: x.name),
        roles=unique((r for p in parts for r in p.roles), lambda r: r.name),
        log_groups=unique((g for p in parts for g in p.log_groups), lambda g: g.name),
        functions=unique((f for p in parts for f in p.functions), lambda f: f.name),
        mappings=unique((m for p in parts for m in p.mappings), lambda m: m.key),
        items=unique((i for p in parts for i in p.items), lambda i: (i.table, i.key_value)),
    )
