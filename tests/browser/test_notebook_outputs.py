"""What a learner sees in JupyterLab: a live scoreboard, check reports, and outputs that
survive a saved notebook, a kernel restart and a reload.

The module runs a copy of the solved notebook 03 once (``played``); the tests then look at the
page in order: live, then after a restart and a reload, then without saved widget state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nbformat
import pytest

from .conftest import JupyterLab, JupyterPage

NOTEBOOK = "03-connect-reduce-lambda"
# A check with something right and something wrong: lab1.step3 without its reserved concurrency.
MIXED_CHECK = """\
lambda_client.delete_function_concurrency(FunctionName=REDUCE_LAMBDA)
report = lab.check("lab1.step3")
lambda_client.put_function_concurrency(FunctionName=REDUCE_LAMBDA, ReservedConcurrentExecutions=1)
report"""
WIDGET_ERROR = "Error displaying widget"


@pytest.fixture(scope="module")
def played(browser: Any, jupyterlab: JupyterLab) -> Iterator[JupyterPage]:
    """Notebook 03 run from the top in JupyterLab, then one more round from the board's button."""
    name = jupyterlab.copy(NOTEBOOK, extra_cells=(MIXED_CHECK,))
    page = JupyterPage(browser, jupyterlab, name).open()
    page.run_all()
    page.wait_for(
        "the scoreboard after three rounds",
        lambda: "Score: 300 points after 3 round(s)" in page.outputs_text(),
    )
    button = page.wait_for(
        "the board's Play button",
        lambda: page.script(
            "return Array.from(document.querySelectorAll('.jp-OutputArea-output button'))"
            ".find(b => b.innerText.includes('Play a round')) || null;"
        ),
    )
    button.click()
    page.wait_for(
        "the board to show the fourth round",
        lambda: "after 4 round(s)" in page.outputs_text(),
    )
    yield page


def test_scoreboard_widget_renders_and_updates_after_a_round(played: JupyterPage) -> None:
    """The board is a live widget (its buttons render) and a round played from it shows."""
    text = played.outputs_text()
    assert "points after 4 round(s)" in text and "Round 4: 200 messages" in text
    assert WIDGET_ERROR not in played.text()


def test_a_check_report_shows_ticks_and_crosses(played: JupyterPage) -> None:
    """A check with one thing missing shows ✓ and ✗ lines and names what is missing."""
    report = played.script(
        "const w = window.jupyterapp.shell.currentWidget;"
        "const cells = w.content.widgets;"
        "return cells[cells.length - 1].node.querySelector('.jp-OutputArea-output').innerText;"
    )
    assert "lab1.step3" in report and "✓" in report and "✗" in report
    assert "reserved concurrency" in report


def test_the_logs_filter_applies_as_the_learner_types(played: JupyterPage) -> None:
    """Typing in the logs viewer's filter box narrows the lines, without pressing Enter."""
    box = played.script(
        "return Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
        ".filter(n => n.innerText.includes('/aws/lambda/ReduceLambda'))"
        ".map(n => n.querySelector('input[type=text]')).find(i => i) || null;"
    )
    assert box is not None, "the logs viewer has no filter box"
    box.send_keys("REPORT")
    played.wait_for(
        "the filtered logs",
        lambda: "line(s) containing 'REPORT'" in played.outputs_text(),
        timeout=30,
    )


def test_the_board_survives_a_kernel_restart_and_a_reload(played: JupyterPage) -> None:
    """Saved, restarted and reloaded, the board shows its last state, not a widget error."""
    played.save()
    board_outputs = [
        output
        for cell in played.saved().cells
        if cell.cell_type == "code" and cell.source.endswith("\nboard")
        for output in cell.outputs
    ]
    assert any("after 4 round(s)" in str(o.get("data", {}).get("text/html")) for o in board_outputs)
    played.restart_kernel()
    played.open()
    played.wait_for("the saved board", lambda: "after 4 round(s)" in played.outputs_text())
    assert WIDGET_ERROR not in played.text()


def test_without_saved_widget_state_the_static_html_shows(played: JupyterPage) -> None:
    """A copy without widget state (from another JupyterLab, say) shows the board's HTML."""
    notebook = played.saved()
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, played.lab.root / "from-elsewhere.ipynb")
    page = JupyterPage(played.driver, played.lab, "from-elsewhere.ipynb").open()
    page.wait_for("the static board", lambda: "after 4 round(s)" in page.outputs_text())
    assert WIDGET_ERROR not in page.text()
