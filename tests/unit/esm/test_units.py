"""The engine's small parts: checkpoint tracking, payloads, stores, time formats, signals."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from labkit.esm import JsonFileCheckpointStore, MemoryCheckpointStore
from labkit.esm.history import History, InvocationRecord
from labkit.esm.payload import MAX_PAYLOAD_BYTES, WindowInfo, build, dumps, fitting_count, overhead
from labkit.esm.shard import lane_of
from labkit.esm.signal import Signal
from labkit.esm.timefmt import iso_millis, iso_seconds
from labkit.esm.timing import default_retry_delay, default_throttle_delay
from labkit.esm.tracker import CheckpointTracker


def test_tracker_checkpoint_only_covers_contiguous_completions() -> None:
    """The checkpoint moves to the highest record below which everything is done."""
    tracker = CheckpointTracker("10")
    tracker.add(["20", "30", "40"])
    assert tracker.complete(["30"]) is None
    assert tracker.checkpoint == "10"
    assert tracker.complete(["20"]) == "30"
    assert tracker.pending == 1
    assert tracker.complete(["40"]) == "40"
    assert tracker.pending == 0


def test_payload_is_the_fragments_inside_a_fixed_frame() -> None:
    """A payload is valid JSON, deterministic, and its size is known from its parts."""
    fragments = [dumps({"a": 1}), dumps({"b": "é"})]
    body = build(fragments)
    assert json.loads(body) == {"Records": [{"a": 1}, {"b": "é"}]}
    assert body == build(fragments)
    assert len(body) == overhead() + sum(map(len, fragments)) + len(fragments) - 1


def test_window_payload_carries_window_members_in_order() -> None:
    """A tumbling-window payload has window, state, shardId, ARN and both flags."""
    info = WindowInfo(0.0, 60.0, {"n": 1}, "shard-1", "arn:x", is_final=True)
    body = build([], info)
    assert list(json.loads(body)) == [
        "Records",
        "window",
        "state",
        "shardId",
        "eventSourceARN",
        "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    ]
    assert json.loads(body)["window"] == {
        "start": "1970-01-01T00:00:00Z",
        "end": "1970-01-01T00:01:00Z",
    }
    assert len(body) == overhead(info)


def test_fitting_count_respects_count_and_bytes() -> None:
    """Records are taken while both the batch size and the 6 MB limit allow."""
    assert fitting_count([10] * 5, max_count=3, fixed=12) == 3
    assert fitting_count([MAX_PAYLOAD_BYTES // 2] * 3, max_count=10, fixed=14) == 1
    assert fitting_count([MAX_PAYLOAD_BYTES * 2], max_count=10, fixed=14) == 1


def test_memory_store_round_trips() -> None:
    """The in-memory store returns copies of what was saved."""
    store = MemoryCheckpointStore()
    store.save("m", {"s": "1"})
    loaded = store.load("m")
    loaded["s"] = "2"
    assert store.load("m") == {"s": "1"}
    assert store.load("other") == {}


def test_json_store_writes_atomically_and_reloads(tmp_path: Path) -> None:
    """The JSON store rewrites one file via a temporary file and a fresh store reads it."""
    path = tmp_path / "nested" / "checkpoints.json"
    store = JsonFileCheckpointStore(path)
    store.save("m1", {"s": "100"})
    store.save("m2", {"s": "7"})
    store.forget("m2")
    assert JsonFileCheckpointStore(path).load("m1") == {"s": "100"}
    assert JsonFileCheckpointStore(path).load("m2") == {}
    assert [p.name for p in path.parent.iterdir()] == ["checkpoints.json"]


def test_json_store_tolerates_a_corrupt_file(tmp_path: Path) -> None:
    """A corrupt checkpoint file is treated as empty rather than crashing the cloud."""
    path = tmp_path / "checkpoints.json"
    path.write_text("{half")
    assert JsonFileCheckpointStore(path).load("m") == {}


def test_time_formats() -> None:
    """Seconds and milliseconds renderings end in Z, as AWS writes them."""
    assert iso_seconds(1573690399.9) == "2019-11-14T00:13:19Z"
    assert iso_millis(1573690429.717) == "2019-11-14T00:13:49.717Z"


def test_delays_are_short_and_bounded() -> None:
    """Retry pauses stay within 1 s and throttle pauses within 0.25 s, even after many tries."""
    assert default_retry_delay(1) == 0.1
    assert max(default_retry_delay(n) for n in range(1, 5000)) == 1.0
    assert max(default_throttle_delay(n) for n in range(1, 5000)) == 0.25


def test_lane_assignment_is_stable() -> None:
    """A key always maps to the same lane, in every process (no salted hash)."""
    assert lane_of("key", 1) == 0
    assert lane_of("key", 7) == lane_of("key", 7)
    assert {lane_of(f"k{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def test_signal_does_not_lose_a_wake_up() -> None:
    """A fire between taking a token and waiting still wakes the waiter at once."""
    signal = Signal()
    token = signal.token()
    threading.Thread(target=signal.fire).start()
    assert signal.wait(token, 5.0) != token or signal.wait(token, 5.0) != token


def test_history_is_bounded() -> None:
    """The ring buffer keeps only the most recent records."""
    history = History(size=3)
    for index in range(5):
        history.append(InvocationRecord(float(index), "s", 1, "1", "1", 1.0, "ok", 0, False))
    assert [entry.time for entry in history.snapshot()] == [2.0, 3.0, 4.0]
