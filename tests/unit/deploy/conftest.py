"""Fakes for the deploy layer: a state reader from plain dicts, and scripted boto3 clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.deploy.packaging import Package
from labkit.deploy.resources import (
    Environment,
    EventSourceMapping,
    Function,
    KinesisStream,
    ManagedPolicy,
    PolicyDocument,
    Role,
    Stack,
    Statement,
    StreamSource,
    StreamView,
    Table,
    TableItem,
    table_arn_template,
)
from labkit.deploy.state import (
    BucketState,
    FunctionState,
    IndexState,
    KinesisStreamState,
    LogGroupState,
    MappingState,
    NotificationState,
    ObjectVersion,
    PermissionState,
    PolicyState,
    QueueState,
    RoleState,
    SubscriptionState,
    TableState,
    TopicState,
    normalise_policy,
)

ENV = Environment("aws", "us-east-1", "123456789012")
TAGS = (("labkit:lab", "core"),)


@dataclass
class FakeReader:
    """A :class:`StateReader` over dicts; tests put what "exists" into them."""

    tables: dict[str, TableState] = field(default_factory=dict)
    streams: dict[str, KinesisStreamState] = field(default_factory=dict)
    roles: dict[str, RoleState] = field(default_factory=dict)
    policies: dict[str, PolicyState] = field(default_factory=dict)
    functions: dict[str, FunctionState] = field(default_factory=dict)
    function_mappings: dict[str, tuple[MappingState, ...]] = field(default_factory=dict)
    log_groups: dict[str, LogGroupState] = field(default_factory=dict)
    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    function_permissions: dict[str, list[PermissionState]] = field(default_factory=dict)
    queues: dict[str, QueueState] = field(default_factory=dict)
    topics: dict[str, TopicState] = field(default_factory=dict)
    buckets: dict[str, BucketState] = field(default_factory=dict)
    objects: dict[str, tuple[ObjectVersion, ...]] = field(default_factory=dict)

    @property
    def environment(self) -> Environment:
        return ENV

    def table(self, name: str) -> TableState | None:
        return self.tables.get(name)

    def kinesis_stream(self, name: str) -> KinesisStreamState | None:
        return self.streams.get(name)

    def role(self, name: str) -> RoleState | None:
        return self.roles.get(name)

    def policy(self, name: str) -> PolicyState | None:
        return self.policies.get(name)

    def function(self, name: str) -> FunctionState | None:
        return self.functions.get(name)

    def mappings(self, function_name: str) -> tuple[MappingState, ...]:
        return self.function_mappings.get(function_name, ())

    def log_group(self, name: str) -> LogGroupState | None:
        return self.log_groups.get(name)

    def item(self, table: str, key_name: str, key_value: str) -> Mapping[str, Any] | None:
        return self.items.get((table, key_value))

    def permissions(self, function_name: str) -> tuple[PermissionState, ...]:
        return tuple(self.function_permissions.get(function_name, ()))

    def queue(self, name: str) -> QueueState | None:
        return self.queues.get(name)

    def topic(self, name: str) -> TopicState | None:
        return self.topics.get(name)

    def bucket(self, name: str) -> BucketState | None:
        return self.buckets.get(name)

    def bucket_objects(self, name: str) -> tuple[ObjectVersion, ...]:
        return self.objects.get(name, ())


def small_stack(*, code: bytes = b"print('v1')\n", batch: int = 100) -> Stack:
    """A stack with one of everything: stream, table with stream, policy, role, function,
    a mapping from the table's stream and an item."""
    package = Package.build("fn:v1", {"lambda_function.py": code})
    return Stack(
        streams=(KinesisStream("Incoming", 2, tags=TAGS, kms_key="alias/aws/kinesis"),),
        tables=(
            Table("Items", "id", StreamView.NEW_IMAGE, TAGS),
            Table("Settings", "parameter", None, TAGS),
        ),
        policies=(
            ManagedPolicy(
                "FnPolicy",
                PolicyDocument(
                    (Statement("Write", ("dynamodb:PutItem",), (table_arn_template("Items"),)),)
                ),
                tags=TAGS,
            ),
        ),
        roles=(Role("FnRole", ("FnPolicy",), tags=TAGS),),
        functions=(Function("Fn", "FnRole", package, timeout=30, tags=TAGS),),
        mappings=(
            EventSourceMapping("Fn", StreamSource("dynamodb", "Items"), batch, "TRIM_HORIZON"),
        ),
        items=(TableItem("Settings", "parameter", "RATE", (("value", 5),)),),
    )


STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Items/stream/2024-01-01T00:00:00.000"


def reader_for(stack: Stack) -> FakeReader:
    """A reader that sees ``stack`` exactly as the planner would create it."""
    reader = FakeReader()
    for stream in stack.streams:
        arn = ENV.kinesis_stream_arn(stream.name)
        reader.streams[stream.name] = KinesisStreamState(
            stream.name,
            arn,
            stream.shard_count,
            "ACTIVE",
            dict(stream.tags),
            "KMS" if stream.kms_key else "NONE",
        )
    for table in stack.tables:
        view = str(table.stream_view) if table.stream_view else None
        reader.tables[table.name] = TableState(
            table.name,
            f"arn:aws:dynamodb:us-east-1:123456789012:table/{table.name}",
            table.partition_key,
            view,
            STREAM_ARN.replace("Items", table.name) if view else None,
            "ACTIVE",
            table.billing_mode,
            dict(table.tags),
            sort_key=table.sort_key,
            attribute_types={
                a["AttributeName"]: a["AttributeType"] for a in table.attribute_definitions()
            },
            capacity=table.capacity,
            indexes=tuple(
                IndexState(
                    i.name,
                    i.partition_key,
                    i.sort_key,
                    i.projection,
                    i.non_key_attributes,
                    table.index_capacity(i),
                )
                for i in table.indexes
            ),
        )
    for policy in stack.policies:
        reader.policies[policy.name] = PolicyState(
            policy.name,
            ENV.policy_arn(policy.name),
            policy.document.to_dict(ENV),
            "v1",
            (),
            tuple(r.name for r in stack.roles if policy.name in r.policies),
            tags=dict(policy.tags),
        )
    for role in stack.roles:
        reader.roles[role.name] = RoleState(
            role.name,
            ENV.role_arn(role.name),
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": role.service},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            (
                *(ENV.policy_arn(p) for p in role.policies),
                *(ENV.fill(a) for a in role.managed_arns),
            ),
            tuple(p.name for p in role.inline),
            dict(role.tags),
            {p.name: p.document.to_dict(ENV) for p in role.inline},
        )
    for group in stack.log_groups:
        reader.log_groups[group.name] = LogGroupState(group.name, group.retention_days)
    for function in stack.functions:
        reader.functions[function.name] = FunctionState(
            function.name,
            ENV.function_arn(function.name),
            function.code.sha256,
            ENV.role_arn(function.role),
            function.handler,
            function.runtime,
            function.timeout,
            function.memory_size,
            {k: ENV.fill(v) for k, v in function.environment},
            function.reserved_concurrency,
            tags=dict(function.tags),
            layers=tuple(ENV.fill(layer) for layer in function.layers),
        )
    by_function: dict[str, list[MappingState]] = {}
    for number, mapping in enumerate(stack.mappings):
        source = (
            ENV.kinesis_stream_arn(mapping.source.name)
            if mapping.source.kind == "kinesis"
            else STREAM_ARN.replace("Items", mapping.source.name)
        )
        by_function.setdefault(mapping.function, []).append(
            MappingState(
                f"uuid-{number}",
                ENV.function_arn(mapping.function),
                source,
                "Enabled" if mapping.enabled else "Disabled",
                mapping.batch_size,
                mapping.maximum_batching_window,
                mapping.parallelization_factor,
                mapping.maximum_retry_attempts,
                mapping.bisect_on_error,
                mapping.starting_position,
                mapping.maximum_record_age,
                ("ReportBatchItemFailures",) if mapping.report_batch_item_failures else (),
                mapping.on_failure.arn(ENV) if mapping.on_failure else None,
                mapping.tumbling_window,
                mapping.filters,
            )
        )
    reader.function_mappings = {k: tuple(v) for k, v in by_function.items()}
    for item in stack.items:
        reader.items[(item.table, item.key_value)] = item.as_dict()
    _messaging_state(reader, stack)
    return reader


