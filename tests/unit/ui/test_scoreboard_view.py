"""The scoreboard view: text and HTML fallbacks, rounds, background play and errors."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from labkit.ui.html import AMBER, GREEN
from labkit.ui.scoreboard import ScoreboardView, duplicates_note

from .conftest import FakeLab, FakeWorkshop, round_result


def view(lab: FakeLab, **options: Any) -> ScoreboardView:
    return ScoreboardView(cast(Any, lab), **options)


def test_empty_board_shows_no_rounds(tmp_path: Path) -> None:
    """Before any round the view says so in text and in the chart."""
    board = view(FakeLab(tmp_path))
    assert board.text().startswith("Score: 0 points after 0 round(s) (lab 1)")
    assert "No rounds yet" in board.html()


def test_play_updates_board_and_per_key_table(tmp_path: Path) -> None:
    """Playing rounds returns what happened; the view shows the last round's keys off."""
    lab = FakeLab(tmp_path)
    board = view(lab)
    played = board.play(2)
    assert [r.number for r in played.results] == [1, 2] and played.points == 100
    assert "Score: 100 points after 2 round(s)" in board.text()
    assert "PV:FXSpot:K0" in board.text()  # round 2 had a key off
    html = board.html()
    assert "<svg" in html and "expected change" in html and "#cf222e" in html


def test_missing_parameter_table_is_explained(tmp_path: Path) -> None:
    """Without ParameterTable the view explains what to do instead of raising."""

    class ResourceNotFoundException(Exception):
        pass

    lab = FakeLab(tmp_path, FakeWorkshop(error=ResourceNotFoundException("Requested table")))
    board = view(lab)
    assert "lab1.step1" in board.text()
    played = board.play(1)
    assert not played.results and "lab1.step1" in played.text()


def test_background_rounds_update_without_printing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """start() plays rounds in a thread that prints nothing; stop() ends it."""
    lab = FakeLab(tmp_path)
    board = view(lab).start(every=0.0)
    deadline = time.monotonic() + 5
    while len(lab.rounds) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    board.stop()
    assert len(lab.rounds) >= 3 and not board.running
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert board.board is not None and board.board.played == len(lab.rounds)


def test_no_widget_outside_a_notebook(tmp_path: Path) -> None:
    """In a terminal the MIME bundle has text and HTML but no widget."""
    bundle = view(FakeLab(tmp_path))._repr_mimebundle_()
    assert bundle is not None
    assert set(bundle) == {"text/plain", "text/html"}


def test_exact_rounds_fold_the_key_table_and_keep_the_header_green(tmp_path: Path) -> None:
    """After an exact round the key table is folded and the header is green, not amber."""
    board = view(FakeLab(tmp_path))
    board.play(1)
    html = board.html()
    assert board.colour() == GREEN
    assert "<details" in html and "<details open" not in html and "all 1 keys exact" in html


def test_a_drifting_round_shows_each_key_and_turns_the_header_amber(tmp_path: Path) -> None:
    """A round with keys off lists them with their drift, and the header turns amber."""
    board = view(FakeLab(tmp_path))
    board.play(2)  # the fake's second round has one key off by 1
    assert board.colour() == AMBER
    html = board.html()
    assert "PV:FXSpot:K0" in html and "drift" in html and "<details" not in html
    assert html.index("Score:") < html.index("<svg")  # the headline sits at the top


def test_duplicates_explain_the_message_count(tmp_path: Path) -> None:
    """A round with duplicates says message_count counts only the others."""
    result = replace(round_result(1, 100), messages=200, stats={"new": 175, "duplicate": 25})
    note = duplicates_note(result)
    assert "25 exact duplicate(s)" in note and "message_count counts the other 175" in note
    assert duplicates_note(round_result(1, 100)) == ""
