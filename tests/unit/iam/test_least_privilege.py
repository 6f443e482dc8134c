"""Least privilege for the ReduceLambda step: the reference policy passes, typical mistakes
fail with a hint that says what to change."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from labkit.iam import (
    ExcessKind,
    PolicyReport,
    Requirement,
    check_least_privilege,
    lambda_log_requirements,
    parse_policy,
)

from .conftest import ACCOUNT, REGION, STREAM_LABEL, load_policy

DDB = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
STREAM = f"{DDB}/ReduceTable/stream/{STREAM_LABEL}"
AGGREGATE = f"{DDB}/AggregateTable"
PARAMETERS = f"{DDB}/ParameterTable"

#: What the ReduceLambda step needs.
REQUIRED: list[Requirement] = [
    *(
        Requirement(f"dynamodb:{a}", STREAM)
        for a in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
    ),
    Requirement("dynamodb:UpdateItem", AGGREGATE),
    Requirement("dynamodb:GetItem", PARAMETERS),
    *lambda_log_requirements("ReduceLambda", REGION, ACCOUNT),
]


def check(doc: dict[str, Any]) -> PolicyReport:
    """The least-privilege report for ``doc`` against the ReduceLambda step."""
    return check_least_privilege(parse_policy(doc, name="ReduceLambdaPolicy"), REQUIRED)


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The reference policy with ``edit`` applied to a deep copy."""
    doc = copy.deepcopy(load_policy("reduce_lambda_policy.json"))
    edit(doc)
    return doc


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    """The statement with this Sid."""
    return next(s for s in doc["Statement"] if s.get("Sid") == sid)


def missing_for(report: PolicyReport, action: str) -> str:
    """The message and fix of the missing item for ``action``, as one line."""
    found = [m for m in report.missing if m.action == action]
    assert found, str(report)
    return f"{found[0].message} {found[0].fix}"


# --- the reference policy ---------------------------------------------------------------------


def test_reference_policy_passes(reduce_policy: dict[str, Any]) -> None:
    """The lab's solution ReduceLambdaPolicy passes, granting every required permission."""
    report = check(reduce_policy)
    assert report.passed, str(report)
    assert report.missing == ()
    assert report.problems == ()
    assert len(report.granted) == len(REQUIRED)
    assert all(not e.fails for e in report.excess)


def test_reference_policy_warns_about_list_streams(reduce_policy: dict[str, Any]) -> None:
    """The only warning on the reference policy is ListStreams scoped to the stream ARN."""
    report = check(reduce_policy)
    assert [w.code for w in report.warnings] == ["no-resource-level"]
    assert "dynamodb:ListStreams" in report.warnings[0].message


def test_reference_policy_notes_region_and_account_wildcards(
    reduce_policy: dict[str, Any],
) -> None:
    """Wildcard regions and accounts give one note that does not fail the step."""
    report = check(reduce_policy)
    notes = [e for e in report.excess if e.kind is ExcessKind.OTHER_REGIONS_OR_ACCOUNTS]
    assert len(notes) == 1 and not notes[0].fails
    assert "fine for this lab" in notes[0].fix
    assert "eu-west-1 and 123456789012" in notes[0].fix


def test_granted_items_name_their_statement(reduce_policy: dict[str, Any]) -> None:
    """Each granted permission names the statement that grants it."""
    report = check(reduce_policy)
    by_action = {g.action: g.granted_by for g in report.granted}
    update = by_action["dynamodb:UpdateItem"]
    assert update is not None and update.sid == "WriteToDynamoDBTable"


def test_exact_policy_has_no_notes() -> None:
    """A policy with exact regions and accounts has no excess at all."""

    def exact(doc: dict[str, Any]) -> None:
        for stmt in doc["Statement"]:
            if stmt["Sid"] != "CreateCloudwatchLogGroup":
                stmt["Resource"] = stmt["Resource"].replace(":*:*:", f":{REGION}:{ACCOUNT}:")

    report = check(changed(exact))
    assert report.passed and report.excess == ()


def test_list_streams_on_star_is_not_excess() -> None:
    """ListStreams with Resource * in its own statement is not reported as too broad."""

    def split(doc: dict[str, Any]) -> None:
        statement(doc, "ReadFromDynamoDBStream")["Action"].remove("dynamodb:ListStreams")
        doc["Statement"].append(
            {"Sid": "List", "Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"}
        )

    report = check(changed(split))
    assert report.passed, str(report)
    assert report.warnings == ()


