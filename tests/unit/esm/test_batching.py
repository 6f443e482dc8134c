"""Batching: BatchSize, reads of at most 1,000 records, batching window, 6 MB payloads."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from labkit.esm import IdleTimeout
from labkit.esm.payload import MAX_PAYLOAD_BYTES

from .conftest import Harness


def test_batches_hold_at_most_batch_size_records(harness: Harness) -> None:
    """25 waiting records with BatchSize 10 arrive as batches of 10, 10 and 5, in order."""
    written = harness.put(25)
    harness.create(BatchSize=10)
    harness.engine.wait_idle(5)
    assert [len(call.records) for call in harness.invoker.calls] == [10, 10, 5]
    assert harness.delivered() == written


def test_big_batches_are_filled_from_several_reads(harness: Harness) -> None:
    """BatchSize 2500 is filled by reading 1,000 records at a time into one invocation."""
    written = harness.put(2500)
    harness.create(BatchSize=2500)
    harness.engine.wait_idle(10)
    assert [len(call.records) for call in harness.invoker.calls] == [2500]
    assert harness.delivered() == written
    assert harness.source.read_calls >= 3


def test_batching_window_waits_for_more_records(harness: Harness) -> None:
    """With a 10 s window and room in the batch, nothing is invoked until the window ends."""
    harness.create(BatchSize=100, MaximumBatchingWindowInSeconds=10)
    harness.put(3)
    with pytest.raises(IdleTimeout):
        harness.engine.wait_idle(0.3)
    assert harness.invoker.calls == []
    harness.clock.advance(10)
    harness.engine.notify(harness.source.arn)
    harness.engine.wait_idle(5)
    assert [len(call.records) for call in harness.invoker.calls] == [3]


def test_full_batch_does_not_wait_for_the_window(harness: Harness) -> None:
    """A full batch is invoked at once even with a 300 s batching window."""
    harness.create(BatchSize=5, MaximumBatchingWindowInSeconds=300)
    harness.put(5)
    harness.engine.wait_idle(5)
    assert [len(call.records) for call in harness.invoker.calls] == [5]


def test_payload_is_split_to_stay_under_six_megabytes(harness: Harness) -> None:
    """Records of 1 MiB each are split into batches whose payload is at most 6,291,456 bytes."""
    written = harness.put(10, padding=1024 * 1024)
    harness.create(BatchSize=100)
    harness.engine.wait_idle(10)
    sizes = [len(call.payload) for call in harness.invoker.calls]
    assert all(size <= MAX_PAYLOAD_BYTES for size in sizes)
    assert [len(call.records) for call in harness.invoker.calls] == [5, 5]
    assert harness.delivered() == written


def test_a_write_wakes_the_poller_immediately(make_harness: Callable[..., Harness]) -> None:
    """notify() wakes an idle poller: a record is handled long before a 5 s poll interval."""
    harness = make_harness(poll_interval=5.0)
    harness.create()
    assert harness.source.wait_for_reads(1)  # the poller has found the shard empty
    reads = harness.source.read_calls
    started = time.monotonic()
    harness.put(1)
    harness.engine.wait_idle(4)
    assert time.monotonic() - started < 1.0
    assert len(harness.delivered()) == 1
    assert harness.source.read_calls <= reads + 2


def test_an_idle_poller_keeps_polling_without_notifications(harness: Harness) -> None:
    """Without notify(), an idle poller still finds new records within its poll interval."""
    harness.source.on_write = None
    harness.create()
    harness.put(2)
    harness.engine.wait_idle(2)
    assert len(harness.delivered()) == 2
