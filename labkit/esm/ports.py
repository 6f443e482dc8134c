"""The three small interfaces the engine consumes, and the plain data they exchange.

The engine never talks to moto, HTTP or the Lambda runtime directly: the local cloud adapts
those to these protocols, and the tests use the fakes in :mod:`labkit.esm.testing`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

SourceKind = Literal["dynamodb", "kinesis"]
StartPosition = Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"]


@dataclass(frozen=True)
class SourceRecord:
    """One stream record, as read from a shard."""

    sequence_number: str
    """Numeric string, strictly increasing within a shard (compare as int)."""
    approximate_arrival: float
    """Epoch seconds (DynamoDB ApproximateCreationDateTime, Kinesis ApproximateArrivalTimestamp)."""
    ordering_key: str
    """Records with the same key stay in order under ParallelizationFactor."""
    size_bytes: int
    event: Mapping[str, Any]
    """The record exactly as Lambda delivers it inside ``{"Records": [...]}``; JSON-ready."""
    filter_view: Mapping[str, Any]
    """What FilterCriteria patterns are matched against."""


@dataclass(frozen=True)
class ShardInfo:
    """A shard of a stream; ``ending_sequence_number`` is set once the shard is closed."""

    shard_id: str
    parent_shard_id: str | None
    starting_sequence_number: str
    ending_sequence_number: str | None = None

    @property
    def closed(self) -> bool:
        """True when no record will ever be added to this shard again."""
        return self.ending_sequence_number is not None


class StreamSource(Protocol):
    """One per event source ARN. Must be safe to call from several threads at once.

    ``read`` keeps no iterator state between calls: ``after=None`` starts at ``position``,
    otherwise it returns records strictly after the sequence number ``after``.

    A source may also expose ``retention_seconds: float`` (Kinesis retention); the engine
    assumes 24 hours when it is absent.
    """

    arn: str
    kind: SourceKind

    def shards(self) -> Sequence[ShardInfo]: ...

    def read(
        self,
        shard_id: str,
        *,
        after: str | None,
        position: StartPosition,
        timestamp: float | None,
        limit: int,
    ) -> Sequence[SourceRecord]: ...

    def latest_sequence_number(self, shard_id: str) -> str | None: ...


@dataclass(frozen=True)
class InvokeOutcome:
    """The result of one synchronous invocation."""

    status_code: int
    payload: bytes
    function_error: str | None
    executed_version: str
    request_id: str
    duration_ms: float


class Throttled(Exception):
    """Raised by an invoker when the function's concurrency is exhausted."""


class Invoker(Protocol):
    """Runs a function synchronously (RequestResponse)."""

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome: ...

    def reserved_concurrency(self, function_arn: str) -> int | None: ...


class DestinationSender(Protocol):
    """Delivers an on-failure record: SQS SendMessage or SNS Publish of ``json.dumps(message)``,
    on behalf of ``function_arn`` (whose role must allow it); raises if it cannot."""

    def send(
        self, destination_arn: str, message: Mapping[str, Any], *, function_arn: str
    ) -> None: ...


class CheckpointStore(Protocol):
    """Keeps, per mapping, the last processed sequence number of each shard."""

    def load(self, mapping_uuid: str) -> dict[str, str]: ...

    def save(self, mapping_uuid: str, checkpoints: Mapping[str, str]) -> None: ...