# --- typical wrong policies -------------------------------------------------------------------


def test_braces_left_in_arn() -> None:
    """{Region} and {Account} left in the ARN: the hint says to replace them, braces included."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToDynamoDBTable").update(
                Resource="arn:aws:dynamodb:{Region}:{Account}:table/AggregateTable"
            )
        )
    )
    assert not report.passed
    hint = missing_for(report, "dynamodb:UpdateItem")
    assert "still contains the placeholder {Region}, {Account}" in hint
    assert "curly braces included" in hint
    assert [p.code for p in report.problems] == ["placeholder-in-arn"]


def test_stream_label_braces_left_in() -> None:
    """{StreamLabel} left in the stream ARN: the hint suggests *."""
    report = check(
        changed(
            lambda d: statement(d, "ReadFromDynamoDBStream").update(
                Resource="arn:aws:dynamodb:*:*:table/ReduceTable/stream/{StreamLabel}"
            )
        )
    )
    hint = missing_for(report, "dynamodb:GetRecords")
    assert "{StreamLabel} → * (the label changes" in hint


def test_get_records_on_table_arn() -> None:
    """Stream actions on the table ARN: the hint gives the stream ARN to use."""
    report = check(
        changed(
            lambda d: statement(d, "ReadFromDynamoDBStream").update(
                Resource="arn:aws:dynamodb:*:*:table/ReduceTable"
            )
        )
    )
    hint = missing_for(report, "dynamodb:GetRecords")
    assert "is a table ARN, but dynamodb:GetRecords is needed on a stream ARN" in hint
    assert "Use `arn:aws:dynamodb:*:*:table/ReduceTable/stream/*` for dynamodb:GetRecords" in hint
    assert "resource-type-mismatch" in [p.code for p in report.problems]


def test_dynamodb_star_on_star() -> None:
    """dynamodb:* on *: other tables, other actions and write access are all reported."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Everything", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            *load_policy("reduce_lambda_policy.json")["Statement"][1:3],
        ],
    }
    report = check(doc)
    assert not report.passed
    assert report.missing == ()
    kinds = {e.kind for e in report.excess if e.fails}
    assert kinds == {ExcessKind.OTHER_RESOURCES, ExcessKind.OTHER_ACTIONS, ExcessKind.WRITE_ACCESS}
    other = next(e for e in report.excess if e.kind is ExcessKind.OTHER_RESOURCES)
    assert 'on every resource ("*"), which reaches other streams and tables too' in other.message
    assert f"{DDB}/ReduceTable/stream/*" in other.fix
    write = next(e for e in report.excess if e.kind is ExcessKind.WRITE_ACCESS)
    assert "lets the function change table/ParameterTable" in write.message
    assert "dynamodb:DeleteItem" in write.actions
    assert "Replace dynamodb:* with only the actions the step needs" in write.fix


def test_update_item_missing() -> None:
    """No statement for AggregateTable: the hint gives the statement to add."""
    report = check(changed(lambda d: d["Statement"].pop(3)))
    hint = missing_for(report, "dynamodb:UpdateItem")
    assert "no statement allows dynamodb:UpdateItem on table/AggregateTable" in hint
    assert f"allows `dynamodb:UpdateItem` on `{AGGREGATE}`" in hint


def test_put_item_instead_of_update_item() -> None:
    """PutItem where UpdateItem is needed: the hint says to replace it."""
    report = check(
        changed(lambda d: statement(d, "WriteToDynamoDBTable").update(Action=["dynamodb:PutItem"]))
    )
    hint = missing_for(report, "dynamodb:UpdateItem")
    assert "allows only dynamodb:PutItem, not dynamodb:UpdateItem" in hint
    assert "replace `dynamodb:PutItem` with `dynamodb:UpdateItem`" in hint
    extra = [e for e in report.excess if e.kind is ExcessKind.OTHER_ACTIONS]
    assert extra and extra[0].actions == ("dynamodb:PutItem",)


