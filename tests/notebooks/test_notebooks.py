"""The notebooks under nbval: the solved ones strictly against their saved outputs, the learner
ones (exercises left as they are) run through without errors and their checks say 'not done'.

Both suites run at once, each in its own data directory and on its own port, and each stops
its local cloud afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from labkit.authoring import Project, stale
from labkit.cloud import control
from labkit.lab.course import STEP_IDS
from labkit.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
SANITIZE = Path(__file__).with_name("sanitize.cfg")
NAMES = [
    "00-welcome",
    "01-tables-and-streams",
    "02-iam-policies",
    "03-connect-reduce-lambda",
    "04-exactly-once",
    "05-replication",
    "06-counters",
    "07-stream-errors",
]
SUITE_TIMEOUT = 600


@dataclass
class Suite:
    """One nbval run: its output, exit code, duration and what the checks recorded."""

    name: str
    returncode: int
    output: str
    seconds: float
    checks: dict[str, dict[str, object]]
    cloud_left_running: bool


def _start(kind: str, data_dir: Path) -> tuple[subprocess.Popen[str], float]:
    folder = ROOT / ("solutions" if kind == "solved" else "notebooks")
    mode = (
        ["--nbval", "--nbval-sanitize-with", str(SANITIZE)] if kind == "solved" else ["--nbval-lax"]
    )
    env = {**os.environ, "LABKIT_DATA_DIR": str(data_dir), "LABKIT_PORT": str(free_port())}
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *mode,
        "--nbval-cell-timeout=300",
        *(str(folder / f"{name}.ipynb") for name in NAMES),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, time.monotonic()


def _finish(kind: str, process: subprocess.Popen[str], started: float, data_dir: Path) -> Suite:
    try:
        output, _ = process.communicate(timeout=SUITE_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
        control.stop(data_dir)
    seconds = time.monotonic() - started
    checks_file = data_dir / "checks.json"
    document = json.loads(checks_file.read_text()) if checks_file.exists() else {}
    results: dict[str, dict[str, object]] = {}
    for entry in document.values():
        results.update(entry.get("results", {}))
    left = control.find_running(data_dir) is not None
    return Suite(kind, process.returncode, output, seconds, results, left)


def run_suites() -> dict[str, Suite]:
    """Run the solved and the learner notebooks at the same time."""
    base = Path(tempfile.mkdtemp(prefix="labkit-notebooks-"))
    started = {kind: _start(kind, base / kind) for kind in ("solved", "learner")}
    return {
        kind: _finish(kind, process, began, base / kind)
        for kind, (process, began) in started.items()
    }


@pytest.fixture(scope="module")
def suites() -> Iterator[dict[str, Suite]]:
    """Both nbval suites, run once for this module."""
    yield run_suites()


def _tail(suite: Suite) -> str:
    return "\n".join(suite.output.splitlines()[-60:])


@pytest.mark.slow
def test_solved_notebooks_match_their_outputs(suites: dict[str, Suite]) -> None:
    """Every cell of the solved notebooks runs and matches its saved output (sanitized)."""
    suite = suites["solved"]
    assert suite.returncode == 0, _tail(suite)
    assert all(suite.checks.get(step, {}).get("passed") for step in STEP_IDS), suite.checks


@pytest.mark.slow
def test_learner_notebooks_run_and_report_not_done(suites: dict[str, Suite]) -> None:
    """The learner notebooks run without errors, and every check they call says 'not done'."""
    suite = suites["learner"]
    assert suite.returncode == 0, _tail(suite)
    assert set(suite.checks) == set(STEP_IDS)
    assert not [step for step, result in suite.checks.items() if result.get("passed")]


@pytest.mark.slow
def test_no_cloud_left_running(suites: dict[str, Suite]) -> None:
    """Each suite stops its local cloud (how long they take is bench/bench_notebooks.py's)."""
    assert not any(s.cloud_left_running for s in suites.values())


def test_notebooks_match_their_source() -> None:
    """notebooks/ and solutions/ are what `python -m labkit.authoring build` writes."""
    assert stale(Project(ROOT), NAMES) == []


def test_learner_notebooks_have_no_outputs_and_solutions_do() -> None:
    """Learner notebooks are saved clean; every solved code cell has been run."""
    for name in NAMES:
        learner = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        solved = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
        assert all(not c.get("outputs") for c in learner.cells if c.cell_type == "code"), name
        assert all(c.get("execution_count") for c in solved.cells if c.cell_type == "code"), name


def test_each_notebook_ends_with_a_check() -> None:
    """The last code cell of every step notebook is a lab.check(...)."""
    for name in NAMES[1:]:
        notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        last = [c for c in notebook.cells if c.cell_type == "code"][-1]
        assert last.source.startswith("lab.check("), name
