"""A fake lab for the views: a scoreboard, logs and progress without any cloud."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from labkit.checks.store import CheckStore
from labkit.lab.scoreboard import Board, KeyResult, RoundResult, RoundSummary
from labkit.lab.workshop import ProgressRecord


def round_result(number: int, total: int, wrong: int = 0) -> RoundResult:
    keys = [KeyResult("PV", Decimal("10.00"), Decimal("10.00"))]
    keys += [KeyResult(f"PV:FXSpot:K{i}", Decimal("1"), Decimal("2")) for i in range(wrong)]
    return RoundResult(
        number=number,
        seed=f"s/{number}",
        messages=40,
        special=False,
        stats={"new": 40},
        keys=tuple(keys),
        points=0 if wrong else 100,
        total=total,
        drain_seconds=0.5,
    )


class FakeWorkshop:
    def __init__(self, board: Board | None = None, error: Exception | None = None) -> None:
        self._board = board or Board(0, 0, False)
        self.error = error
        self.completed: tuple[str, ...] = ()
        self.logs: Any = None

    def board(self) -> Board:
        if self.error is not None:
            raise self.error
        return self._board

    def client(self, service: str) -> Any:
        assert service == "logs"
        return self.logs

    def progress_record(self) -> ProgressRecord:
        return ProgressRecord(self.completed)


class FakeLab:
    """Plays rounds instantly, each adding to the board."""

    def __init__(self, tmp_path: Path, workshop: FakeWorkshop | None = None) -> None:
        self.workshop = workshop or FakeWorkshop()
        self.tmp_path = tmp_path
        self.rounds: list[RoundResult] = []

    def play_round(self, messages: int = 500, **_: Any) -> RoundResult:
        board = self.workshop.board()
        wrong = 1 if len(self.rounds) % 2 else 0
        result = round_result(board.played + 1, board.total + (0 if wrong else 100), wrong)
        self.rounds.append(result)
        summary = RoundSummary(
            result.number, result.seed, messages, False, result.points, wrong, Decimal(wrong), 0.0
        )
        self.workshop._board = Board(result.total, result.number, False, (*board.rounds, summary))
        return result

    def _store(self) -> CheckStore:
        return CheckStore(self.tmp_path, "local:us-east-1:")
