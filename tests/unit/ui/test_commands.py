"""The check/solve/reset/hint subcommands: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labkit import cli
from labkit.checks import AllReports, CheckItem, Hint, Report, Status
from labkit.ui import commands


class FakeLab:
    def __init__(self, passed: bool) -> None:
        status = Status.PASS if passed else Status.FAIL
        self.report = Report("lab1.step3", "Connect", (CheckItem("x", status, "d", "h", "c"),))

    def check(self, step: str | None) -> Report:
        if step == "nope":
            raise ValueError("There is no step 'nope'.")
        return self.report

    def check_all(self) -> AllReports:
        return AllReports.of([self.report])

    def hint(self, step: str | None) -> Hint:
        return Hint(step or "lab1.step3", 1, "a nudge")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made: dict[str, Any] = {"passed": False}

    def make(args: Any) -> FakeLab:
        made["args"] = args
        return FakeLab(made["passed"])

    monkeypatch.setattr(commands, "_lab", make)
    return made


def test_check_not_done_exits_2(fake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """labkit check STEP prints the report and exits 2 when the step is not done."""
    assert cli.main(["check", "lab1.step3"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("✗ lab1.step3") and "→ h" in out


def test_check_json_done_exits_0(fake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the report as JSON; a done step exits 0."""
    fake["passed"] = True
    assert cli.main(["check", "lab1.step3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_check_all_json(fake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """--all --json prints every step's report."""
    assert cli.main(["check", "--all", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["steps"][0]["step"] == "lab1.step3"


def test_unknown_step_is_one_line(fake: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown step is a one-line error and exit code 1, not a traceback."""
    assert cli.main(["check", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "labkit: There is no step 'nope'."


def test_hint_and_options(
    fake: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """labkit hint prints the next tier; backend, port and data dir reach Lab()."""
    assert cli.main(["hint", "lab1.step1", "--data-dir", str(tmp_path), "--port", "4700"]) == 0
    assert "a nudge" in capsys.readouterr().out
    args = fake["args"]
    assert args.backend == "local" and args.port == 4700 and args.data_dir == str(tmp_path)
