"""Lambda: functions, their log groups and resource-policy permissions, Kinesis streams and the
event source mappings that connect streams to functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..packaging import Package
from .base import Pairs, Tags, Target


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
class LogGroup:
    name: str
    retention_days: int | None = None
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"log group {self.name}"


@dataclass(frozen=True)
class Function:
    """A Lambda function. Environment values may be ARN templates (``${AWS::Region}``…);
    ``layers`` are layer version ARN templates."""

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
    layers: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"function {self.name}"


@dataclass(frozen=True)
class Permission:
    """A statement of a function's resource policy (``lambda add-permission``).

    ``principal`` is a service (``sns.amazonaws.com``, ``s3.amazonaws.com``); ``source_arn``
    and ``source_account`` are templates (``topic_arn_template(...)``, ``ACCOUNT_ID``).
    """

    function: str
    statement_id: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    action: str = "lambda:InvokeFunction"

    @property
    def key(self) -> tuple[str, str]:
        return (self.function, self.statement_id)

    @property
    def label(self) -> str:
        return f"permission {self.statement_id} of {self.function}"


@dataclass(frozen=True)
class StreamSource:
    """The stream a mapping reads: a Kinesis stream by name, or a table's DynamoDB stream."""

    kind: Literal["kinesis", "dynamodb"]
    name: str

    def describe(self) -> str:
        return f"Kinesis stream {self.name}" if self.kind == "kinesis" else f"{self.name} stream"


def filter_pattern(pattern: dict[str, Any]) -> str:
    """A FilterCriteria pattern as the JSON text a mapping stores."""
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class EventSourceMapping:
    """A stream-to-function mapping with every stream option Lambda has.

    -1 means "no limit" for ``maximum_retry_attempts`` and ``maximum_record_age``;
    ``on_failure`` is an SQS or SNS :class:`Target`; ``filters`` are FilterCriteria patterns
    as JSON text (see :func:`filter_pattern`); ``tumbling_window`` is in seconds (0: none).
    """

    function: str
    source: StreamSource
    batch_size: int
    starting_position: Literal["LATEST", "TRIM_HORIZON"]
    maximum_batching_window: int = 0
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False
    maximum_record_age: int = -1
    report_batch_item_failures: bool = False
    on_failure: Target | None = None
    tumbling_window: int = 0
    filters: tuple[str, ...] = ()
    enabled: bool = True

    @property
    def key(self) -> tuple[str, StreamSource]:
        return (self.function, self.source)

    @property
    def label(self) -> str:
        return f"mapping {self.source.describe()} -> {self.function}"