def _messaging_state(reader: FakeReader, stack: Stack) -> None:
    """Queues, topics (with subscriptions), buckets and permissions as the planner makes them."""
    for permission in stack.permissions:
        reader.function_permissions.setdefault(permission.function, []).append(
            PermissionState(
                permission.statement_id,
                permission.principal,
                permission.action,
                ENV.fill(permission.source_arn) if permission.source_arn else None,
                ENV.fill(permission.source_account) if permission.source_account else None,
            )
        )
    for queue in stack.queues:
        attributes = {"QueueArn": ENV.queue_arn(queue.name)}
        if queue.visibility_timeout is not None:
            attributes["VisibilityTimeout"] = str(queue.visibility_timeout)
        if queue.message_retention is not None:
            attributes["MessageRetentionPeriod"] = str(queue.message_retention)
        if queue.policy is not None:
            attributes["Policy"] = json.dumps(queue.policy.to_dict(ENV))
        reader.queues[queue.name] = QueueState(
            queue.name,
            f"https://sqs.us-east-1.amazonaws.com/123456789012/{queue.name}",
            ENV.queue_arn(queue.name),
            attributes,
            dict(queue.tags),
        )
    for topic in stack.topics:
        reader.topics[topic.name] = TopicState(
            topic.name,
            ENV.topic_arn(topic.name),
            normalise_policy(topic.policy.to_dict(ENV)) if topic.policy else None,
            tuple(
                SubscriptionState(
                    f"{ENV.topic_arn(topic.name)}:sub-{n}", s.protocol, s.target.arn(ENV)
                )
                for n, s in enumerate(stack.subscriptions)
                if s.topic == topic.name
            ),
            dict(topic.tags),
        )
    for bucket in stack.buckets:
        reader.buckets[bucket.name] = BucketState(
            bucket.name,
            "Enabled" if bucket.versioning else None,
            tuple(
                NotificationState(
                    n.id,
                    n.target.kind,
                    n.target.arn(ENV),
                    tuple(sorted(n.events)),
                    n.prefix,
                    n.suffix,
                )
                for n in bucket.notifications
            ),
            dict(bucket.tags),
        )


def client_error(code: str, message: str = "", operation: str = "Operation") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


Script = Callable[..., Any]


class FakeClients:
    """``client(service)`` returning objects whose methods follow a script.

    ``script[(service, operation)]`` is a list of responses (or exceptions, raised) used in
    turn; the last one repeats. Unscripted calls answer ``{}``. Every call is recorded.
    """

    def __init__(self, script: dict[tuple[str, str], list[Any]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, service: str) -> Any:
        clients = self

        class _Client:
            def __getattr__(self, operation: str) -> Script:
                def call(**params: Any) -> Any:
                    clients.calls.append((service, operation, params))
                    answers = clients.script.get((service, operation))
                    if not answers:
                        return {}
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                    if isinstance(answer, BaseException):
                        raise answer
                    return answer

                return call

        return _Client()

    def operations(self) -> list[str]:
        return [f"{service}.{operation}" for service, operation, _ in self.calls]


@pytest.fixture
def fake_clients() -> FakeClients:
    """Scripted boto3 clients that record every call."""
    return FakeClients()
