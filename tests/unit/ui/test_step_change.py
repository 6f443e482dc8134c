"""What provision and reset say: what they left alone, and what a reset would remove."""

from __future__ import annotations

from labkit.deploy import ExecutionReport, Plan
from labkit.lab.results import StepResult
from labkit.ui.steps import Deployed, StepChange

WOULD = ("Delete table StateTable and its items", "Remove the mapping ReduceTable -> Reduce")


def test_an_unconfirmed_reset_lists_what_it_would_remove() -> None:
    """Notebook text asks for confirm=True, the terminal for --yes; HTML shows it as code."""
    change = StepChange("reset", "lab1.step1", StepResult("lab1.step1", None, would_remove=WOULD))
    text = change.text()
    assert change.needs_confirmation and "Nothing was changed" in text
    assert all(line in text for line in WOULD)
    assert 'lab.reset("lab1.step1", confirm=True)' in text
    change.terminal = True
    assert "labkit reset lab1.step1 --yes" in change.text() and "lab.reset" not in change.text()
    assert "<code" in change.html()


def test_provisioning_past_a_step_says_what_it_kept() -> None:
    """The lab past the step: the headline says the work is kept, and lists what it left."""
    result = StepResult(
        "lab1.step1",
        ExecutionReport(Plan("p")),
        left_alone=("Deploy the starter code to StateLambda",),
        past=True,
        in_place=12,
    )
    text = StepChange("ready", "lab1.step1", result).text()
    assert text.startswith("lab1.step1: your work is kept (nothing was missing).")
    assert "already past" in text and "12 of the step's resources" in text
    assert "Deploy the starter code to StateLambda" in text


def test_deploying_the_starter_code_unchanged_is_pointed_out() -> None:
    """An unchanged starter deploy is amber and says so; new code is a plain green line."""
    same = Deployed("StateLambda", "abc", starter_unchanged=True)
    assert "unchanged" in same.text() and "TODO" in same.text()
    assert "Deployed new code" in Deployed("StateLambda", "abc").text()
