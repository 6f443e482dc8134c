"""Tumbling windows: state carried between invocations, final and early-termination flags."""

from __future__ import annotations

import math
from typing import Any

from labkit.esm.timefmt import iso_seconds

from .conftest import Harness


def counting(event: dict[str, Any]) -> Any:
    """Counts records per window in the state."""
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(event["Records"])
    return {"state": state}


def test_state_travels_through_a_window_and_the_final_invoke(harness: Harness) -> None:
    """Invocations of a window see the previous state; a final invoke closes each window."""
    size = 60
    start = math.floor(harness.clock() / size) * size
    harness.handler = counting
    first_window = [harness.put(1, arrival=start + offset)[0] for offset in (1, 2, 3)]
    later = harness.put(1, arrival=start + size + 1)
    harness.create(TumblingWindowInSeconds=size, BatchSize=2)
    harness.engine.wait_idle(5)
    events = [call.event for call in harness.invoker.calls]
    assert [len(e["Records"]) for e in events] == [2, 1, 0, 1]
    assert [e["state"] for e in events] == [{}, {"count": 2}, {"count": 3}, {}]
    assert [e["isFinalInvokeForWindow"] for e in events] == [False, False, True, False]
    assert not any(e["isWindowTerminatedEarly"] for e in events)
    assert events[0]["window"] == {"start": iso_seconds(start), "end": iso_seconds(start + size)}
    assert events[3]["window"]["start"] == iso_seconds(start + size)
    assert events[0]["shardId"] == harness.source.shards()[0].shard_id
    assert events[0]["eventSourceARN"] == harness.source.arn
    delivered = [s for call in harness.invoker.calls for s in call.sequence_numbers]
    assert delivered == first_window + later

    # The second window closes when its time is over: a final invoke with its state.
    harness.clock.advance(start + 2 * size - harness.clock() + 1)
    harness.engine.notify(harness.source.arn)
    assert harness.invoker.wait_for(lambda inv: len(inv.calls) == 5)
    final = harness.invoker.calls[4].event
    assert (final["Records"], final["state"], final["isFinalInvokeForWindow"]) == (
        [],
        {"count": 1},
        True,
    )


def test_a_response_without_state_is_a_failure(harness: Harness) -> None:
    """A tumbling-window function that returns no state has failed; the batch is retried."""
    responses = iter([None])
    harness.handler = lambda event: next(responses, {"state": {}})
    harness.put(2)
    uuid = harness.create(TumblingWindowInSeconds=300)
    harness.engine.wait_idle(5)
    first, second = harness.invoker.calls[:2]
    assert first.payload == second.payload
    recent = harness.engine.stats()[uuid]["recent"]
    assert (recent[0]["outcome"], recent[0]["error_type"]) == ("error", "InvalidResponse")


def test_state_over_one_megabyte_ends_the_window_early(harness: Harness) -> None:
    """State above 1 MB triggers a final invoke flagged isWindowTerminatedEarly, then resets."""
    big = {"blob": "x" * (1024 * 1024 + 1)}
    responses = iter([{"state": big}])
    harness.handler = lambda event: next(responses, {"state": {"small": True}})
    harness.put(2)
    harness.create(TumblingWindowInSeconds=900, BatchSize=1)
    harness.engine.wait_idle(5)
    events = [call.event for call in harness.invoker.calls]
    assert [len(e["Records"]) for e in events] == [1, 0, 1]
    early = events[1]
    assert early["isFinalInvokeForWindow"] and early["isWindowTerminatedEarly"]
    assert early["state"] == big
    assert events[2]["state"] == {}
    assert events[2]["window"] == events[0]["window"]