def test_wrong_table_name() -> None:
    """A misspelt table name: the hint names both spellings."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToDynamoDBTable").update(
                Resource="arn:aws:dynamodb:*:*:table/AggregateTabel"
            )
        )
    )
    hint = missing_for(report, "dynamodb:UpdateItem")
    assert "names the table AggregateTabel, but the step uses AggregateTable" in hint
    assert "Change AggregateTabel to AggregateTable" in hint


def test_typo_in_action() -> None:
    """dynamodb:GetRecord: the hint says to correct the spelling."""

    def typo(doc: dict[str, Any]) -> None:
        statement(doc, "ReadFromDynamoDBStream")["Action"][1] = "dynamodb:GetRecord"

    report = check(changed(typo))
    hint = missing_for(report, "dynamodb:GetRecords")
    assert 'lists "dynamodb:GetRecord", which is not an AWS action' in hint
    assert 'Change `"dynamodb:GetRecord"` to `"dynamodb:GetRecords"`' in hint
    assert [p.code for p in report.problems] == ["unknown-action"]


def test_deny_statement_blocks() -> None:
    """A Deny on the stream blocks GetRecords: the hint names the Deny statement."""

    def add_deny(doc: dict[str, Any]) -> None:
        doc["Statement"].append(
            {
                "Sid": "NoStreams",
                "Effect": "Deny",
                "Action": "dynamodb:GetRecords",
                "Resource": "arn:aws:dynamodb:*:*:table/*/stream/*",
            }
        )

    report = check(changed(add_deny))
    found = [m for m in report.missing if m.action == "dynamodb:GetRecords"]
    assert found and found[0].blocked_by is not None and found[0].blocked_by.sid == "NoStreams"
    hint = missing_for(report, "dynamodb:GetRecords")
    assert 'the Deny statement ReduceLambdaPolicy "NoStreams" blocks it' in hint
    assert "a Deny always wins" in hint


def test_wrong_region_hard_coded() -> None:
    """us-west-2 hard-coded in the ARN: the hint gives the lab's region or *."""
    report = check(
        changed(
            lambda d: statement(d, "ReadFromParameterTable").update(
                Resource="arn:aws:dynamodb:us-west-2:*:table/ParameterTable"
            )
        )
    )
    hint = missing_for(report, "dynamodb:GetItem")
    assert "names the region us-west-2, but the resource is in eu-west-1" in hint
    assert "Change the region to eu-west-1 (or use * for any region)" in hint


def test_wrong_account() -> None:
    """Another account ID in the ARN: the hint gives the right one."""
    report = check(
        changed(
            lambda d: statement(d, "ReadFromParameterTable").update(
                Resource="arn:aws:dynamodb:*:999999999999:table/ParameterTable"
            )
        )
    )
    hint = missing_for(report, "dynamodb:GetItem")
    assert "names the account ID 999999999999" in hint
    assert "Change the account ID to 123456789012" in hint


def test_table_star() -> None:
    """UpdateItem on table/*: reported as reaching other tables, with the exact ARN as fix."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToDynamoDBTable").update(
                Resource="arn:aws:dynamodb:*:*:table/*"
            )
        )
    )
    assert not report.passed and report.missing == ()
    [item] = [e for e in report.excess if e.fails]
    assert item.kind is ExcessKind.OTHER_RESOURCES
    assert "reaches other tables too; the step only needs AggregateTable" in item.message
    assert item.fix == "Narrow the Resource to arn:aws:dynamodb:*:*:table/AggregateTable."


def test_get_star_pulls_in_get_resource_policy() -> None:
    """dynamodb:Get* on ParameterTable also grants GetResourcePolicy and friends."""
    report = check(
        changed(lambda d: statement(d, "ReadFromParameterTable").update(Action="dynamodb:Get*"))
    )
    [item] = [e for e in report.excess if e.fails]
    assert item.kind is ExcessKind.OTHER_ACTIONS
    assert "dynamodb:GetResourcePolicy" in item.actions
    assert (
        item.fix
    ) == "Replace dynamodb:Get* with only the actions the step needs: dynamodb:GetItem."


def test_write_access_where_read_was_asked() -> None:
    """dynamodb:*Item on ParameterTable lets the function change a table it only reads."""
    report = check(
        changed(lambda d: statement(d, "ReadFromParameterTable").update(Action="dynamodb:*Item"))
    )
    write = [e for e in report.excess if e.kind is ExcessKind.WRITE_ACCESS]
    assert len(write) == 1 and write[0].fails
    assert write[0].message.startswith("lets the function change table/ParameterTable")
    assert "which the step only reads" in write[0].message
    assert set(write[0].actions) == {
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }
    reads = [e for e in report.excess if e.kind is ExcessKind.OTHER_ACTIONS]
    assert reads and "dynamodb:BatchGetItem" in reads[0].actions


def test_needed_write_on_a_read_only_table() -> None:
    """UpdateItem also on ParameterTable is write access; the fix gives it its own statement."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToDynamoDBTable").update(
                Resource=[
                    "arn:aws:dynamodb:*:*:table/AggregateTable",
                    "arn:aws:dynamodb:*:*:table/ParameterTable",
                ]
            )
        )
    )
    [item] = [e for e in report.excess if e.fails]
    assert item.kind is ExcessKind.WRITE_ACCESS
    assert item.fix == (
        "Give dynamodb:UpdateItem a statement of its own whose Resource is only "
        "arn:aws:dynamodb:*:*:table/AggregateTable."
    )


