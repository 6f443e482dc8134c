"""The room's state derived from events: cells, where each participant is, stuck, the room."""

from __future__ import annotations

from typing import Any

from labkit.instructor.state import RoomState
from labkit.instructor.store import Event, Participant

STEPS = (("s1", "one"), ("s2", "two"), ("s3", "three"))


def _room() -> RoomState:
    state = RoomState(STEPS)
    state.add_participant(Participant(1, "ana", "h1", 100.0, 100.0))
    state.add_participant(Participant(2, "bo", "h2", 100.0, 100.0))
    return state


def _check(pid: int, step: str, at: float, *failing: str) -> Event:
    items: list[dict[str, Any]] = [
        {"label": label, "status": "fail", "code": label} for label in failing
    ] or [{"label": "fine", "status": "pass", "code": ""}]
    return Event(pid, f"{pid}-{at}", "check", step, at, {"passed": not failing, "items": items})


def test_a_passed_check_moves_the_participant_to_the_next_step() -> None:
    """Done on s1 means on s2 from that moment."""
    state = _room()
    state.apply(_check(1, "s1", 110.0))
    row = state.rows[1]
    assert (row.cells["s1"].status, row.current, row.since) == ("done", "s2", 110.0)


def test_a_failing_check_shows_its_items_and_counts_repeats() -> None:
    """The same failure again counts up; another failure starts again at one."""
    state = _room()
    state.apply(_check(1, "s2", 110.0, "policy"))
    state.apply(_check(1, "s2", 120.0, "policy"))
    cell = state.rows[1].cells["s2"]
    assert (cell.status, cell.failing, cell.same_failure) == ("failing", ("policy",), 2)
    state.apply(_check(1, "s2", 130.0, "mapping"))
    assert state.rows[1].cells["s2"].same_failure == 1


def test_solve_and_hints() -> None:
    """A solve marks the step solved; the highest hint tier is kept."""
    state = _room()
    for tier in (1, 3, 2):
        state.apply(Event(1, f"h{tier}", "hint", "s1", 105.0, {"tier": tier}))
    state.apply(Event(1, "sv", "solve", "s1", 106.0, {"passed": True}))
    cell = state.rows[1].cells["s1"]
    assert (cell.status, cell.hint_tier, state.rows[1].current) == ("solved", 3, "s2")


def test_stuck_by_time_or_by_repeated_failure() -> None:
    """Stuck after the threshold on one step, or after N identical failures."""
    state = _room()
    state.settings.stuck_minutes, state.settings.same_failure = 5, 2
    assert not state.stuck(state.rows[1], 100.0 + 299)
    assert state.stuck(state.rows[1], 100.0 + 300)
    state.apply(_check(2, "s1", 101.0, "x"))
    state.apply(_check(2, "s1", 102.0, "x"))
    assert state.stuck(state.rows[2], 103.0)


def test_room_wide_failures_and_histogram() -> None:
    """The most failing item counts participants on that step now; the histogram sums up."""
    state = _room()
    state.apply(_check(1, "s1", 101.0, "tables"))
    state.apply(_check(2, "s1", 101.0, "tables", "streams"))
    assert state.failing_items()[0] == ("s1", "tables", 2)
    state.apply(_check(2, "s1", 102.0))
    assert state.histogram() == [("s1", 1), ("s2", 1), ("s3", 0), ("finished", 0)]


def test_events_for_unknown_participants_are_ignored() -> None:
    """An event whose participant is not in the room changes nothing."""
    state = _room()
    version = state.version
    state.apply(_check(9, "s1", 101.0))
    assert state.version == version
