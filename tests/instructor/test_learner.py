"""The learner's side: joining, the outbox and the background sender, against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.instructor.learner import JoinError, Membership
from labkit.instructor.testing import RunningRoom
from labkit.ui.room import room_lines

from .conftest import events_csv


def _membership(tmp_path: Path, room: RunningRoom, name: str = "learner") -> Membership:
    membership = Membership(tmp_path / "learner")
    membership.join(room.code, name, room.url)
    return membership


def test_join_keeps_the_token_private(tmp_path: Path, room: RunningRoom) -> None:
    """The token is saved in the learner's data directory, readable by its owner only."""
    membership = _membership(tmp_path, room)
    room_file = tmp_path / "learner" / "room" / "room.json"
    assert room_file.stat().st_mode & 0o077 == 0
    assert membership.room()["token"]  # type: ignore[index]
    membership.stop()


def test_joining_again_reuses_the_membership(tmp_path: Path, room: RunningRoom) -> None:
    """Running the join cell twice does not add a second participant."""
    first = _membership(tmp_path, room)
    second = Membership(tmp_path / "learner")
    second.join(room.code, "learner", room.url)
    assert room.request("/api/health")[1]["participants"] == 1
    first.stop()
    second.stop()


def test_join_errors_say_what_to_do(tmp_path: Path, room: RunningRoom) -> None:
    """A wrong code or an unreachable server is a JoinError with a plain message."""
    membership = Membership(tmp_path / "learner")
    with pytest.raises(JoinError, match="not this room's"):
        membership.join("AAAA-AAAA", "x", room.url)
    with pytest.raises(JoinError, match="Could not reach"):
        membership.join(room.code, "x", "http://127.0.0.1:9")
    assert not membership.joined


def test_outcomes_arrive_once(tmp_path: Path, room: RunningRoom) -> None:
    """Recorded outcomes are sent in the background and stored exactly once."""
    membership = _membership(tmp_path, room)
    membership.hinted("lab1.step1", 1)
    membership.was_reset("lab1.step1")
    assert membership.flush(timeout=20)
    kinds = sorted(row[4] for row in events_csv(room))
    assert kinds == ["hint", "reset"]
    membership.stop()


def test_nothing_is_lost_while_the_server_is_gone(tmp_path: Path, room: RunningRoom) -> None:
    """With the server down, recording neither blocks nor fails; everything arrives later."""
    membership = _membership(tmp_path, room)
    assert membership.flush(timeout=20)
    room.stop()
    for tier in (1, 2, 3):
        membership.hinted("lab1.step2", tier)  # returns at once, no exception
    assert membership.outbox.count_pending() == 3
    assert not membership.flush(timeout=0.5)
    assert "waiting to be sent" in "\n".join(room_lines(membership.status()))
    room.start()
    membership.stop()  # a fresh sender (as after a kernel restart) picks the outbox up
    assert membership.flush(timeout=30)
    assert sorted(row[4] for row in events_csv(room)) == ["hint"] * 3
    membership.stop()


def test_a_revoked_learner_stops_sending(tmp_path: Path, room: RunningRoom) -> None:
    """After a revoke the sender stops, and the status says the room closed."""
    membership = _membership(tmp_path, room)
    assert membership.flush(timeout=20)
    room.admin("revoke", {"participant": membership.room()["participant"]})  # type: ignore[index]
    membership.hinted("lab1.step1", 1)
    membership.flush(timeout=20)
    status = membership.status()
    assert status is not None and "revoked" in status["closed"]
    assert events_csv(room) == []


def test_status_shows_the_broadcast(tmp_path: Path, room: RunningRoom) -> None:
    """The instructor's message and step marker show in the learner's status lines."""
    membership = _membership(tmp_path, room)
    room.admin("broadcast", {"text": "Look at the screen", "step": "lab1.step3"})
    membership.was_reset("lab1.step1")
    assert membership.flush(timeout=20)
    lines = "\n".join(room_lines(membership.status()))
    assert "from the instructor: Look at the screen" in lines
    assert "the room is at lab1.step3" in lines
    membership.stop()


def test_sharing_code_needs_the_instructors_request(tmp_path: Path, room: RunningRoom) -> None:
    """share_source refuses until the instructor asks; then the code reaches the server."""
    membership = _membership(tmp_path, room)
    with pytest.raises(ValueError, match="has not asked"):
        membership.share_source("print('hi')")
    room.admin("settings", {"code_request": "your handler, please"})
    membership.was_reset("lab1.step1")
    assert membership.flush(timeout=20)
    membership.share_source("print('hi')", "handler")
    assert membership.flush(timeout=20)
    assert "code" in [row[4] for row in events_csv(room)]
    membership.stop()


def test_one_refused_event_does_not_hold_back_the_others(tmp_path: Path, room: RunningRoom) -> None:
    """A batch the server refuses is resent one event at a time; only the bad one is skipped."""
    membership = _membership(tmp_path, room)
    assert membership.flush(timeout=20)
    membership.stop()
    outbox = membership.outbox
    outbox.append("hint", "lab1.step1", {"tier": 1})
    outbox.append("code", "", {"label": "x", "text": "unasked"})  # the instructor did not ask
    outbox.append("hint", "lab1.step1", {"tier": 2})
    assert membership.flush(timeout=30)
    assert [row[4] for row in events_csv(room)] == ["hint", "hint"]
    assert membership.sender_status.rejected == 1
    membership.stop()
