"""Mapping lifecycle: pausing, disabling, restarts, shards, starting positions, wait_idle."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labkit.esm import Engine, IdleTimeout, JsonFileCheckpointStore
from labkit.esm.testing import (
    FUNCTION_ARN,
    FakeClock,
    FakeInvoker,
    FakeStreamSource,
    RecordingDestinations,
)

from .conftest import Harness

SHARD_A = "shardId-00000001700000000000-0000000a"
SHARD_B = "shardId-00000001700000000000-0000000b"


def test_reserved_concurrency_zero_pauses_without_losing_records(harness: Harness) -> None:
    """At reserved concurrency 0 nothing runs and wait_idle says why; raising it resumes."""
    harness.invoker.set_reserved_concurrency(FUNCTION_ARN, 0)
    written = harness.put(5)
    uuid = harness.create(MaximumRetryAttempts=0)
    started = time.monotonic()
    with pytest.raises(IdleTimeout) as caught:
        harness.engine.wait_idle(10)
    assert time.monotonic() - started < 5
    assert "reserved concurrency is 0" in str(caught.value)
    assert harness.invoker.calls == []
    assert harness.engine.stats()[uuid]["paused"] is True
    harness.invoker.set_reserved_concurrency(FUNCTION_ARN, None)
    harness.engine.notify_function(FUNCTION_ARN)
    harness.engine.wait_idle(5)
    assert harness.delivered() == written
    assert harness.engine.stats()[uuid]["paused"] is False


def test_reserved_concurrency_one_serialises_shards(
    make_harness: Callable[..., Harness],
) -> None:
    """With reserved concurrency 1 and several shards, one invocation runs at a time."""
    harness = make_harness(shard_ids=(SHARD_A, SHARD_B))
    harness.invoker.set_reserved_concurrency(FUNCTION_ARN, 1)
    release = threading.Event()
    harness.handler = lambda event: release.wait(5) and None
    written = [
        harness.source.put({"id": {"S": s}}, shard_id=s).sequence_number for s in (SHARD_A, SHARD_B)
    ]
    harness.create(MaximumRetryAttempts=0)
    assert harness.invoker.wait_for(lambda inv: inv.throttles >= 2)
    release.set()
    harness.engine.wait_idle(5)
    assert sorted(harness.delivered()) == sorted(written)
    assert harness.invoker.max_concurrency == 1
    assert all(pause <= 0.25 for pause in harness.clock.sleeps)


def test_disable_keeps_the_checkpoint_and_enable_resumes(harness: Harness) -> None:
    """A disabled mapping reads nothing; re-enabled, it resumes after its checkpoint."""
    first = harness.put(3)
    uuid = harness.create()
    harness.engine.wait_idle(5)
    harness.engine.update(uuid, {"Enabled": False})
    second = harness.put(2)
    harness.engine.wait_idle(5)  # disabled mappings do not count
    assert harness.delivered() == first
    assert (
        harness.engine.stats()[uuid]["shards"][harness.source.shards()[0].shard_id]["polling"]
        is False
    )
    harness.engine.update(uuid, {"Enabled": True})
    harness.engine.wait_idle(5)
    assert harness.delivered() == first + second


def test_checkpoints_survive_a_new_engine(
    make_harness: Callable[..., Harness], tmp_path: Path
) -> None:
    """A new engine with the same JSON checkpoint file resumes where the old one stopped."""
    path = tmp_path / "checkpoints.json"
    old = make_harness(store=JsonFileCheckpointStore(path))
    first = old.put(3)
    uuid = old.create()
    old.engine.wait_idle(5)
    config = old.engine.config(uuid)
    old.engine.stop()
    saved = json.loads(path.read_text())
    assert saved == {uuid: {old.source.shards()[0].shard_id: first[-1]}}

    second = old.put(2)
    new = make_harness(
        store=JsonFileCheckpointStore(path), source=old.source, clock=old.clock, start=False
    )
    new.engine.add(config, new.source)
    new.engine.start()
    new.engine.wait_idle(5)
    assert new.delivered() == second
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_a_poisoned_shard_does_not_block_the_others(make_harness: Callable[..., Harness]) -> None:
    """A shard stuck retrying a bad record does not delay another shard's records."""
    clock = FakeClock()
    source = FakeStreamSource(clock=clock, shard_ids=(SHARD_A, SHARD_B), retention_seconds=1e9)
    harness = make_harness(source=source, clock=clock)
    poisoned = {source.put({"id": {"S": "p"}}, shard_id=SHARD_A).sequence_number}
    good = [source.put({"id": {"S": f"g{i}"}}, shard_id=SHARD_B).sequence_number for i in range(3)]
    done: list[str] = []

    def handler(event: dict[str, Any]) -> Any:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        if poisoned & set(sequences):
            raise ValueError("poison")
        done.extend(sequences)
        return None

    harness.handler = handler
    harness.create()
    assert harness.invoker.wait_for(lambda inv: done == good)
    with pytest.raises(IdleTimeout) as caught:
        harness.engine.wait_idle(0.2)
    assert SHARD_A in str(caught.value) and SHARD_B not in str(caught.value)


