"""Reports: verdicts, text and HTML rendering, and JSON for the CLI."""

from __future__ import annotations

import pytest

from labkit.checks import AllReports, CheckItem, Report, Status


def sample(*statuses: Status) -> Report:
    items = tuple(
        CheckItem(f"thing {i}", s, f"found {i}", "do this" if s is Status.FAIL else "", f"c{i}")
        for i, s in enumerate(statuses)
    )
    return Report("lab1.step1", "Create the tables", items)


def test_passes_only_without_failures() -> None:
    """A report passes when no item failed; warnings and skips do not fail it."""
    assert sample(Status.PASS, Status.WARN, Status.SKIP).passed
    assert not sample(Status.PASS, Status.FAIL).passed


def test_empty_report_is_not_done() -> None:
    """A report without items is never 'done'."""
    report = Report("lab1.step1", "Create the tables", ())
    assert not report.passed and report.status == "not done yet"


def test_headline_counts_what_to_fix() -> None:
    """The headline says how many things are left."""
    assert "(2 things to fix)" in sample(Status.FAIL, Status.FAIL).headline()
    assert "(1 thing to fix)" in sample(Status.FAIL, Status.PASS).headline()
    assert sample(Status.PASS).headline().endswith("done.")


def test_text_puts_each_hint_under_its_item() -> None:
    """In text, every ✗ line is followed by its hint."""
    lines = str(sample(Status.PASS, Status.FAIL)).split("\n")
    assert lines[1].startswith("  ✓ thing 0")
    assert lines[2].startswith("  ✗ thing 1: found 1")
    assert lines[3].strip() == "→ do this"


def test_html_escapes_and_marks() -> None:
    """The HTML shows marks and escapes learner text."""
    report = Report(
        "lab1.step2",
        "Policy",
        (CheckItem("<b>x</b>", Status.FAIL, "a & b", "use <this>", "c"),),
    )
    html = report._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "a &amp; b" in html and "✗" in html
    assert "<b>x</b>" not in html


def test_codes_and_item_lookup() -> None:
    """Codes list the mistakes recognised; item() finds one or says which exist."""
    report = sample(Status.FAIL, Status.PASS, Status.WARN)
    assert report.codes == ("c0", "c2")
    assert report.item("c1").status is Status.PASS
    with pytest.raises(KeyError, match="c9"):
        report.item("c9")


def test_to_dict_is_plain_data() -> None:
    """to_dict() has the verdict and every item's fields as strings."""
    data = sample(Status.FAIL).to_dict()
    assert data["passed"] is False and data["status"] == "not done yet"
    assert data["items"][0] == {
        "label": "thing 0",
        "status": "fail",
        "detail": "found 0",
        "hint": "do this",
        "code": "c0",
    }


def test_all_reports_summary_and_lookup() -> None:
    """AllReports passes only if every report passes, and finds reports by step."""
    done = Report("lab1.step1", "a", (CheckItem("x", Status.PASS),))
    open_ = Report("lab1.step2", "b", (CheckItem("y", Status.FAIL, "", "h"),))
    both = AllReports.of([done, open_])
    assert not both.passed and both.done == ["lab1.step1"]
    assert both["lab1.step2"] is open_
    assert both.summary().count("\n") == 1
    assert both.to_dict()["steps"][1]["passed"] is False
