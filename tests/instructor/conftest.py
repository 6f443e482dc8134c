"""An instructor server per test (a real ``labkit instructor serve`` under uvicorn)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.instructor.testing import RunningRoom, room_server


@pytest.fixture
def room(tmp_path: Path) -> Iterator[RunningRoom]:
    with room_server(tmp_path / "room") as running:
        yield running


def check_event(step: str = "lab1.step1", passed: bool = False, **fields: Any) -> dict[str, Any]:
    """A check event as the learner's outbox writes it."""
    items = [
        {"label": "StateTable exists", "status": "pass" if passed else "fail", "code": "no-table"},
        {"label": "ReduceTable exists", "status": "pass", "code": ""},
    ]
    event = {
        "id": uuid.uuid4().hex,
        "kind": "check",
        "step": step,
        "at": time.time(),
        "data": {"passed": passed, "items": items},
    }
    event.update(fields)
    return event


def hint_event(step: str = "lab1.step1", tier: int = 1) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "kind": "hint",
        "step": step,
        "at": time.time(),
        "data": {"tier": tier},
    }


def events_csv(room: RunningRoom) -> list[list[str]]:
    import csv
    import io

    status, text = room.request(f"/export/events.csv?key={room.instructor_key}")
    assert status == 200
    return list(csv.reader(io.StringIO(text)))[1:]
