"""``labkit`` in a terminal: status as a table, quiet exits into closed pipes, no bars in files."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import STATUS_WIDTH, main
from labkit.lab.progress import TextProgress, TqdmProgress, default_progress
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

_INTO_CLOSED_PIPE = (
    "import os, sys\n"
    "read, write = os.pipe()\n"
    "os.close(read)\n"
    "os.dup2(write, 1)\n"
    "from labkit.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _into_closed_pipe(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``labkit ARGV`` with its standard output a pipe nobody reads any more."""
    return subprocess.run(
        [sys.executable, "-c", _INTO_CLOSED_PIPE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_status_is_a_table_that_fits_100_columns(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a round, status shows a functions table and a mappings table within 100 columns."""
    workshop.reset("lab1.step3", solved=True, confirm=True)
    workshop.scoreboard().play_round(messages=80, seed=5, timeout=120)
    assert main(["status", "--data-dir", str(lab_cloud.data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= STATUS_WIDTH for line in lines), max(lines, key=len)
    headers = [line.split() for line in lines if line.startswith(("function ", "mapping "))]
    assert headers[0][:3] == ["function", "calls", "errors"]
    assert headers[1][:3] == ["mapping", "state", "age"]
    assert any(line.startswith("ReduceTable stream → ReduceLambda") for line in lines)
    assert "records_processed" not in "\n".join(lines)


def test_status_verbose_lists_every_counter(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-v`` adds every function figure and mapping counter, still within 100 columns."""
    assert main(["status", "-v", "--data-dir", str(lab_cloud.data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    text = "\n".join(lines)
    assert "records_processed" in text and "cold_starts" in text
    assert all(len(line) <= STATUS_WIDTH for line in lines)


@pytest.mark.parametrize("command", [["template"], ["status", "-v"], ["score"], ["--help"]])
def test_every_command_exits_quietly_into_a_closed_pipe(
    command: list[str], workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """``labkit … | head`` that stops reading: no BrokenPipeError, no traceback."""
    argv = [*command]
    if command[0] in ("status", "score"):
        argv += ["--data-dir", str(lab_cloud.data_dir)]
    done = _into_closed_pipe(*argv)
    assert done.stderr == ""
    assert done.returncode in (0, 141)


def test_progress_is_not_redrawn_into_a_file(lab_cloud: RunningCloud, tmp_path: Path) -> None:
    """``labkit reset`` with stderr in a file writes plain lines, no carriage returns."""
    log = tmp_path / "err.txt"
    with log.open("w") as err:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "labkit.cli",
                "reset",
                "lab1.step3",
                "--yes",
                "--data-dir",
                str(lab_cloud.data_dir),
                "--port",
                str(lab_cloud.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=300,
            check=True,
            env={**os.environ, "LABKIT_PORT": str(lab_cloud.port)},
        )
    text = log.read_text()
    assert "\r" not in text and "\x1b[" not in text
    assert "call(s)" in text


def test_default_progress_picks_a_bar_only_for_a_terminal() -> None:
    """A file or pipe gets plain lines; a terminal gets a tqdm bar."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(default_progress(io.StringIO()), TextProgress)
    assert isinstance(default_progress(Terminal()), TqdmProgress)
