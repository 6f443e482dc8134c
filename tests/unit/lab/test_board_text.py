"""The scoreboard as ``labkit score`` prints it."""

from __future__ import annotations

from decimal import Decimal

from labkit.lab.scoreboard import Board, RoundSummary


def _round(number: int, wrong: int = 0) -> RoundSummary:
    return RoundSummary(
        number, "7", 10_000, False, 0 if wrong else 100, wrong, Decimal(wrong) * 1234, 0.0
    )


def test_board_says_how_many_older_rounds_are_hidden() -> None:
    """With more rounds than shown, the text says how many older ones are left out."""
    board = Board(total=1_500, played=15, lab2=False, rounds=tuple(_round(n) for n in range(1, 16)))
    lines = board.lines()
    assert lines[0] == "Score: 1,500 points after 15 rounds; lab 1"
    assert len([line for line in lines if "round " in line and "messages" in line]) == 10
    assert "5 older rounds not shown" in lines[-1] and "labkit score --json" in lines[-1]


def test_board_formats_numbers_with_separators() -> None:
    """Message counts and errors carry thousands separators and two decimals."""
    board = Board(total=100, played=1, lab2=True, rounds=(_round(1, wrong=2),))
    text = "\n".join(board.lines())
    assert "10,000 messages" in text and "max error 2,468.00" in text
    assert "not shown" not in text


def test_board_with_forgotten_rounds_says_they_are_no_longer_kept() -> None:
    """Rounds older than the kept history are counted but cannot be listed."""
    board = Board(total=100, played=120, lab2=False, rounds=(_round(120),))
    assert "119 older rounds not shown; only the newest rounds are kept" in board.lines()[-1]
