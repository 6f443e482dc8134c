"""Fakes for testing code that uses the engine: a clock, a stream, an invoker, destinations.

Everything here is deterministic and in memory. Typical use::

    clock = FakeClock()
    source = FakeStreamSource(clock=clock)
    invoker = FakeInvoker(lambda event: None)
    engine = Engine(invoker, RecordingDestinations(), MemoryCheckpointStore(),
                    clock=clock, sleep=clock.sleep)
    source.on_write = engine.notify
    engine.create({"EventSourceArn": source.arn, "FunctionName": "fn",
                   "StartingPosition": "TRIM_HORIZON"}, source)
    engine.start()
    source.put({"id": {"S": "1"}}, new_image={"id": {"S": "1"}})
    engine.wait_idle(5)
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit.esm.ports import (
    InvokeOutcome,
    ShardInfo,
    SourceKind,
    SourceRecord,
    StartPosition,
    Throttled,
)

DDB_STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2024-01-01T00:00:00.000"
)
KINESIS_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/Incoming"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
FIRST_SEQUENCE = 100_000_000_000_000_000_000


class FakeClock:
    """A clock whose ``sleep`` returns at once and moves time forward instead."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        """The current fake time (epoch seconds)."""
        return self()

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and yield to other threads."""
        with self._lock:
            self._now += max(seconds, 0.0)
            self.sleeps.append(seconds)
        time.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += seconds


@dataclass
class _Shard:
    info: ShardInfo
    records: list[SourceRecord] = field(default_factory=list)


