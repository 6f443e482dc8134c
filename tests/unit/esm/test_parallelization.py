"""ParallelizationFactor: concurrent batches per shard, per-key order, safe checkpoints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from labkit.esm import Engine, MemoryCheckpointStore
from labkit.esm.shard import lane_of
from labkit.esm.testing import FakeClock, FakeInvoker, FakeStreamSource, RecordingDestinations

from .conftest import Harness


def keys_in_different_lanes(lanes: int) -> tuple[str, str]:
    """Two item keys (as ordering keys) that hash to different lanes."""
    first = '{"id":{"S":"a"}}'
    for index in range(100):
        key = f"k{index}"
        if lane_of(f'{{"id":{{"S":"{key}"}}}}', lanes) != lane_of(first, lanes):
            return "a", key
    raise AssertionError("no second lane found")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    keys=st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=60),
    factor=st.integers(min_value=1, max_value=10),
    batch_size=st.integers(min_value=1, max_value=8),
    failing=st.sets(st.integers(min_value=0, max_value=59), max_size=6),
)
@example(keys=list("abcdefgh" * 5), factor=10, batch_size=3, failing={1, 9, 17})
def test_records_of_one_key_are_processed_in_order(
    keys: list[str], factor: int, batch_size: int, failing: set[int]
) -> None:
    """Whatever the factor, batch size and failures, each key's records succeed in order."""
    clock = FakeClock()
    source = FakeStreamSource(clock=clock)
    lock = threading.Lock()
    successes: list[list[str]] = []
    failed_once: set[str] = set()
    bad: set[str] = set()

    def handler(event: dict[str, Any]) -> Any:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        with lock:
            fresh = [s for s in sequences if s in bad and s not in failed_once]
            if fresh:
                failed_once.update(fresh)
                raise RuntimeError("first attempt fails")
            successes.append(sequences)
        return None

    invoker = FakeInvoker(handler)
    engine = Engine(
        invoker,
        RecordingDestinations(),
        MemoryCheckpointStore(),
        clock=clock,
        sleep=clock.sleep,
        poll_interval=0.05,
    )
    source.on_write = engine.notify
    written: dict[str, list[str]] = {}
    for index, key in enumerate(keys):
        record = source.put({"id": {"S": key}}, new_image={"id": {"S": key}})
        written.setdefault(key, []).append(record.sequence_number)
        if index in failing:
            bad.add(record.sequence_number)
    engine.create(
        {
            "EventSourceArn": source.arn,
            "FunctionName": "fn",
            "StartingPosition": "TRIM_HORIZON",
            "ParallelizationFactor": factor,
            "BatchSize": batch_size,
        },
        source,
    )
    engine.start()
    try:
        engine.wait_idle(10)
    finally:
        engine.stop()
    key_of = {seq: key for key, seqs in written.items() for seq in seqs}
    seen: dict[str, list[str]] = {}
    for batch in successes:
        for seq in batch:
            seen.setdefault(key_of[seq], []).append(seq)
    assert seen == written


def test_lanes_run_concurrently(make_harness: Callable[..., Harness]) -> None:
    """With ParallelizationFactor 2, two batches of one shard are in the function at once."""
    harness = make_harness()
    barrier = threading.Barrier(2, timeout=5)

    def handler(event: dict[str, Any]) -> Any:
        barrier.wait()
        return None

    harness.handler = handler
    first, second = keys_in_different_lanes(2)
    harness.put(1, key=first)
    harness.put(1, key=second)
    harness.create(ParallelizationFactor=2)
    harness.engine.wait_idle(5)
    assert harness.invoker.max_concurrency == 2
    assert len(harness.invoker.calls) == 2


def test_a_fast_lane_does_not_move_the_checkpoint_past_a_slow_one(harness: Harness) -> None:
    """The checkpoint stays below a record still in flight in another lane."""
    slow_key, fast_key = keys_in_different_lanes(2)
    release = threading.Event()

    def handler(event: dict[str, Any]) -> Any:
        if event["Records"][0]["dynamodb"]["Keys"]["id"]["S"] == slow_key:
            assert release.wait(5)
        return None

    harness.handler = handler
    [slow] = harness.put(1, key=slow_key)
    fast = harness.put(2, key=fast_key)
    uuid = harness.create(ParallelizationFactor=2)
    shard_id = harness.source.shards()[0].shard_id
    assert harness.invoker.wait_for(lambda inv: inv.completed >= 1)
    assert harness.engine.stats()[uuid]["shards"][shard_id]["checkpoint"] is None
    release.set()
    harness.engine.wait_idle(5)
    assert harness.engine.stats()[uuid]["shards"][shard_id]["checkpoint"] == fast[-1] > slow