def test_wait_idle_timeout_names_the_mapping_and_the_lag(harness: Harness) -> None:
    """The IdleTimeout message names the mapping, function, shard, backlog and last error."""
    harness.source.retention_seconds = 1e9

    def failing(_event: dict[str, Any]) -> Any:
        raise ValueError("boom")

    harness.handler = failing
    harness.put(2)
    uuid = harness.create()
    with pytest.raises(IdleTimeout) as caught:
        harness.engine.wait_idle(0.3)
    message = str(caught.value)
    assert f"mapping {uuid}" in message
    assert "function fn" in message
    assert harness.source.shards()[0].shard_id in message
    assert "2 record(s) not yet processed" in message
    assert "ValueError: boom" in message
    assert caught.value.behind[0]["uuid"] == uuid


def test_wait_idle_returns_at_once_when_nothing_is_behind(harness: Harness) -> None:
    """An engine with caught-up mappings is idle."""
    harness.create()
    harness.engine.wait_idle(1)
    harness.put(2)
    harness.engine.wait_idle(5)
    assert len(harness.delivered()) == 2


def test_child_shard_starts_after_its_parent(make_harness: Callable[..., Harness]) -> None:
    """A child shard is read only once its closed parent is fully processed."""
    harness = make_harness(shard_ids=("parent",))
    parent = harness.put(3, shard_id="parent")
    harness.source.close_shard("parent")
    harness.source.add_shard("child", parent="parent")
    child = harness.put(2, shard_id="child")
    attempts = iter([True])

    def handler(_event: dict[str, Any]) -> Any:
        if next(attempts, False):
            raise RuntimeError("first attempt fails")
        return None

    harness.handler = handler
    uuid = harness.create(BatchSize=2)
    harness.engine.wait_idle(5)
    successful = [s for call in harness.invoker.calls[1:] for s in call.sequence_numbers]
    assert successful == parent + child
    assert harness.engine.stats()[uuid]["shards"]["parent"]["finished"] is True


def test_new_shards_are_discovered(harness: Harness) -> None:
    """A shard that appears while the mapping runs is found and read from its start."""
    harness.create()
    harness.source.add_shard("late")
    late = harness.put(2, shard_id="late")
    harness.engine.wait_idle(5)
    assert harness.delivered() == late


def test_latest_skips_records_written_before_the_mapping(harness: Harness) -> None:
    """StartingPosition LATEST delivers only what is written after the mapping is created."""
    harness.put(2)
    harness.create(StartingPosition="LATEST")
    later = harness.put(1)
    harness.engine.wait_idle(5)
    assert harness.delivered() == later


def test_at_timestamp_starts_at_the_timestamp(make_harness: Callable[..., Harness]) -> None:
    """Kinesis AT_TIMESTAMP skips earlier records and still counts as caught up."""
    harness = make_harness(kind="kinesis")
    now = harness.clock()
    harness.source.put_data("k", b"old", arrival=now - 10)
    body = {
        "EventSourceArn": harness.source.arn,
        "FunctionName": "fn",
        "StartingPosition": "AT_TIMESTAMP",
        "StartingPositionTimestamp": now,
    }
    harness.engine.create(body, harness.source)
    harness.engine.wait_idle(5)
    assert harness.invoker.calls == []
    new = harness.source.put_data("k", b"new", arrival=now + 1).sequence_number
    harness.engine.wait_idle(5)
    assert harness.delivered() == [new]


