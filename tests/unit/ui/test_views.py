"""Progress, step changes, the SVG chart and the HTML helpers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from labkit.checks import CheckItem, Report, Status
from labkit.lab.course import STEP_IDS
from labkit.ui import Deployed, Point, ProgressView, StepChange, score_chart, widgets_available
from labkit.ui.html import table, text_table
from labkit.ui.svg import _nice_top

from .conftest import FakeLab


def test_progress_marks_done_current_and_last_check(tmp_path: Path) -> None:
    """Done steps get ✓, the current one →, and the last check's mistakes are said in words."""
    lab = FakeLab(tmp_path)
    lab.workshop.completed = ("lab1.step1",)
    lab._store().record(
        Report("lab1.step2", "p", (CheckItem("x", Status.FAIL, "", "h", "placeholder-left"),))
    )
    view = ProgressView(cast(Any, lab))
    rows = view.rows()
    assert rows[0][0] == "✓" and rows[1][0] == "→"
    assert rows[1][3].startswith("not done yet: a placeholder such as {Region}")
    assert "placeholder-left" not in view.text() and rows[2][3] == "not checked yet"
    assert view.text().startswith(f"Progress: 1 of {len(STEP_IDS)} steps done; now: lab1.step2")


def test_step_change_counts_changes() -> None:
    """A provision's summary counts the calls that changed something."""
    outcomes = [SimpleNamespace(status="done"), SimpleNamespace(status="already done")]
    change = StepChange("ready", "lab1.step2", SimpleNamespace(outcomes=outcomes))
    assert change.text() == (
        "lab1.step2 is ready: the lab is at the start of this step (1 change(s) made)."
    )
    nothing = StepChange("solved", "lab1.step3", SimpleNamespace(outcomes=[]))
    assert "nothing needed changing" in nothing.text()


def test_deployed_names_the_function() -> None:
    """A deploy's summary names the function and the start of its CodeSha256."""
    assert "StateLambda" in repr(Deployed("StateLambda", "abcdefghijklmnop"))


def test_chart_draws_a_dot_per_round() -> None:
    """One dot per round, green when exact, red when not; the axis reaches the total."""
    svg = score_chart([Point(1, 100, True), Point(2, 100, False, 3), Point(3, 200, True)])
    assert svg.count("<circle") == 3 and svg.count("#cf222e") == 1
    assert "3 key(s) wrong" in svg
    assert _nice_top(201) == 500 and _nice_top(100) == 100 and _nice_top(1001) == 2000


def test_tables_escape_and_align() -> None:
    """HTML tables escape cells; text tables pad columns."""
    assert "&lt;x&gt;" in table(("a",), [("<x>",)])
    assert text_table(("key", "n"), [("PV", 1)]).split("\n")[2] == "PV   1"


def test_no_widgets_outside_a_kernel() -> None:
    """Outside a Jupyter kernel no widget is offered."""
    assert not widgets_available()
