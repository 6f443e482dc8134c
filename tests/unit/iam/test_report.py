"""Rendering of reports: text for terminals, self-contained escaped HTML for notebooks."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from labkit.iam import (
    ExcessItem,
    ExcessKind,
    GrantedItem,
    MissingItem,
    PolicyReport,
    Problem,
    Severity,
    StatementRef,
    check_least_privilege,
    parse_policy,
)

REF = StatementRef("ReduceLambdaPolicy", 0, "Write", "Allow")


def sample(**changes: Any) -> PolicyReport:
    """A report with one line of every kind."""
    base = PolicyReport(
        title="ReduceLambdaPolicy",
        granted=(GrantedItem("dynamodb:GetItem", "arn:aws:dynamodb:r:a:table/P", REF),),
        missing=(
            MissingItem(
                "dynamodb:UpdateItem",
                "arn:aws:dynamodb:r:a:table/A",
                "nothing allows it.",
                "Add it.",
            ),
        ),
        excess=(
            ExcessItem(
                ExcessKind.OTHER_ACTIONS,
                (REF,),
                ("dynamodb:PutItem",),
                "*",
                "too much.",
                "Remove it.",
            ),
        ),
        warnings=(Problem("w", Severity.WARNING, "statement 1", "careful.", "Look again."),),
        problems=(Problem("e", Severity.ERROR, "statement 2", "broken.", "Fix it."),),
    )
    return dataclasses.replace(base, **changes)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_report_is_a_frozen_dataclass() -> None:
    """PolicyReport is immutable."""
    report = sample()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.title = "x"  # type: ignore[misc]


def test_passed_only_without_missing_problems_or_failing_excess() -> None:
    """passed is False while anything must change, True with only notes and warnings."""
    assert not sample().passed
    assert not sample(missing=(), problems=()).passed
    note = ExcessItem(
        ExcessKind.OTHER_REGIONS_OR_ACCOUNTS, (REF,), (), "", "note.", "Fine.", fails=False
    )
    assert sample(missing=(), problems=(), excess=(note,)).passed


def test_text_has_marks_and_fixes() -> None:
    """The text form marks each line ✓, ✗ or ! and puts the fix under it."""
    text = str(sample())
    assert text.splitlines()[0] == "✗ ReduceLambdaPolicy: 3 things to fix."
    assert "  ✗ dynamodb:UpdateItem on table/A: nothing allows it." in text
    assert "      → Add it." in text
    assert "  ✓ dynamodb:GetItem on table/P" in text
    assert '      → Allowed by ReduceLambdaPolicy "Write".' in text
    assert '  ✗ ReduceLambdaPolicy "Write": too much.' in text
    assert "  ! statement 1: careful." in text
    assert "Mistakes in the policy" in text


def test_passing_headline() -> None:
    """A passing report says so in its first line."""
    text = str(sample(missing=(), problems=(), excess=(), warnings=()))
    assert text.splitlines()[0] == "✓ ReduceLambdaPolicy: looks right."


def test_html_is_self_contained_and_well_formed() -> None:
    """The HTML uses inline styles only: no script, style block or external link."""
    html = sample()._repr_html_()
    parser = _Collector()
    parser.feed(html)
    assert not {"script", "style", "link", "img"} & set(parser.tags)
    assert 'style="' in html
    assert "class=" not in html
    assert html.count("<div") == html.count("</div>")
    assert html.count("<li") == html.count("</li>")
    text = "".join(parser.text)
    for mark in ("✓", "✗", "!"):
        assert mark in text
    assert "→ Add it." in text


def test_html_escapes_everything() -> None:
    """Text from policies is escaped, so a Sid or ARN cannot inject markup."""
    evil = StatementRef("<b>Policy</b>", 0, '"><script>alert(1)</script>', "Allow")
    report = sample(
        title="<img src=x onerror=alert(1)>",
        granted=(GrantedItem("dynamodb:GetItem", "arn:<i>", evil),),
        missing=(MissingItem("a&b", "<r>", "<m>", "<f>"),),
    )
    html = report._repr_html_()
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "a&amp;b" in html


def test_html_from_a_real_report() -> None:
    """A real least-privilege report renders to HTML containing its hints."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S",
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:*:*:table/P",
            }
        ],
    }
    report = check_least_privilege(
        parse_policy(doc, name="P"),
        [("dynamodb:UpdateItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/AggregateTable")],
    )
    html = report._repr_html_()
    assert "no statement allows dynamodb:UpdateItem on table/AggregateTable" in html
    assert re.search(r"<code[^>]*>dynamodb:UpdateItem</code>", html)


def test_item_strings() -> None:
    """Each item prints as one line with its mark."""
    item = sample().missing[0]
    assert str(item).startswith("✗ dynamodb:UpdateItem on")
    assert str(sample().problems[0]) == "✗ statement 2: broken. Fix it."
    assert str(sample().warnings[0]) == "! statement 1: careful. Look again."