def test_deleted_mapping_stops_delivering(harness: Harness) -> None:
    """After DeleteEventSourceMapping, new records are not delivered."""
    uuid = harness.create()
    harness.engine.remove(uuid)
    harness.put(2)
    harness.engine.wait_idle(1)
    assert harness.invoker.calls == []


def test_stats_report_iterator_age(harness: Harness) -> None:
    """While a batch runs, iterator age is how old the last record read is (in ms)."""
    ages: list[float] = []
    uuid = harness.create()

    def handler(_event: dict[str, Any]) -> Any:
        ages.append(harness.engine.stats()[uuid]["iterator_age_ms"])
        return None

    harness.handler = handler
    harness.put(1, arrival=harness.clock() - 5)
    harness.engine.wait_idle(5)
    assert ages and ages[0] >= 5000
    assert harness.engine.stats()[uuid]["iterator_age_ms"] == 0.0


def test_updates_restart_pollers_with_new_settings(harness: Harness) -> None:
    """Changing BatchSize applies to the batches read after the update."""
    uuid = harness.create(BatchSize=1)
    harness.put(2)
    harness.engine.wait_idle(5)
    harness.engine.update(uuid, {"BatchSize": 10})
    harness.put(3)
    harness.engine.wait_idle(5)
    assert [len(c.records) for c in harness.invoker.calls][-1] == 3


def test_engine_works_with_real_time_defaults() -> None:
    """With the default clock and sleep, a record is delivered within milliseconds."""
    invoker = FakeInvoker(lambda event: None)
    source = FakeStreamSource()
    engine = Engine(invoker, RecordingDestinations(), JsonStoreless())
    source.on_write = engine.notify
    engine.create(
        {"EventSourceArn": source.arn, "FunctionName": "fn", "StartingPosition": "LATEST"}, source
    )
    engine.start()
    try:
        source.put({"id": {"S": "1"}})
        engine.wait_idle(5)
    finally:
        engine.stop()
    assert len(invoker.calls) == 1


class JsonStoreless:
    """A checkpoint store that remembers nothing (the engine must not depend on it)."""

    def load(self, mapping_uuid: str) -> dict[str, str]:
        return {}

    def save(self, mapping_uuid: str, checkpoints: Any) -> None:
        return None


class GatedSource(FakeStreamSource):
    """A source whose shard listing blocks until released (like a busy backend lock)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.proceed = threading.Event()

    def shards(self) -> list[Any]:
        if not self.proceed.is_set():
            self.entered.set()
            self.proceed.wait(5)
        return super().shards()


def test_notify_never_blocks_while_a_mapping_is_being_created() -> None:
    """notify() returns at once even while create() is waiting on the source."""
    source = GatedSource()
    engine = Engine(FakeInvoker(lambda event: None), RecordingDestinations(), JsonStoreless())
    body = {"EventSourceArn": source.arn, "FunctionName": "fn", "StartingPosition": "LATEST"}
    creator = threading.Thread(target=engine.create, args=(body, source))
    creator.start()
    assert source.entered.wait(5)
    notifier = threading.Thread(target=engine.notify, args=(source.arn,))
    notifier.start()
    notifier.join(2)
    blocked = notifier.is_alive()
    source.proceed.set()
    creator.join(5)
    engine.stop()
    assert not blocked


def test_stop_ends_every_engine_thread(make_harness: Callable[..., Harness]) -> None:
    """After stop(), no supervisor, reader or lane thread is left running."""
    harness = make_harness(shard_ids=(SHARD_A, SHARD_B))
    harness.create(ParallelizationFactor=3)
    harness.put(5, shard_id=SHARD_A)
    harness.engine.wait_idle(5)
    assert any(t.name.startswith("esm-") for t in threading.enumerate())
    harness.engine.stop()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("esm-")]
