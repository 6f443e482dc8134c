"""A report in a notebook and in a terminal: code shown as code, the right way to ask for
hints on each, and no answer before the last hint tier."""

from __future__ import annotations

from labkit.checks.hints import HINTS, Hint
from labkit.checks.mistakes import MISTAKES
from labkit.checks.report import CheckItem, Report, Status, for_terminal

ITEM = CheckItem(
    "StateTable uses on-demand capacity",
    Status.FAIL,
    "it has provisioned capacity",
    "Switch it: `dynamodb.update_table(TableName='StateTable', BillingMode='PAY_PER_REQUEST')`.",
    "provisioned-capacity",
)
REPORT = Report("lab1.step1", "Create the tables and their streams", (ITEM,))


def test_html_shows_code_as_code() -> None:
    """Backticked code in a hint is monospace <code> in the notebook."""
    html = REPORT._repr_html_()
    assert "<code" in html and "update_table(TableName=" in html
    assert "`" not in html


def test_notebook_text_says_lab_hint_and_the_terminal_says_labkit_hint() -> None:
    """The notebook form names lab.hint("…"); the CLI form labkit hint …; never a bare hint()."""
    notebook = str(REPORT)
    assert 'lab.hint("lab1.step1")' in notebook
    terminal = for_terminal(notebook)
    assert "labkit hint lab1.step1" in terminal and "lab.hint" not in terminal
    hint = Hint("lab1.step1", 1, HINTS["lab1.step1"][0])
    assert 'lab.hint("lab1.step1")' in str(hint) and " hint(" not in str(hint)
    assert "labkit hint lab1.step1" in for_terminal(str(hint))


def test_not_done_yet_items_point_to_the_exercise_not_the_answer() -> None:
    """The first check of a step (nothing done yet) does not paste the answer's code."""
    missing = MISTAKES["table-missing"].item(
        "StateTable exists", "not created yet", table="StateTable", stream=" and stream"
    )
    assert "KeySchema" not in missing.hint and "AttributeDefinitions" not in missing.hint
    assert 'lab.hint("lab1.step1")' in missing.hint
    assert "KeySchema" in HINTS["lab1.step1"][2]  # the answer is the last tier
    for code in ("concurrency-not-set", "mapping-missing", "permission-missing"):
        hint = MISTAKES[code].hint
        assert "lab.hint(" in hint
        assert "ReservedConcurrentExecutions=1" not in hint and "BatchSize=1000" not in hint
