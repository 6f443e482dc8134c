"""Solve and reset every lab-5 step, through the workshop and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from labkit.lab.stream_errors.steps import STEPS
from labkit.testing import RunningCloud

from .conftest import Lab5, make_lab5

pytestmark = pytest.mark.slow
STEP_IDS = [step.id for step in STEPS]


def test_every_step_solves_and_resets(lab5: Lab5) -> None:
    """At each step's start the check says not done; solved it passes; reset it fails again."""
    for step in STEP_IDS:
        lab5.provision(step)
        assert not lab5.check(step).passed, step
        lab5.provision(step, solved=True)
        report = lab5.check(step)
        assert report.passed, str(report)
    lab5.reset("lab5.step3")
    assert not lab5.check("lab5.step3").passed
    assert lab5.check("lab5.step2").passed


def test_cli_check_hint_solve_reset_json(cloud: RunningCloud) -> None:
    """labkit solve/check/hint/reset lab5.step1 work from a terminal, with --json."""
    lab = make_lab5(cloud)
    prefix = lab.names.prefix

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "labkit.cli", *args, "--data-dir", str(cloud.data_dir)]
        command += ["--port", str(cloud.port), "--prefix", prefix]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    try:
        solved = run("solve", "lab5.step1", "--json")
        assert solved.returncode == 0, solved.stdout + solved.stderr
        assert json.loads(solved.stdout)["passed"]
        checked = run("check", "lab5.step1", "--json")
        assert checked.returncode == 0 and json.loads(checked.stdout)["step"] == "lab5.step1"
        hint = run("hint", "lab5.step1", "--json")
        assert hint.returncode == 0 and json.loads(hint.stdout)["tier"] == 1
        reset = run("reset", "lab5.step1", "--json", "--yes")
        assert reset.returncode == 0, reset.stdout + reset.stderr
        again = run("check", "lab5.step1", "--json")
        assert again.returncode == 2
        codes = [item["code"] for item in json.loads(again.stdout)["items"]]
        assert "lab5-retries-unbounded" in codes
    finally:
        lab.workshop.teardown()
