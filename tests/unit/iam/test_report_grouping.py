"""IAM reports group what they find: one line per cause and per statement, each diagnosis once,
a blocking Deny first, and resources as a policy names them (no made-up labels or streams)."""

from __future__ import annotations

import json
from typing import Any

from labkit.iam import check_least_privilege, lambda_log_requirements

from .conftest import ACCOUNT, REGION, STREAM_LABEL

DDB = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
STREAM = f"{DDB}/ReduceTable/stream/{STREAM_LABEL}"
NEEDS = [
    *((f"dynamodb:{a}", STREAM) for a in ("DescribeStream", "GetRecords", "GetShardIterator")),
    ("dynamodb:UpdateItem", f"{DDB}/AggregateTable"),
    ("dynamodb:GetItem", f"{DDB}/ParameterTable"),
    *((r.action, r.resource) for r in lambda_log_requirements("ReduceLambda", REGION, ACCOUNT)),
]
CARELESS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "All", "Effect": "Allow", "Action": ["dynamodb:*", "logs:*"], "Resource": "*"}
    ],
}


def _text(policy: dict[str, Any]) -> str:
    return str(check_least_privilege({"P": policy}, NEEDS))


def test_a_wildcard_statement_is_one_finding_with_one_replacement() -> None:
    """dynamodb:* and logs:* on * is one line; its fix is statements that pass the check."""
    report = check_least_privilege({"P": CARELESS}, NEEDS)
    [finding] = [f for f in report.too_broad() if f.mark == "✗"]
    assert finding.text.count('P "All"') == 1
    block = finding.fix.split("\n\n", 1)[1]
    statements = json.loads("\n".join(line[4:] for line in block.split("\n\n")[0].split("\n")))
    fixed = {"Version": "2012-10-17", "Statement": statements}
    assert check_least_privilege({"P": fixed}, NEEDS).passed


def test_each_diagnosis_is_said_once() -> None:
    """No fix sentence appears twice in a report."""
    fixes = [f.fix for f in check_least_privilege({"P": CARELESS}, NEEDS).too_broad()]
    assert len(fixes) == len(set(fixes))
    assert _text(CARELESS).count("Replace dynamodb:*") <= 1


def test_needed_permissions_are_grouped_and_shown_without_made_up_arns() -> None:
    """The three stream actions are one line, shown as …/stream/*; no stream label or
    invented log stream name appears anywhere."""
    text = _text({"Version": "2012-10-17", "Statement": [CARELESS["Statement"][0]]})
    assert (
        "dynamodb:DescribeStream, dynamodb:GetRecords and dynamodb:GetShardIterator on "
        "table/ReduceTable/stream/*" in text
    )
    assert STREAM_LABEL not in text and "[$LATEST]" not in text and "2024/01/01" not in text


def test_a_blocking_deny_comes_first() -> None:
    """A Deny on GetRecords is the first thing the report lists."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Nothing", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"},
            {
                "Sid": "NoStreams",
                "Effect": "Deny",
                "Action": "dynamodb:GetRecords",
                "Resource": "*",
            },
        ],
    }
    first = check_least_privilege({"P": policy}, NEEDS).needed()[0]
    assert first.blocked and "Deny" in first.text and first.actions == ("dynamodb:GetRecords",)


def test_code_in_fixes_shows_as_code_in_html() -> None:
    """Backticked code becomes <code>, an indented block a <pre>."""
    html = check_least_privilege({"P": CARELESS}, NEEDS)._repr_html_()
    assert "<pre" in html and "<code" not in html.split("<pre", 1)[1].split("</pre>", 1)[0]
