"""Tiered hints and the checks.json store."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.checks import HINTS, CheckItem, Hint, Report, Status
from labkit.checks.hints import hint_tiers
from labkit.checks.store import CheckStore
from labkit.lab.course import STEP_IDS


def test_every_step_has_three_tiers() -> None:
    """Each step has a nudge, more detail and an answer, in that order of length."""
    assert tuple(HINTS) == STEP_IDS
    for step in STEP_IDS:
        nudge, more, answer = hint_tiers(step)
        assert len(nudge) < len(answer) and more


def test_unknown_step_names_the_steps() -> None:
    """Asking for hints of an unknown step says which steps exist."""
    with pytest.raises(ValueError, match=r"lab1\.step1"):
        hint_tiers("lab9.step1")


def test_hint_renders_code_blocks() -> None:
    """The answer tier's indented code shows as a <pre> block; text says what comes next."""
    answer = Hint("lab1.step3", 3, hint_tiers("lab1.step3")[2])
    assert "<pre" in answer._repr_html_() and answer.last
    nudge = Hint("lab1.step3", 1, hint_tiers("lab1.step3")[0])
    assert "again for more" in str(nudge) and "again for more" not in str(answer)


def test_store_counts_tiers_per_lab(tmp_path: Path) -> None:
    """Revealed tiers are kept per lab key and can be reset per step."""
    local = CheckStore(tmp_path, "local:us-east-1:")
    other = CheckStore(tmp_path, "aws:eu-west-1:labkit-")
    local.reveal("lab1.step1", 2)
    assert local.hint_tier("lab1.step1") == 2 and other.hint_tier("lab1.step1") == 0
    local.reset_hints("lab1.step1")
    assert local.hint_tier("lab1.step1") == 0


def test_store_records_verdicts(tmp_path: Path) -> None:
    """A recorded report keeps its verdict and mistake codes in checks.json."""
    store = CheckStore(tmp_path, "local:us-east-1:")
    report = Report("lab1.step3", "t", (CheckItem("x", Status.FAIL, "", "h", "batch-size"),))
    store.record(report)
    again = CheckStore(tmp_path, "local:us-east-1:").results()["lab1.step3"]
    assert again["passed"] is False and again["codes"] == ["batch-size"]
    assert (tmp_path / "checks.json").exists()


def test_store_survives_a_broken_file(tmp_path: Path) -> None:
    """A corrupt checks.json reads as empty instead of raising."""
    (tmp_path / "checks.json").write_text("{not json")
    store = CheckStore(tmp_path, "k")
    assert store.results() == {} and store.hint_tier("lab1.step1") == 0
