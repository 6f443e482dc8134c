"""``lab.join`` and the Lab's verbs send outcomes; ``labkit join`` and ``status`` show the room."""

from __future__ import annotations

import subprocess
import sys

from labkit.instructor.testing import RunningRoom
from labkit.session import Lab
from labkit.testing import RunningCloud

from .conftest import events_csv


def test_lab_check_hint_and_reset_reach_the_room(
    own_cloud: RunningCloud, room: RunningRoom
) -> None:
    """After lab.join, a failing check (with its items), a hint and a reset are stored."""
    lab = Lab(port=own_cloud.port, data_dir=own_cloud.data_dir)
    view = lab.join(room.code, name="notebook", server=room.url)
    assert "notebook" in view.text()
    report = lab.check("lab1.step1")
    assert not report.passed
    lab.hint("lab1.step1")
    assert lab._room.flush(timeout=20)
    rows = events_csv(room)
    assert [r[4] for r in rows] == ["check", "hint"]
    assert '"passed":false' in rows[0][8] and '"tier":1' in rows[1][8]
    assert "detail" not in rows[0][8]  # outcomes only: no detail text, no code
    grid = room.request(f"/export/grid.csv?key={room.instructor_key}")[1]
    assert "failing" in grid and "(hint 1)" in grid
    lab._room.stop()


def test_a_lab_that_never_joined_sends_nothing(own_cloud: RunningCloud) -> None:
    """Without lab.join, checks write no outbox at all."""
    lab = Lab(port=own_cloud.port, data_dir=own_cloud.data_dir)
    lab.hint("lab1.step1")
    assert not (own_cloud.data_dir / "room").exists()


def test_labkit_join_and_status(tmp_path, room: RunningRoom) -> None:  # type: ignore[no-untyped-def]
    """``labkit join`` joins from a terminal; ``labkit status`` shows the room and its news."""
    data = str(tmp_path / "learner")
    joined = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "join", room.code.lower(), "--name", "cli",
         "--server", room.url, "--data-dir", data],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert joined.returncode == 0, joined.stderr
    assert f"room      {room.code} at {room.url}, joined as cli" in joined.stdout
    room.admin("broadcast", {"text": "Five more minutes", "step": ""})
    again = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "join", room.code, "--name", "cli",
         "--server", room.url, "--data-dir", data],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Five more minutes" in again.stdout
    status = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "status", "--data-dir", data],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "message   from the instructor: Five more minutes" in status.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "join", "AAAA-AAAA", "--name", "x",
         "--server", room.url, "--data-dir", str(tmp_path / "other")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert wrong.returncode == 1 and "not this room's" in wrong.stderr


def test_labkit_hint_in_a_terminal_reaches_the_room(
    own_cloud: RunningCloud, room: RunningRoom
) -> None:
    """After ``labkit join``, ``labkit hint`` sends its outcome before the command exits."""
    where = ["--port", str(own_cloud.port), "--data-dir", str(own_cloud.data_dir)]
    subprocess.run(
        [sys.executable, "-m", "labkit.cli", "join", room.code, "--name", "terminal",
         "--server", room.url, "--data-dir", str(own_cloud.data_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    hinted = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "hint", "lab1.step1", *where],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert hinted.returncode == 0, hinted.stderr
    assert [row[4] for row in events_csv(room)] == ["hint"]


def test_serve_warns_when_not_on_loopback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A non-loopback --host prints who can reach the server (checked without serving)."""
    from labkit.instructor.server import open_session
    from labkit.ui.room_commands import exposure_warning

    assert exposure_warning(open_session(tmp_path / "a", "127.0.0.1", 4600)) == ""
    assert exposure_warning(open_session(tmp_path / "a", "::1", 4600)) == ""
    warning = exposure_warning(open_session(tmp_path / "b", "0.0.0.0", 4600))
    assert "anyone who can reach this machine on port 4600" in warning
