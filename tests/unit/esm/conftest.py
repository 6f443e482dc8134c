"""Fixtures for the event source mapping engine: fakes wired into a running engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from labkit.esm import Engine, MemoryCheckpointStore
from labkit.esm.ports import CheckpointStore, SourceKind
from labkit.esm.testing import (
    FUNCTION_ARN,
    FakeClock,
    FakeInvoker,
    FakeStreamSource,
    RecordingDestinations,
)

DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:dlq"


def ok(_event: dict[str, Any]) -> Any:
    """A handler that succeeds."""
    return None


@dataclass
class Harness:
    """A started engine over a fake stream, a fake invoker and recording destinations."""

    clock: FakeClock
    source: FakeStreamSource
    invoker: FakeInvoker
    destinations: RecordingDestinations
    store: CheckpointStore
    engine: Engine
    handler: Callable[[dict[str, Any]], Any] = ok
    mappings: list[str] = field(default_factory=list)
    written: int = 0

    def create(self, **settings: Any) -> str:
        """Create a mapping of ``fn`` to the source; returns its UUID."""
        body = {
            "EventSourceArn": self.source.arn,
            "FunctionName": "fn",
            "StartingPosition": "TRIM_HORIZON",
            **settings,
        }
        uuid = str(self.engine.create(body, self.source)["UUID"])
        self.mappings.append(uuid)
        return uuid

    def put(self, count: int, *, key: str | None = None, **kwargs: Any) -> list[str]:
        """Write ``count`` INSERT records; returns their sequence numbers."""
        sequences = []
        for _ in range(count):
            index = self.written
            self.written += 1
            item_key = key if key is not None else f"item-{index}"
            record = self.source.put(
                {"id": {"S": item_key}},
                new_image={"id": {"S": item_key}, "n": {"N": str(index)}},
                **kwargs,
            )
            sequences.append(record.sequence_number)
        return sequences

    def delivered(self) -> list[str]:
        """Sequence numbers of every record delivered, in invocation order."""
        return [seq for call in self.invoker.snapshot() for seq in call.sequence_numbers]


@pytest.fixture
def make_harness() -> Iterator[Callable[..., Harness]]:
    """Build harnesses (engines are stopped at the end of the test)."""
    engines: list[Engine] = []

    def build(
        *,
        kind: SourceKind = "dynamodb",
        shard_ids: tuple[str, ...] = ("shardId-00000001700000000000-00000001",),
        store: CheckpointStore | None = None,
        clock: FakeClock | None = None,
        source: FakeStreamSource | None = None,
        invoker: FakeInvoker | None = None,
        poll_interval: float = 0.05,
        start: bool = True,
    ) -> Harness:
        clock = clock or FakeClock()
        source = source or FakeStreamSource(kind=kind, clock=clock, shard_ids=shard_ids)
        destinations = RecordingDestinations()
        store = store if store is not None else MemoryCheckpointStore()
        harness: Harness
        invoker = invoker or FakeInvoker(lambda event: harness.handler(event))
        engine = Engine(
            invoker,
            destinations,
            store,
            clock=clock,
            sleep=clock.sleep,
            poll_interval=poll_interval,
        )
        engines.append(engine)
        source.on_write = engine.notify
        harness = Harness(clock, source, invoker, destinations, store, engine)
        if start:
            engine.start()
        return harness

    yield build
    for engine in engines:
        engine.stop(timeout=5)


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    """A started engine over one DynamoDB shard."""
    return make_harness()


__all__ = ["DLQ_ARN", "FUNCTION_ARN", "Harness"]