def test_log_group_without_colon_star() -> None:
    """PutLogEvents on the bare log group ARN misses the log streams."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToCloudwatchLogGroup").update(
                Resource="arn:aws:logs:*:*:log-group:/aws/lambda/ReduceLambda"
            )
        )
    )
    hint = missing_for(report, "logs:PutLogEvents")
    assert "is a log-group ARN, but logs:PutLogEvents is needed on a log-stream ARN" in hint


def test_action_star() -> None:
    """Action * is reported as every action of every service."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    report = check(doc)
    assert report.missing == ()
    messages = " ".join(e.message for e in report.excess)
    assert '"*" allows every action of every AWS service' in messages


def test_not_action_allow() -> None:
    """Allow with NotAction is reported as allowing nearly everything."""

    def not_action(doc: dict[str, Any]) -> None:
        stmt = statement(doc, "WriteToDynamoDBTable")
        del stmt["Action"]
        stmt["NotAction"] = "dynamodb:DeleteTable"

    report = check(changed(not_action))
    item = next(e for e in report.excess if e.actions == ("NotAction",))
    assert "every action of every AWS service except dynamodb:DeleteTable" in item.message


def test_condition_that_does_not_hold() -> None:
    """An Allow whose Condition fails: the hint points at the Condition."""
    report = check(
        changed(
            lambda d: statement(d, "ReadFromParameterTable").update(
                Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
            )
        )
    )
    hint = missing_for(report, "dynamodb:GetItem")
    assert 'ReduceLambdaPolicy "ReadFromParameterTable"' in hint or "ReadFromParameterTable" in hint
    assert "its Condition does not hold" in hint


def test_extra_table_for_needed_action() -> None:
    """UpdateItem also on StateTable is reported as a resource the step does not use."""
    report = check(
        changed(
            lambda d: statement(d, "WriteToDynamoDBTable").update(
                Resource=[
                    "arn:aws:dynamodb:*:*:table/AggregateTable",
                    "arn:aws:dynamodb:*:*:table/StateTable",
                ]
            )
        )
    )
    [item] = [e for e in report.excess if e.fails]
    assert item.kind is ExcessKind.OTHER_RESOURCES
    assert "table/StateTable as well, which the step does not use" in item.message


def test_tolerated_grants_can_be_changed(reduce_policy: dict[str, Any]) -> None:
    """Without the default tolerance, CreateLogGroup on every log group counts as excess."""
    report = check_least_privilege(
        parse_policy(reduce_policy, name="ReduceLambdaPolicy"), REQUIRED, tolerated=()
    )
    assert not report.passed
    [item] = [e for e in report.excess if e.fails]
    assert item.actions == ("logs:CreateLogGroup",)
    assert "other log groups" in item.message


@pytest.mark.parametrize("pairs", [REQUIRED, [(r.action, r.resource) for r in REQUIRED]])
def test_requirements_as_tuples_or_objects(reduce_policy: dict[str, Any], pairs: list[Any]) -> None:
    """Required permissions may be Requirement objects or (action, resource) pairs."""
    assert check_least_privilege(reduce_policy, pairs).passed


def test_every_line_says_what_to_change() -> None:
    """Every missing and excess line of a failing report carries a fix."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
    }
    report = check(doc)
    assert report.missing and report.excess
    assert all(m.fix for m in report.missing)
    assert all(e.fix for e in report.excess)


def test_problems_name_their_policy_when_there_are_several(reduce_policy: dict[str, Any]) -> None:
    """With several policies, each problem says which policy it is in."""
    broken = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "allow", "Action": "dynamodb:GetItem", "Resource": "*"}],
    }
    report = check_least_privilege({"ReduceLambdaPolicy": reduce_policy, "Extra": broken}, REQUIRED)
    [problem] = report.problems
    assert problem.where == "Extra, statement 1, Effect"
