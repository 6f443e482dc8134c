"""Table-driven tests: (policies, request, expected AWS decision, deciding statement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from labkit.iam import Decision, compile_policies, evaluate, is_allowed, parse_policy

ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
ACCT = "123456789012"
T = f"arn:aws:dynamodb:eu-west-1:{ACCT}:table"
AGG = f"{T}/AggregateTable"
STREAM = f"{T}/ReduceTable/stream/2024-05-01T12:00:00.000"
LOGS = f"arn:aws:logs:eu-west-1:{ACCT}:log-group:/aws/lambda/ReduceLambda"
LOG_STREAM = f"{LOGS}:log-stream:2024/05/01/[$LATEST]abc123"


def st(effect: str = "Allow", sid: str | None = None, **elements: Any) -> dict[str, Any]:
    """A statement; keyword names are policy element names (Action=…, NotResource=…)."""
    out: dict[str, Any] = {"Effect": effect, **elements}
    if sid:
        out["Sid"] = sid
    return out


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    """A policy document with the given statements."""
    return {"Version": version, "Statement": list(statements)}


def allow(action: Any, resource: Any, sid: str = "A", **extra: Any) -> dict[str, Any]:
    """An Allow statement."""
    return st("Allow", sid, Action=action, Resource=resource, **extra)


def deny(action: Any, resource: Any, sid: str = "D", **extra: Any) -> dict[str, Any]:
    """A Deny statement."""
    return st("Deny", sid, Action=action, Resource=resource, **extra)


@dataclass(frozen=True)
class Case:
    """One row: the policies, the request, and what AWS decides."""

    name: str
    policies: list[dict[str, Any]]
    action: str
    resource: str
    expected: Decision
    by: str | None = None  # Sid (or "statement N") of the deciding statement
    context: dict[str, Any] = field(default_factory=dict)


def cond(block: dict[str, Any], effect: str = "Allow") -> dict[str, Any]:
    """A policy with one statement on GetItem/* guarded by ``block``."""
    return doc(st(effect, "C", Action="dynamodb:GetItem", Resource="*", Condition=block))


def c(name: str, block: dict[str, Any], context: dict[str, Any], expected: Decision) -> Case:
    """A condition case: GetItem on the AggregateTable with ``context``."""
    by = "C" if expected is not IMPLICIT else None
    return Case(name, [cond(block)], "dynamodb:GetItem", AGG, expected, by, context)


CASES: list[Case] = [
    # --- basic allow / deny logic ------------------------------------------------------------
    Case("no statements: implicit deny", [doc()], "dynamodb:GetItem", AGG, IMPLICIT),
    Case(
        "simple allow", [doc(allow("dynamodb:GetItem", AGG))], "dynamodb:GetItem", AGG, ALLOW, "A"
    ),
    Case(
        "other action: implicit deny",
        [doc(allow("dynamodb:GetItem", AGG))],
        "dynamodb:PutItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "other resource: implicit deny",
        [doc(allow("dynamodb:GetItem", AGG))],
        "dynamodb:GetItem",
        f"{T}/Other",
        IMPLICIT,
    ),
    Case(
        "deny beats allow, deny listed last",
        [doc(allow("dynamodb:*", "*"), deny("dynamodb:GetItem", AGG))],
        "dynamodb:GetItem",
        AGG,
        EXPLICIT,
        "D",
    ),
    Case(
        "deny beats allow, deny listed first",
        [doc(deny("dynamodb:GetItem", AGG), allow("dynamodb:*", "*"))],
        "dynamodb:GetItem",
        AGG,
        EXPLICIT,
        "D",
    ),
    Case(
        "deny in another policy beats allow",
        [doc(allow("*", "*")), doc(deny("dynamodb:GetItem", "*"))],
        "dynamodb:GetItem",
        AGG,
        EXPLICIT,
        "D",
    ),
    Case(
        "deny on other resource does not block",
        [doc(allow("dynamodb:*", "*"), deny("dynamodb:GetItem", f"{T}/Other"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "deny alone is still a deny",
        [doc(deny("dynamodb:GetItem", "*"))],
        "dynamodb:GetItem",
        AGG,
        EXPLICIT,
        "D",
    ),
    Case(
        "deny of other action leaves allow",
        [doc(allow("dynamodb:*", "*"), deny("dynamodb:DeleteTable", "*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "first matching allow decides",
        [doc(allow("dynamodb:GetItem", AGG, sid="First"), allow("dynamodb:*", "*", sid="Second"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "First",
    ),
    Case(
        "unnamed statement reported by position",
        [doc(st("Allow", Action="dynamodb:GetItem", Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "statement 1",
    ),
    Case(
        "statement with a bad Effect is ignored",
        [doc(st("allow", Action="dynamodb:GetItem", Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "empty NotAction list grants nothing",
        [doc(st("Allow", "E", NotAction=[], Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "empty NotResource list grants nothing",
        [doc(st("Allow", "E", Action="*", NotResource=[]))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "statement without Action grants nothing",
        [doc(st("Allow", Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    # --- NotAction / NotResource -------------------------------------------------------------
    Case(
        "NotAction allows everything else",
        [doc(st("Allow", "N", NotAction="dynamodb:DeleteTable", Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "N",
    ),
    Case(
        "NotAction excludes the listed action",
        [doc(st("Allow", "N", NotAction="dynamodb:DeleteTable", Resource="*"))],
        "dynamodb:DeleteTable",
        AGG,
        IMPLICIT,
    ),
    Case(
        "NotAction with wildcard excludes a family",
        [doc(st("Allow", "N", NotAction="dynamodb:Delete*", Resource="*"))],
        "dynamodb:DeleteItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "Deny with NotAction denies everything else",
        [doc(allow("*", "*"), st("Deny", "DN", NotAction="dynamodb:GetItem", Resource="*"))],
        "dynamodb:PutItem",
        AGG,
        EXPLICIT,
        "DN",
    ),
    Case(
        "Deny with NotAction spares the listed action",
        [doc(allow("*", "*"), st("Deny", "DN", NotAction="dynamodb:GetItem", Resource="*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "NotResource allows other resources",
        [doc(st("Allow", "NR", Action="dynamodb:*", NotResource=f"{T}/Secret"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "NR",
    ),
    Case(
        "NotResource excludes the listed resource",
        [doc(st("Allow", "NR", Action="dynamodb:*", NotResource=f"{T}/Secret"))],
        "dynamodb:GetItem",
        f"{T}/Secret",
        IMPLICIT,
    ),
    Case(
        "Deny with NotResource protects all but one",
        [doc(allow("*", "*"), st("Deny", "DNR", Action="*", NotResource=AGG))],
        "dynamodb:GetItem",
        f"{T}/Other",
        EXPLICIT,
        "DNR",
    ),
    # --- action wildcards and case -----------------------------------------------------------
    Case(
        "star matches every action",
        [doc(allow("*", "*"))],
        "logs:PutLogEvents",
        LOG_STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "prefix star", [doc(allow("dynamodb:Get*", "*"))], "dynamodb:GetRecords", STREAM, ALLOW, "A"
    ),
    Case(
        "prefix star does not match other prefix",
        [doc(allow("dynamodb:Get*", "*"))],
        "dynamodb:BatchGetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "suffix star", [doc(allow("dynamodb:*Item", "*"))], "dynamodb:UpdateItem", AGG, ALLOW, "A"
    ),
    Case(
        "question mark is one character",
        [doc(allow("dynamodb:GetIte?", "*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "question mark is not zero characters",
        [doc(allow("dynamodb:GetItem?", "*"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "action in policy compared ignoring case",
        [doc(allow("DynamoDB:getitem", "*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "action in request compared ignoring case",
        [doc(allow("dynamodb:Get*", "*"))],
        "DYNAMODB:GETITEM",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "service prefix must match",
        [doc(allow("dynamodb:*", "*"))],
        "dynamodbx:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "list of actions: any may match",
        [doc(allow(["dynamodb:PutItem", "dynamodb:GetItem"], "*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    # --- resource wildcards, case and literal characters -------------------------------------
    Case(
        "ARN compared case-sensitively",
        [doc(allow("dynamodb:GetItem", f"{T}/aggregatetable"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "star in region and account",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/AggregateTable"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "region wildcard within segment",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:eu-*:*:table/AggregateTable"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "region wildcard that does not fit",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:us-*:*:table/AggregateTable"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "question mark in region",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-?:*:table/AggregateTable"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "table/* also covers streams",
        [doc(allow("dynamodb:GetRecords", f"{T}/*"))],
        "dynamodb:GetRecords",
        STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "table ARN does not cover its stream",
        [doc(allow("dynamodb:GetRecords", f"{T}/ReduceTable"))],
        "dynamodb:GetRecords",
        STREAM,
        IMPLICIT,
    ),
    Case(
        "stream/* covers any label",
        [doc(allow("dynamodb:GetRecords", "arn:aws:dynamodb:*:*:table/ReduceTable/stream/*"))],
        "dynamodb:GetRecords",
        STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "trailing star runs past colons",
        [doc(allow("logs:PutLogEvents", "arn:aws:logs:*:*:*"))],
        "logs:PutLogEvents",
        LOG_STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "log-group:name:* covers its streams",
        [doc(allow("logs:PutLogEvents", f"{LOGS}:*"))],
        "logs:PutLogEvents",
        LOG_STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "log group ARN without :* misses streams",
        [doc(allow("logs:PutLogEvents", LOGS))],
        "logs:PutLogEvents",
        LOG_STREAM,
        IMPLICIT,
    ),
    Case(
        "short ARN ending in star",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*"))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    Case(
        "mid-segment star does not cross a colon",
        [doc(allow("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:/aws/lambda/*stream:2024*"))],
        "logs:PutLogEvents",
        LOG_STREAM,
        IMPLICIT,
    ),
    Case(
        "star in region does not swallow the account",
        [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:table/AggregateTable"))],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
    ),
    Case(
        "dot is a plain character",
        [doc(allow("dynamodb:GetItem", f"{T}/my.table"))],
        "dynamodb:GetItem",
        f"{T}/myXtable",
        IMPLICIT,
    ),
    Case(
        "dot matches itself",
        [doc(allow("dynamodb:GetItem", f"{T}/my.table"))],
        "dynamodb:GetItem",
        f"{T}/my.table",
        ALLOW,
        "A",
    ),
    Case(
        "plus is a plain character",
        [doc(allow("dynamodb:GetItem", f"{T}/a+b"))],
        "dynamodb:GetItem",
        f"{T}/aab",
        IMPLICIT,
    ),
    Case(
        "brackets and dollar are plain",
        [doc(allow("logs:PutLogEvents", LOG_STREAM))],
        "logs:PutLogEvents",
        LOG_STREAM,
        ALLOW,
        "A",
    ),
    Case(
        "brackets are not a character class",
        [doc(allow("logs:PutLogEvents", f"{LOGS}:log-stream:[ab]"))],
        "logs:PutLogEvents",
        f"{LOGS}:log-stream:a",
        IMPLICIT,
    ),
    Case(
        "list of resources: any may match",
        [doc(allow("dynamodb:GetItem", [f"{T}/X", AGG]))],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
    ),
    # --- conditions: strings -----------------------------------------------------------------
    c(
        "StringEquals matches",
        {"StringEquals": {"aws:username": "ana"}},
        {"aws:username": "ana"},
        ALLOW,
    ),
    c(
        "StringEquals is case-sensitive",
        {"StringEquals": {"aws:username": "ana"}},
        {"aws:username": "Ana"},
        IMPLICIT,
    ),
    c(
        "StringEquals with missing key is false",
        {"StringEquals": {"aws:username": "ana"}},
        {},
        IMPLICIT,
    ),
    c(
        "condition key names ignore case",
        {"StringEquals": {"AWS:UserName": "ana"}},
        {"aws:username": "ana"},
        ALLOW,
    ),
    c(
        "several values are alternatives",
        {"StringEquals": {"aws:username": ["bo", "ana"]}},
        {"aws:username": "ana"},
        ALLOW,
    ),
    c(
        "StringNotEquals with other value",
        {"StringNotEquals": {"aws:username": "ana"}},
        {"aws:username": "bo"},
        ALLOW,
    ),
    c(
        "StringNotEquals must miss every value",
        {"StringNotEquals": {"aws:username": ["bo", "ana"]}},
        {"aws:username": "ana"},
        IMPLICIT,
    ),
    c(
        "StringNotEquals with missing key is true",
        {"StringNotEquals": {"aws:username": "ana"}},
        {},
        ALLOW,
    ),
    c(
        "StringEqualsIgnoreCase",
        {"StringEqualsIgnoreCase": {"aws:username": "ANA"}},
        {"aws:username": "ana"},
        ALLOW,
    ),
    c(
        "StringLike with star",
        {"StringLike": {"aws:username": "an*"}},
        {"aws:username": "anabel"},
        ALLOW,
    ),
    c(
        "StringLike star crosses slashes",
        {"StringLike": {"s3:prefix": "home/*"}},
        {"s3:prefix": "home/a/b"},
        ALLOW,
    ),
    c(
        "StringLike without match",
        {"StringLike": {"aws:username": "an?"}},
        {"aws:username": "anabel"},
        IMPLICIT,
    ),
    c(
        "StringNotLike",
        {"StringNotLike": {"aws:username": "admin*"}},
        {"aws:username": "ana"},
        ALLOW,
    ),
    # --- conditions: other operators ---------------------------------------------------------
    c(
        "ArnLike with wildcards",
        {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:Reduce*"}},
        {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{ACCT}:function:ReduceLambda"},
        ALLOW,
    ),
    c(
        "ArnEquals also takes wildcards",
        {"ArnEquals": {"aws:SourceArn": "arn:aws:lambda:*:*:function:X"}},
        {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{ACCT}:function:X"},
        ALLOW,
    ),
    c(
        "ArnNotLike",
        {"ArnNotLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:X"}},
        {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{ACCT}:function:Y"},
        ALLOW,
    ),
    c("Bool true", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, ALLOW),
    c(
        "Bool false does not match true",
        {"Bool": {"aws:SecureTransport": "false"}},
        {"aws:SecureTransport": "true"},
        IMPLICIT,
    ),
    c(
        "Bool with JSON true in policy",
        {"Bool": {"aws:SecureTransport": True}},
        {"aws:SecureTransport": "true"},
        ALLOW,
    ),
    c("Null true when key missing", {"Null": {"aws:TokenIssueTime": "true"}}, {}, ALLOW),
    c(
        "Null true fails when key present",
        {"Null": {"aws:TokenIssueTime": "true"}},
        {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"},
        IMPLICIT,
    ),
    c(
        "Null false when key present",
        {"Null": {"aws:TokenIssueTime": "false"}},
        {"aws:TokenIssueTime": "x"},
        ALLOW,
    ),
    c(
        "NumericLessThan",
        {"NumericLessThan": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": 10},
        ALLOW,
    ),
    c(
        "NumericLessThan at the bound",
        {"NumericLessThan": {"dynamodb:Limit": "100"}},
        {"dynamodb:Limit": "100"},
        IMPLICIT,
    ),
    c(
        "NumericGreaterThanEquals at the bound",
        {"NumericGreaterThanEquals": {"x:n": "5"}},
        {"x:n": 5},
        ALLOW,
    ),
    c(
        "NumericEquals with a non-number",
        {"NumericEquals": {"x:n": "5"}},
        {"x:n": "five"},
        IMPLICIT,
    ),
    c(
        "DateGreaterThan",
        {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
        {"aws:CurrentTime": datetime(2024, 6, 1, tzinfo=UTC)},
        ALLOW,
    ),
    c(
        "DateLessThan with epoch seconds",
        {"DateLessThan": {"aws:EpochTime": "1700000000"}},
        {"aws:EpochTime": 1600000000},
        ALLOW,
    ),
    c(
        "IpAddress in range",
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": "10.1.2.3"},
        ALLOW,
    ),
    c(
        "NotIpAddress outside range",
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"aws:SourceIp": "192.168.0.1"},
        ALLOW,
    ),
    # --- IfExists and set operators ----------------------------------------------------------
    c(
        "IfExists with missing key is true",
        {"StringEqualsIfExists": {"aws:username": "ana"}},
        {},
        ALLOW,
    ),
    c(
        "IfExists with wrong value is false",
        {"StringEqualsIfExists": {"aws:username": "ana"}},
        {"aws:username": "bo"},
        IMPLICIT,
    ),
    c(
        "ForAnyValue: one value matches",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["env", "cost"]},
        ALLOW,
    ),
    c(
        "ForAnyValue: none matches",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
        {"aws:TagKeys": ["env", "cost"]},
        IMPLICIT,
    ),
    c(
        "ForAnyValue: missing key is false",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}},
        {},
        IMPLICIT,
    ),
    c(
        "ForAllValues: subset matches",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}},
        {"aws:TagKeys": ["env"]},
        ALLOW,
    ),
    c(
        "ForAllValues: one value outside",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        {"aws:TagKeys": ["team", "cost"]},
        IMPLICIT,
    ),
    c(
        "ForAllValues: missing key is true",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}},
        {},
        ALLOW,
    ),
    c(
        "ForAllValues with StringLike",
        {"ForAllValues:StringLike": {"dynamodb:Attributes": ["Id*", "Value"]}},
        {"dynamodb:Attributes": ["Identifier", "Value"]},
        ALLOW,
    ),
    # --- several keys and operators ----------------------------------------------------------
    c(
        "two keys must both hold",
        {"StringEquals": {"aws:username": "ana", "aws:RequestedRegion": "eu-west-1"}},
        {"aws:username": "ana", "aws:RequestedRegion": "us-east-1"},
        IMPLICIT,
    ),
    c(
        "two keys both hold",
        {"StringEquals": {"aws:username": "ana", "aws:RequestedRegion": "eu-west-1"}},
        {"aws:username": "ana", "aws:RequestedRegion": "eu-west-1"},
        ALLOW,
    ),
    c(
        "two operators must both hold",
        {"StringEquals": {"aws:username": "ana"}, "Bool": {"aws:SecureTransport": "true"}},
        {"aws:username": "ana", "aws:SecureTransport": "false"},
        IMPLICIT,
    ),
    Case(
        "Deny whose condition fails leaves the allow",
        [
            doc(
                allow("dynamodb:*", "*"),
                deny("dynamodb:GetItem", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            )
        ],
        "dynamodb:GetItem",
        AGG,
        ALLOW,
        "A",
        {"aws:SecureTransport": "true"},
    ),
    Case(
        "Deny whose condition holds",
        [
            doc(
                allow("dynamodb:*", "*"),
                deny("dynamodb:GetItem", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            )
        ],
        "dynamodb:GetItem",
        AGG,
        EXPLICIT,
        "D",
        {"aws:SecureTransport": "false"},
    ),
    Case(
        "unknown operator: statement never applies",
        [cond({"StringEqual": {"aws:username": "ana"}})],
        "dynamodb:GetItem",
        AGG,
        IMPLICIT,
        None,
        {"aws:username": "ana"},
    ),
    # --- policy variables --------------------------------------------------------------------
    Case(
        "variable in resource",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username}}"))],
        "dynamodb:GetItem",
        f"{T}/ana",
        ALLOW,
        "A",
        {"aws:username": "ana"},
    ),
    Case(
        "variable for another user",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username}}"))],
        "dynamodb:GetItem",
        f"{T}/bo",
        IMPLICIT,
        None,
        {"aws:username": "ana"},
    ),
    Case(
        "variable without a value matches nothing",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username}}"))],
        "dynamodb:GetItem",
        f"{T}/ana",
        IMPLICIT,
    ),
    Case(
        "variable with a default",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username, 'guest'}}"))],
        "dynamodb:GetItem",
        f"{T}/guest",
        ALLOW,
        "A",
    ),
    Case(
        "wildcard inside a variable value is literal",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username}}"))],
        "dynamodb:GetItem",
        f"{T}/ana",
        IMPLICIT,
        None,
        {"aws:username": "*"},
    ),
    Case(
        "escaped star is a literal star",
        [doc(allow("dynamodb:GetItem", f"{T}/a${{*}}"))],
        "dynamodb:GetItem",
        f"{T}/a*",
        ALLOW,
        "A",
    ),
    Case(
        "escaped star is not a wildcard",
        [doc(allow("dynamodb:GetItem", f"{T}/a${{*}}"))],
        "dynamodb:GetItem",
        f"{T}/ab",
        IMPLICIT,
    ),
    Case(
        "no variables in 2008 policies",
        [doc(allow("dynamodb:GetItem", f"{T}/${{aws:username}}"), version="2008-10-17")],
        "dynamodb:GetItem",
        f"{T}/ana",
        IMPLICIT,
        None,
        {"aws:username": "ana"},
    ),
    c(
        "variable in a condition value",
        {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
        {"aws:PrincipalTag/team": "ana", "aws:username": "ana"},
        ALLOW,
    ),
]


def test_table_has_enough_cases() -> None:
    """The table covers at least 60 requests."""
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_decision(case: Case) -> None:
    """Each request gets AWS's decision, and the deciding statement is named."""
    policies = [parse_policy(p, name=f"P{i}") for i, p in enumerate(case.policies)]
    result = evaluate(policies, case.action, case.resource, case.context)
    assert result.decision is case.expected
    assert result.allowed is (case.expected is ALLOW)
    if case.by is None:
        assert result.decided_by is None
    else:
        ref = result.decided_by
        assert ref is not None
        assert case.by == (ref.sid or f"statement {ref.index + 1}")
        assert ref.policy.startswith("P")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_compiled_set_agrees(case: Case) -> None:
    """A compiled PolicySet and is_allowed give the same answer as evaluate."""
    compiled = compile_policies(case.policies)
    assert compiled.evaluate(case.action, case.resource, case.context).decision is case.expected
    assert compiled.is_allowed(case.action, case.resource, case.context) is (case.expected is ALLOW)
    assert is_allowed(case.policies, case.action, case.resource, case.context) is (
        case.expected is ALLOW
    )


def test_decided_by_names_the_policy() -> None:
    """The deciding statement carries the policy's name, its Sid and its position."""
    policy = parse_policy(
        doc(allow("dynamodb:GetItem", "*", sid="ReadIt")), name="ReduceLambdaPolicy"
    )
    result = evaluate(policy, "dynamodb:GetItem", AGG)
    assert result.decided_by is not None
    assert (result.decided_by.policy, result.decided_by.sid, result.decided_by.index) == (
        "ReduceLambdaPolicy",
        "ReadIt",
        0,
    )
    assert str(result.decided_by) == 'ReduceLambdaPolicy "ReadIt"'
    assert "allowed by ReduceLambdaPolicy" in str(result)


def test_policies_by_name_mapping() -> None:
    """A mapping of names to documents names the deciding policy."""
    result = evaluate(
        {"Base": doc(allow("*", "*")), "Guard": doc(deny("dynamodb:DeleteTable", "*"))},
        "dynamodb:DeleteTable",
        AGG,
    )
    assert result.decision is EXPLICIT
    assert result.decided_by is not None and result.decided_by.policy == "Guard"
    assert "denied by the Deny statement Guard" in str(result)
