"""What exists now, as plain data, and the :class:`StateReader` protocol the planner reads it
through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from ..resources import Environment, Throughput


@dataclass(frozen=True)
class IndexState:
    name: str
    partition_key: str | None
    sort_key: str | None
    projection: str
    non_key_attributes: tuple[str, ...] = ()
    capacity: Throughput | None = None
    status: str = "ACTIVE"


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
    sort_key: str | None = None
    attribute_types: Mapping[str, str] = field(default_factory=dict)
    capacity: Throughput | None = None  # None when on-demand
    indexes: tuple[IndexState, ...] = ()

    def index(self, name: str) -> IndexState | None:
        return next((i for i in self.indexes if i.name == name), None)


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
    inline_documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


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
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PermissionState:
    """One statement of a function's resource policy."""

    statement_id: str
    principal: str
    action: str
    source_arn: str | None = None
    source_account: str | None = None


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
    maximum_record_age: int = -1
    function_response_types: tuple[str, ...] = ()
    on_failure: str | None = None
    tumbling_window: int = 0
    filters: tuple[str, ...] = ()

    @property
    def function_name(self) -> str:
        return self.function_arn.split(":")[6] if self.function_arn.count(":") >= 6 else ""


@dataclass(frozen=True)
class LogGroupState:
    name: str
    retention_days: int | None


@dataclass(frozen=True)
class QueueState:
    name: str
    url: str
    arn: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionState:
    arn: str
    protocol: str
    endpoint: str


@dataclass(frozen=True)
class TopicState:
    name: str
    arn: str
    policy: Mapping[str, Any] | None = None
    subscriptions: tuple[SubscriptionState, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationState:
    """One entry of a bucket's notification configuration (``kind``: sns, sqs, lambda)."""

    id: str
    kind: str
    arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class BucketState:
    name: str
    versioning: str | None = None  # "Enabled", "Suspended", or None (never enabled)
    notifications: tuple[NotificationState, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectVersion:
    """An object (or, in a versioned bucket, one version or delete marker of it)."""

    key: str
    version_id: str | None = None


class StateReader(Protocol):
    """Everything the planner needs to know about what exists.

    The planner asks about queues, topics, buckets and permissions only when a stack has
    them, so a reader for stacks without them may leave those methods out.
    """

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

    def permissions(self, function_name: str) -> tuple[PermissionState, ...]: ...

    def queue(self, name: str) -> QueueState | None: ...

    def topic(self, name: str) -> TopicState | None: ...

    def bucket(self, name: str) -> BucketState | None: ...

    def bucket_objects(self, name: str) -> tuple[ObjectVersion, ...]: ...


def _sorted_values(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return sorted(value, key=str)
    return value


def normalise_policy(document: Any) -> dict[str, Any]:
    """A policy document in a form that compares equal when AWS would treat it the same.

    Single values and one-element lists compare equal, lists compare in any order, in
    actions, resources, principals and condition values; an ``Id`` is ignored.
    """
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
                item[key] = _sorted_values(item[key])
        principal = item.get("Principal")
        if principal == "*":
            principal = {"AWS": "*"}
        if isinstance(principal, dict):
            item["Principal"] = {k: _sorted_values(v) for k, v in principal.items()}
        condition = item.get("Condition")
        if isinstance(condition, dict):
            item["Condition"] = {
                test: {k: _sorted_values(v) for k, v in block.items()}
                if isinstance(block, dict)
                else block
                for test, block in condition.items()
            }
        out.append(item)
    return {"Version": document.get("Version", "2008-10-17"), "Statement": out}
