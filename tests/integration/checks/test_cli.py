"""``labkit check | hint | solve | reset`` against a live local cloud, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from labkit.lab.course import STEP_IDS
from labkit.testing import RunningCloud

from .conftest import make_lab

PREFIX = "cli-"
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def labkit_cli(cloud: RunningCloud) -> Iterator[Run]:
    """Runs ``labkit ...`` on the shared cloud with a prefix of its own; removes the lab after."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "labkit.cli", *args]
        command += ["--data-dir", str(cloud.data_dir), "--port", str(cloud.port)]
        command += ["--prefix", PREFIX]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    yield run
    make_lab(cloud, PREFIX).workshop.teardown()


def test_check_all_json_on_an_empty_lab(labkit_cli: Run) -> None:
    """--all --json lists every step as not done and exits 2."""
    done = labkit_cli("check", "--all", "--json")
    assert done.returncode == 2, done.stderr
    document = json.loads(done.stdout)
    assert [s["step"] for s in document["steps"]] == list(STEP_IDS)
    assert STEP_IDS[:5] == ("lab1.step1", "lab1.step2", "lab1.step3", "lab2.step1", "lab2.step2")
    assert not document["passed"]


def test_hint_reveals_the_next_tier_each_time(labkit_cli: Run) -> None:
    """Two calls of labkit hint show the nudge, then the second tier."""
    first = labkit_cli("hint", "lab1.step3")
    second = labkit_cli("hint", "lab1.step3")
    assert "Hint 1/3" in first.stdout and "Hint 2/3" in second.stdout


def test_solve_then_reset(labkit_cli: Run) -> None:
    """solve applies the reference solution (the check passes); reset undoes it."""
    solved = labkit_cli("solve", "lab1.step1", "-q")
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert solved.stdout.startswith("✓ lab1.step1")
    asked = labkit_cli("reset", "lab1.step1", "-q")
    assert asked.returncode == 2 and "labkit reset lab1.step1 --yes" in asked.stdout
    reset = labkit_cli("reset", "lab1.step1", "-q", "--yes")
    assert "lab1.step1 is reset" in reset.stdout
    again = labkit_cli("check", "lab1.step1")
    assert again.returncode == 2 and "table-missing" not in again.stdout
    assert "not created yet" in again.stdout
