"""``labkit score`` and ``labkit template`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import cfnlint.api
import pytest

from labkit.cli import main
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud


def test_score_json_shows_the_board(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a round, ``labkit score --json`` reports the total, the rounds and the mode."""
    workshop.reset("lab1.step3", solved=True, confirm=True)
    workshop.scoreboard().play_round(messages=120, seed=3, timeout=120)
    assert main(["score", "--json", "--data-dir", str(lab_cloud.data_dir)]) == 0
    board = json.loads(capsys.readouterr().out)
    assert board["total"] == 100 and board["played"] == 1 and board["lab2"] is False
    assert board["rounds"][0]["wrong_keys"] == 0


def test_score_text_is_one_line_per_round(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json the board is a few lines of text."""
    assert main(["score", "--data-dir", str(lab_cloud.data_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Score: 100 points after 1 round; lab 1")


def test_score_before_the_tables_exist_explains_why(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before lab1.step1 is done there is no ParameterTable: a clear message, status 4."""
    workshop.reset("lab1.step1", confirm=True)
    assert main(["score", "--data-dir", str(lab_cloud.data_dir)]) == 4
    assert "ParameterTable" in capsys.readouterr().err


def test_score_without_a_running_cloud(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no local cloud running, score says how to start it (status 3)."""
    assert main(["score", "--data-dir", str(tmp_path)]) == 3
    assert "labkit up" in capsys.readouterr().err


def test_template_writes_a_lint_clean_file(tmp_path: Path) -> None:
    """``labkit template -o FILE`` writes the finished lab; cfn-lint finds nothing."""
    target = tmp_path / "lab.json"
    assert main(["template", "-o", str(target)]) == 0
    text = target.read_text()
    assert json.loads(text)["Resources"]["LabkitStateTable"]["Type"] == "AWS::DynamoDB::Table"
    assert cfnlint.api.lint(text) == []


def test_template_of_a_step_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """``--step`` exports a step's start; an unknown step is a clear error."""
    assert main(["template", "--step", "lab1.step1", "--backend", "local", "--code", "inline"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "StateTable" not in document["Resources"]
    assert main(["template", "--step", "lab9"]) == 2
    assert "There is no step" in capsys.readouterr().err
