"""The page's live stream: server-sent events that resume after a reconnect."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from labkit.instructor.testing import RunningRoom

from .conftest import check_event


def _first_update(room: RunningRoom, last_event_id: str | None = None) -> tuple[str, Any]:
    """(id, data) of the first message on /room/events."""
    request = urllib.request.Request(f"{room.url}/room/events?key={room.helper_key}")
    if last_event_id:
        request.add_header("Last-Event-ID", last_event_id)
    with urllib.request.urlopen(request, timeout=30) as stream:
        event_id = ""
        for raw in stream:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                return event_id, json.loads(line[5:])
    raise AssertionError("the stream ended without a message")


def test_a_new_page_gets_every_row(room: RunningRoom) -> None:
    """Connecting without Last-Event-ID sends every participant's row and the room panels."""
    ids = {room.join(name)["participant"] for name in ("a", "b", "c")}
    _, update = _first_update(room)
    assert {int(i) for i in update["rows"]} == ids
    assert "Where the room is" in update["panels"]["room"]


def test_a_reconnecting_page_gets_only_what_it_missed(room: RunningRoom) -> None:
    """With Last-Event-ID, only the rows changed since then are sent again."""
    quiet, busy = room.join("quiet"), room.join("busy")
    last_id, _ = _first_update(room)
    room.request("/api/sync", {"events": [check_event()]}, token=busy["token"])
    _, update = _first_update(room, last_id)
    assert list(update["rows"]) == [str(busy["participant"])]
    assert quiet["participant"] not in {int(i) for i in update["rows"]}


def test_after_a_restart_a_page_gets_everything_again(room: RunningRoom) -> None:
    """An id from before a restart is not trusted: the page gets every row."""
    room.join("one")
    last_id, _ = _first_update(room)
    room.restart()
    room.join("two")
    _, update = _first_update(room, last_id)
    assert len(update["rows"]) == 2


def test_a_forged_last_event_id_is_harmless(room: RunningRoom) -> None:
    """A garbage Last-Event-ID is treated as a fresh connection."""
    room.join("x")
    _, update = _first_update(room, "garbage:not-a-number")
    assert len(update["rows"]) == 1