def ddb_event(
    *,
    keys: Mapping[str, Any],
    new_image: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
    event_name: str,
    sequence_number: str,
    arrival: float,
    size_bytes: int,
    stream_arn: str,
    view_type: str = "NEW_AND_OLD_IMAGES",
) -> dict[str, Any]:
    """A DynamoDB stream record shaped as Lambda delivers it."""
    body: dict[str, Any] = {"ApproximateCreationDateTime": float(int(arrival)), "Keys": dict(keys)}
    if new_image is not None:
        body["NewImage"] = dict(new_image)
    if old_image is not None:
        body["OldImage"] = dict(old_image)
    body.update(
        {"SequenceNumber": sequence_number, "SizeBytes": size_bytes, "StreamViewType": view_type}
    )
    return {
        "eventID": hashlib.md5(sequence_number.encode()).hexdigest(),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


class FakeStreamSource:
    """An in-memory DynamoDB or Kinesis stream implementing ``StreamSource``.

    ``on_write`` (e.g. ``engine.notify``) is called with the ARN after every write.
    ``fail_reads`` makes the next N reads raise.
    """

    def __init__(
        self,
        arn: str | None = None,
        kind: SourceKind = "dynamodb",
        *,
        clock: Callable[[], float] = time.time,
        shard_ids: Sequence[str] = ("shardId-00000001700000000000-00000001",),
        retention_seconds: float = 24 * 3600.0,
    ) -> None:
        self.arn = arn or (DDB_STREAM_ARN if kind == "dynamodb" else KINESIS_STREAM_ARN)
        self.kind: SourceKind = kind
        self.retention_seconds = retention_seconds
        self.on_write: Callable[[str], None] | None = None
        self.fail_reads = 0
        self.read_calls = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._reads = threading.Condition(self._lock)
        self._shards: dict[str, _Shard] = {}
        self._next = FIRST_SEQUENCE
        for shard_id in shard_ids:
            self.add_shard(shard_id)

    # -- shaping the stream ----------------------------------------------------------------
    def add_shard(self, shard_id: str, parent: str | None = None) -> ShardInfo:
        """Open a new shard (optionally the child of ``parent``)."""
        with self._lock:
            info = ShardInfo(shard_id, parent, str(self._next))
            self._shards[shard_id] = _Shard(info)
        return info

    def close_shard(self, shard_id: str) -> None:
        """Close a shard: no more writes go to it."""
        with self._lock:
            shard = self._shards[shard_id]
            ending = shard.records[-1].sequence_number if shard.records else str(self._next)
            shard.info = ShardInfo(
                shard_id, shard.info.parent_shard_id, shard.info.starting_sequence_number, ending
            )

    def remove_shard(self, shard_id: str) -> None:
        """Forget a shard (as when it is trimmed)."""
        with self._lock:
            del self._shards[shard_id]

    def _open_shard(self, shard_id: str | None) -> _Shard:
        if shard_id is not None:
            return self._shards[shard_id]
        for shard in reversed(list(self._shards.values())):
            if not shard.info.closed:
                return shard
        raise RuntimeError("every shard is closed")

    def _append(
        self, shard_id: str | None, build: Callable[[str, str], SourceRecord]
    ) -> SourceRecord:
        with self._lock:
            shard = self._open_shard(shard_id)
            if shard.info.closed:
                raise RuntimeError(f"shard {shard.info.shard_id} is closed")
            sequence = str(self._next)
            self._next += 100
            record = build(sequence, shard.info.shard_id)
            shard.records.append(record)
        if self.on_write is not None:
            self.on_write(self.arn)
        return record

    # -- writing ---------------------------------------------------------------------------
    def put(
        self,
        keys: Mapping[str, Any],
        *,
        new_image: Mapping[str, Any] | None = None,
        old_image: Mapping[str, Any] | None = None,
        event_name: str = "INSERT",
        shard_id: str | None = None,
        arrival: float | None = None,
        padding: int = 0,
    ) -> SourceRecord:
        """Append a DynamoDB change record (``padding`` bytes of filler make it bigger)."""
        image = dict(new_image) if new_image is not None else None
        if padding and image is not None:
            image["padding"] = {"S": "x" * padding}
        when = self._clock() if arrival is None else arrival
        ordering_key = json.dumps(dict(keys), sort_keys=True, separators=(",", ":"))

        def build(sequence: str, _shard: str) -> SourceRecord:
            size = len(ordering_key) + len(json.dumps(image or {})) + len(json.dumps(old_image))
            event = ddb_event(
                keys=keys,
                new_image=image,
                old_image=old_image,
                event_name=event_name,
                sequence_number=sequence,
                arrival=when,
                size_bytes=size,
                stream_arn=self.arn,
            )
            return SourceRecord(sequence, when, ordering_key, size, event, event)

        return self._append(shard_id, build)

    def put_data(
        self,
        partition_key: str,
        data: bytes | Mapping[str, Any],
        *,
        shard_id: str | None = None,
        arrival: float | None = None,
    ) -> SourceRecord:
        """Append a Kinesis record (a mapping is stored as JSON)."""
        raw = data if isinstance(data, bytes) else json.dumps(dict(data)).encode()
        when = self._clock() if arrival is None else arrival

        def build(sequence: str, shard: str) -> SourceRecord:
            encoded = base64.b64encode(raw).decode()
            event: dict[str, Any] = {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key,
                    "sequenceNumber": sequence,
                    "data": encoded,
                    "approximateArrivalTimestamp": when,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/fn-role",
                "awsRegion": self.arn.split(":")[3],
                "eventSourceARN": self.arn,
            }
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = encoded
            view = {**event, "data": decoded}
            return SourceRecord(sequence, when, partition_key, len(raw), event, view)

        return self._append(shard_id, build)

    # -- StreamSource ----------------------------------------------------------------------
    def shards(self) -> list[ShardInfo]:
        """Every shard, oldest first."""
        with self._lock:
            return [shard.info for shard in self._shards.values()]

    def read(
        self,
        shard_id: str,
        *,
        after: str | None,
        position: StartPosition,
        timestamp: float | None,
        limit: int,
    ) -> list[SourceRecord]:
        """Records strictly after ``after`` (or from ``position``), at most ``limit``."""
        with self._lock:
            self.read_calls += 1
            self._reads.notify_all()
            if self.fail_reads > 0:
                self.fail_reads -= 1
                raise ConnectionError("simulated stream outage")
            records = list(self._shards[shard_id].records)
        if after is not None:
            chosen = [r for r in records if int(r.sequence_number) > int(after)]
        elif position == "LATEST":
            chosen = []
        elif position == "AT_TIMESTAMP":
            chosen = [r for r in records if r.approximate_arrival >= (timestamp or 0.0)]
        else:
            chosen = records
        return chosen[:limit]

    def wait_for_reads(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``read`` has been called at least ``count`` times in all."""
        with self._reads:
            return self._reads.wait_for(lambda: self.read_calls >= count, timeout)

    def latest_sequence_number(self, shard_id: str) -> str | None:
        """The newest record's sequence number, or None for an empty shard."""
        with self._lock:
            records = self._shards[shard_id].records
            return records[-1].sequence_number if records else None

    def records(self, shard_id: str | None = None) -> list[SourceRecord]:
        """Every record written (to one shard, or to all of them in write order)."""
        with self._lock:
            shards = [self._shards[shard_id]] if shard_id else list(self._shards.values())
            found = [record for shard in shards for record in shard.records]
        return sorted(found, key=lambda r: int(r.sequence_number))


@dataclass(frozen=True)
class RawResponse:
    """Return this from a fake handler to send exact response bytes (e.g. invalid JSON)."""

    body: bytes


@dataclass(frozen=True)
class Call:
    """One invocation the fake invoker received."""

    function_arn: str
    payload: bytes
    thread: str

    @property
    def event(self) -> dict[str, Any]:
        """The parsed payload."""
        parsed: dict[str, Any] = json.loads(self.payload)
        return parsed

    @property
    def records(self) -> list[dict[str, Any]]:
        """The ``Records`` of the payload."""
        records: list[dict[str, Any]] = self.event["Records"]
        return records

    @property
    def sequence_numbers(self) -> list[str]:
        """Sequence numbers of the records, in payload order."""
        return [sequence_of(record) for record in self.records]


def sequence_of(record: Mapping[str, Any]) -> str:
    """The sequence number of a delivered DynamoDB or Kinesis record."""
    if "dynamodb" in record:
        return str(record["dynamodb"]["SequenceNumber"])
    return str(record["kinesis"]["sequenceNumber"])


Handler = Callable[[dict[str, Any]], Any]


class FakeInvoker:
    """Runs Python handlers in-process, like the runtime would, with reserved concurrency.

    A handler receives the parsed event. Raising makes a function error (``Unhandled``);
    returning :class:`RawResponse` sends raw bytes; anything else is sent as JSON.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self._default = handler
        self._handlers: dict[str, Handler] = {}
        self._limits: dict[str, int | None] = {}
        self._running: dict[str, int] = {}
        self._cond = threading.Condition()
        self.calls: list[Call] = []
        self.completed = 0
        self.throttles = 0
        self.max_concurrency = 0

    def register(self, function_arn: str, handler: Handler) -> None:
        """Use ``handler`` for one function."""
        self._handlers[function_arn] = handler

    def set_reserved_concurrency(self, function_arn: str, limit: int | None) -> None:
        """PutFunctionConcurrency (None deletes the limit)."""
        with self._cond:
            self._limits[function_arn] = limit

    # -- Invoker ---------------------------------------------------------------------------
    def reserved_concurrency(self, function_arn: str) -> int | None:
        """The function's reserved concurrency, if set."""
        with self._cond:
            return self._limits.get(function_arn)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        """Run the handler synchronously; raise Throttled when the limit is reached."""
        handler = self._handlers.get(function_arn, self._default)
        with self._cond:
            limit = self._limits.get(function_arn)
            running = self._running.get(function_arn, 0)
            if limit is not None and running >= limit:
                self.throttles += 1
                self._cond.notify_all()
                raise Throttled(f"Rate Exceeded. (reserved concurrency {limit})")
            self._running[function_arn] = running + 1
            total = sum(self._running.values())
            self.max_concurrency = max(self.max_concurrency, total)
            self.calls.append(Call(function_arn, payload, threading.current_thread().name))
        request_id = str(uuid.uuid4())
        try:
            if handler is None:
                raise RuntimeError(f"no handler for {function_arn}")
            try:
                result = handler(json.loads(payload))
            except Exception as exc:
                body = {"errorMessage": str(exc), "errorType": type(exc).__name__}
                return InvokeOutcome(
                    200, json.dumps(body).encode(), "Unhandled", "$LATEST", request_id, 1.0
                )
            raw = result.body if isinstance(result, RawResponse) else json.dumps(result).encode()
            return InvokeOutcome(200, raw, None, "$LATEST", request_id, 1.0)
        finally:
            with self._cond:
                self._running[function_arn] -= 1
                self.completed += 1
                self._cond.notify_all()

    # -- inspection ------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[FakeInvoker], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(self)`` holds (checked after each completion or throttle)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def snapshot(self) -> list[Call]:
        """The calls so far."""
        with self._cond:
            return list(self.calls)


class RecordingDestinations:
    """A ``DestinationSender`` that keeps what it is sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(
        self, destination_arn: str, message: Mapping[str, Any], *, function_arn: str = ""
    ) -> None:
        """Keep the message, after checking it is JSON-serialisable (as SQS/SNS need)."""
        json.dumps(message)
        with self._lock:
            self.sent.append((destination_arn, dict(message)))

    def messages(self, destination_arn: str | None = None) -> list[dict[str, Any]]:
        """Messages sent (to one destination, or to any)."""
        with self._lock:
            return [m for arn, m in self.sent if destination_arn in (None, arn)]
