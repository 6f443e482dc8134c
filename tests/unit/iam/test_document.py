"""Grammar problems: each one is found and explained with a specific message and fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.iam import (
    Policy,
    Problem,
    Severity,
    check_least_privilege,
    evaluate,
    lint_policy,
    parse_policy,
)

TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/AggregateTable"


def good(**changes: Any) -> dict[str, Any]:
    """A valid one-statement policy, with some statement elements changed or removed."""
    stmt: dict[str, Any] = {
        "Sid": "Write",
        "Effect": "Allow",
        "Action": "dynamodb:UpdateItem",
        "Resource": TABLE,
    }
    for key, value in changes.items():
        if value is None:
            stmt.pop(key, None)
        else:
            stmt[key] = value
    return {"Version": "2012-10-17", "Statement": [stmt]}


def only(policy: Policy, code: str) -> Problem:
    """The single problem with ``code``."""
    found = [p for p in policy.problems if p.code == code]
    assert len(found) == 1, policy.problems
    return found[0]


def test_valid_policy_has_no_problems() -> None:
    """A correct policy parses without any problem."""
    policy = parse_policy(good(), name="P")
    assert policy.problems == ()
    assert policy.ok
    assert policy.statements[0].actions == ("dynamodb:UpdateItem",)
    assert policy.statements[0].label == 'statement "Write"'


# --- JSON -------------------------------------------------------------------------------------


def test_json_error_reports_line_and_column() -> None:
    """A JSON syntax error names the line and column where it was found."""
    text = '{\n  "Version": "2012-10-17"\n  "Statement": []\n}'
    problem = only(parse_policy(text), "json-syntax")
    assert problem.where == "line 3, column 3"
    assert "without a comma" in problem.message
    assert "Add a comma" in problem.fix


def test_json_trailing_comma() -> None:
    """A trailing comma is recognised and the fix says to delete it."""
    text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",}]}'
    problem = only(parse_policy(text), "json-syntax")
    assert problem.where == "line 1, column 60"
    assert "comma after the last entry" in problem.message
    assert "Delete the comma" in problem.fix


def test_json_single_quotes() -> None:
    """A Python-style dict with single quotes gets a hint about double quotes."""
    problem = only(parse_policy("{'Version': '2012-10-17'}"), "json-syntax")
    assert "single quotes" in problem.message
    assert "double quotes" in problem.fix


def test_json_unclosed_string() -> None:
    """A string without its closing quote is explained."""
    problem = only(parse_policy('{"Version": "2012-10-17}'), "json-syntax")
    assert "never closed" in problem.message


def test_json_extra_data() -> None:
    """Text after the policy's closing brace is explained."""
    problem = only(parse_policy('{"Version": "2012-10-17"} {"Statement": []}'), "json-syntax")
    assert "more text after the end" in problem.message


def test_not_an_object() -> None:
    """A JSON list instead of an object is rejected."""
    problem = only(parse_policy("[]"), "not-an-object")
    assert "one JSON object" in problem.message


def test_duplicate_key_in_statement() -> None:
    """A key given twice, which json.loads would silently drop, is reported."""
    text = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "dynamodb:GetItem", "Action": "dynamodb:UpdateItem", "Resource": "*"}]}'
    )
    problem = only(parse_policy(text), "duplicate-key")
    assert problem.where == "statement 1"
    assert '"Action" appears more than once' in problem.message
    assert "merge the values into a list" in problem.fix


def test_duplicate_key_at_top_level() -> None:
    """A duplicate Statement key at the top of the policy is reported."""
    text = '{"Version": "2012-10-17", "Statement": [], "Statement": []}'
    problem = only(parse_policy(text), "duplicate-key")
    assert problem.where == "policy"
    assert '"Statement"' in problem.message


# --- keys and elements ------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean() -> None:
    """ "Resources" is flagged with a suggestion to use "Resource"."""
    policy = parse_policy(good(Resource=None, Resources=TABLE))
    problem = only(policy, "unknown-key")
    assert problem.message == '"Resources" is not a policy element here. Did you mean "Resource"?'
    assert problem.fix == 'Rename "Resources" to "Resource" (element names are case-sensitive).'


def test_misnamed_key_value_is_still_checked() -> None:
    """Problems inside a misnamed element's value are found too, but it grants nothing."""
    resource = "arn:aws:dynamodb:{Region}:*:table/AggregateTable"
    policy = parse_policy(good(Resource=None, Resources=resource))
    assert {p.code for p in policy.problems} == {"unknown-key", "placeholder-in-arn"}
    assert policy.statements[0].effect is None


def test_unknown_key_wrong_case() -> None:
    """A lower-case element name is flagged with the correctly written one."""
    problem = only(parse_policy(good(Effect=None, effect="Allow")), "unknown-key")
    assert 'Did you mean "Effect"?' in problem.message


def test_unknown_top_level_key() -> None:
    """An unknown key beside Version and Statement is flagged."""
    doc = {**good(), "Statements": []}
    problem = only(parse_policy(doc), "unknown-key")
    assert 'Did you mean "Statement"?' in problem.message


def test_missing_effect() -> None:
    """A statement without Effect is reported."""
    problem = only(parse_policy(good(Effect=None)), "missing-effect")
    assert 'no "Effect"' in problem.message
    assert '"Effect": "Allow"' in problem.fix


def test_bad_effect_value() -> None:
    """ "allow" in lower case is not a valid Effect."""
    problem = only(parse_policy(good(Effect="allow")), "bad-effect")
    assert '"allow" is not an Effect' in problem.message
    assert 'Change it to "Allow"' in problem.fix


def test_missing_action() -> None:
    """A statement without Action or NotAction is reported."""
    problem = only(parse_policy(good(Action=None)), "missing-action")
    assert 'no "Action"' in problem.message


def test_action_and_not_action() -> None:
    """Action and NotAction together are reported."""
    problem = only(parse_policy(good(NotAction="dynamodb:DeleteItem")), "action-and-notaction")
    assert 'both "Action" and "NotAction"' in problem.message


def test_missing_resource() -> None:
    """A statement without Resource or NotResource is reported."""
    problem = only(parse_policy(good(Resource=None)), "missing-resource")
    assert 'no "Resource"' in problem.message
    assert "ARN" in problem.fix


def test_resource_and_not_resource() -> None:
    """Resource and NotResource together are reported."""
    problem = only(parse_policy(good(NotResource="*")), "resource-and-notresource")
    assert 'both "Resource" and "NotResource"' in problem.message


def test_principal_in_identity_policy() -> None:
    """A Principal in a role's policy is reported."""
    problem = only(parse_policy(good(Principal={"AWS": "*"})), "principal-in-identity-policy")
    assert "must not have a" in problem.message
    assert 'Delete the "Principal"' in problem.fix


def test_principal_allowed_in_resource_policy() -> None:
    """A resource policy may name a Principal."""
    policy = parse_policy(good(Principal={"AWS": "*"}), kind="resource")
    assert not [p for p in policy.problems if p.code == "principal-in-identity-policy"]


def test_bad_value_type() -> None:
    """An Action that is neither text nor a list of texts is reported."""
    problem = only(parse_policy(good(Action=42)), "bad-value")
    assert "text in quotes or a list of texts" in problem.message


def test_empty_action_list() -> None:
    """An empty Action list is reported."""
    problem = only(parse_policy(good(Action=[])), "empty-list")
    assert "empty list" in problem.message


def test_bad_sid() -> None:
    """A Sid with spaces or dashes is reported."""
    problem = only(parse_policy(good(Sid="Write to table")), "bad-sid")
    assert "letters and digits" in problem.message


def test_duplicate_sid() -> None:
    """Two statements with the same Sid are reported."""
    doc = good()
    doc["Statement"].append(dict(doc["Statement"][0]))
    problem = only(parse_policy(doc), "duplicate-sid")
    assert 'Sid "Write"' in problem.message


def test_statement_not_an_object() -> None:
    """A statement that is not an object is reported."""
    problem = only(parse_policy({"Version": "2012-10-17", "Statement": ["x"]}), "bad-statement")
    assert problem.where == "statement 1"


def test_missing_statement() -> None:
    """A policy without statements is reported."""
    problem = only(parse_policy({"Version": "2012-10-17"}), "missing-statement")
    assert "allows nothing" in problem.message


def test_single_statement_object_is_accepted() -> None:
    """Statement may be one object instead of a list."""
    doc = good()
    doc["Statement"] = doc["Statement"][0]
    assert parse_policy(doc).problems == ()


# --- Version ----------------------------------------------------------------------------------


def test_wrong_version() -> None:
    """A made-up Version such as today's date is an error."""
    doc = {**good(), "Version": "2024-05-01"}
    problem = only(parse_policy(doc), "bad-version")
    assert problem.severity is Severity.ERROR
    assert "not the date you wrote the policy" in problem.message
    assert problem.fix == 'Change it to "2012-10-17".'


def test_old_version_is_a_warning() -> None:
    """Version 2008-10-17 works but earns a warning about policy variables."""
    doc = {**good(), "Version": "2008-10-17"}
    policy = parse_policy(doc)
    problem = only(policy, "old-version")
    assert problem.severity is Severity.WARNING
    assert "policy variables" in problem.message
    assert policy.ok


def test_missing_version_is_a_warning() -> None:
    """A policy without Version earns a warning."""
    doc = good()
    del doc["Version"]
    problem = only(parse_policy(doc), "missing-version")
    assert problem.severity is Severity.WARNING
    assert '"Version": "2012-10-17"' in problem.fix


def test_variable_in_old_version() -> None:
    """A policy variable in a 2008 policy is flagged as plain text."""
    doc = {**good(Resource="arn:aws:dynamodb:*:*:table/${aws:username}"), "Version": "2008-10-17"}
    problem = only(parse_policy(doc), "variable-in-old-version")
    assert "plain text" in problem.message


# --- conditions -------------------------------------------------------------------------------


def test_unknown_condition_operator() -> None:
    """ "StringEqual" is flagged with "StringEquals" as the suggestion."""
    doc = good(Condition={"StringEqual": {"aws:username": "ana"}})
    problem = only(parse_policy(doc), "unknown-condition-operator")
    assert (
        problem.message == '"StringEqual" is not a condition operator. Did you mean "StringEquals"?'
    )
    assert problem.fix == 'Change it to "StringEquals".'


def test_unknown_condition_operator_with_set_prefix() -> None:
    """A misspelt set prefix is flagged with the right spelling."""
    doc = good(Condition={"ForAnyValues:StringLike": {"aws:TagKeys": "a*"}})
    problem = only(parse_policy(doc), "unknown-condition-operator")
    assert 'Did you mean "ForAnyValue:StringLike"?' in problem.message


def test_valid_condition_operators() -> None:
    """IfExists, set prefixes and Null are accepted."""
    doc = good(
        Condition={
            "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
            "Null": {"aws:TokenIssueTime": "true"},
            "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
        }
    )
    assert parse_policy(doc).problems == ()


def test_bad_condition_shape() -> None:
    """A Condition that is not an object of operators is reported."""
    problem = only(parse_policy(good(Condition=["StringEquals"])), "bad-condition")
    assert "object of operators" in problem.message


def test_bad_condition_value() -> None:
    """A nested object as a condition value is reported."""
    doc = good(Condition={"StringEquals": {"aws:username": {"x": 1}}})
    problem = only(parse_policy(doc), "bad-condition")
    assert "text, number or true/false" in problem.message


# --- ARNs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "placeholder", "advice"),
    [
        ("arn:aws:dynamodb:{Region}:*:table/AggregateTable", "{Region}", "your region"),
        ("arn:aws:dynamodb:*:{Account}:table/AggregateTable", "{Account}", "12-digit account ID"),
        ("arn:aws:dynamodb:*:*:table/{TableName}", "{TableName}", "the table's name"),
        ("arn:aws:dynamodb:*:*:table/ReduceTable/stream/{StreamLabel}", "{StreamLabel}", "* (the"),
        ("arn:aws:dynamodb:${Region}:*:table/AggregateTable", "${Region}", "your region"),
        ("arn:aws:dynamodb:*:<account-id>:table/AggregateTable", "<account-id>", "account ID"),
    ],
)
def test_placeholder_left_in_arn(resource: str, placeholder: str, advice: str) -> None:
    """A template placeholder left in an ARN is named, with what to put instead."""
    problem = only(parse_policy(good(Resource=resource)), "placeholder-in-arn")
    assert problem.is_error
    assert f"still contains the placeholder {placeholder}" in problem.message
    word = "angle brackets" if placeholder.startswith("<") else "curly braces"
    assert f"{word} included" in problem.fix
    assert advice in problem.fix


def test_several_placeholders_in_one_arn() -> None:
    """All placeholders of one ARN are listed in one problem."""
    resource = "arn:aws:dynamodb:{Region}:{Account}:table/AggregateTable"
    problem = only(parse_policy(good(Resource=resource)), "placeholder-in-arn")
    assert "{Region}, {Account}" in problem.message


def test_policy_variable_is_not_a_placeholder() -> None:
    """${aws:username} is a policy variable, not a leftover placeholder."""
    policy = parse_policy(good(Resource="arn:aws:dynamodb:*:*:table/${aws:username}"))
    assert not [p for p in policy.problems if p.code == "placeholder-in-arn"]


def test_table_name_instead_of_arn() -> None:
    """A bare table name gets a full ARN as the suggestion."""
    problem = only(parse_policy(good(Resource="AggregateTable")), "malformed-arn")
    assert problem.message == '"AggregateTable" is not an ARN.'
    assert "arn:aws:dynamodb:*:*:table/AggregateTable" in problem.fix


def test_arn_with_too_few_parts() -> None:
    """An ARN with missing parts is reported with the six-part shape."""
    problem = only(parse_policy(good(Resource="arn:aws:dynamodb:table/X")), "malformed-arn")
    assert "has 4 parts" in problem.message
    assert "arn:partition:service:region:account:resource" in problem.message


def test_arn_with_unknown_partition() -> None:
    """A wrong partition is reported."""
    resource = "arn:amazon:dynamodb:*:*:table/AggregateTable"
    problem = only(parse_policy(good(Resource=resource)), "malformed-arn")
    assert '"amazon"' in problem.message
    assert "arn:aws:" in problem.fix


def test_arn_with_wildcard_service() -> None:
    """A wildcard in the ARN's service part is reported."""
    problem = only(parse_policy(good(Resource="arn:aws:dyna*:*:*:table/X")), "malformed-arn")
    assert "service part" in problem.message


def test_arn_with_space() -> None:
    """A space inside an ARN is reported."""
    problem = only(
        parse_policy(good(Resource="arn:aws:dynamodb:*:*:table/ Aggregate")), "malformed-arn"
    )
    assert "contains a space" in problem.message


def test_arn_with_bad_region() -> None:
    """A region in capitals is reported with the lower-case spelling."""
    resource = "arn:aws:dynamodb:EU-WEST-1:*:table/AggregateTable"
    problem = only(parse_policy(good(Resource=resource)), "bad-region")
    assert '"EU-WEST-1"' in problem.message
    assert '"eu-west-1"' in problem.fix


def test_arn_with_bad_account() -> None:
    """An account ID with dashes is reported with the digits only."""
    resource = "arn:aws:dynamodb:*:1234-5678-9012:table/AggregateTable"
    problem = only(parse_policy(good(Resource=resource)), "bad-account")
    assert "12-digit account ID" in problem.message
    assert '"123456789012"' in problem.fix


# --- parse_policy inputs and lint_policy ------------------------------------------------------


def test_text_and_dict_give_the_same_statements() -> None:
    """Parsing JSON text or the equivalent dict gives the same statements."""
    doc = good()
    assert parse_policy(json.dumps(doc)).statements == parse_policy(doc).statements


def test_parse_policy_returns_a_policy_unchanged() -> None:
    """Passing a Policy returns it as it is."""
    policy = parse_policy(good(), name="Mine")
    assert parse_policy(policy) is policy


def test_lint_policy_report() -> None:
    """lint_policy returns a report that fails on errors and lists them."""
    report = lint_policy(good(Effect="allow"), name="ReduceLambdaPolicy")
    assert not report.passed
    assert [p.code for p in report.problems] == ["bad-effect"]
    assert "ReduceLambdaPolicy" in str(report)


def test_lint_policy_passes_with_warnings_only() -> None:
    """Warnings alone do not fail lint_policy."""
    report = lint_policy({**good(), "Version": "2008-10-17"})
    assert report.passed
    assert [p.code for p in report.warnings] == ["old-version"]


# --- robustness -------------------------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_ELEMENTS = st.sampled_from(
    [
        "Version",
        "Statement",
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "Resources",
        "NotResource",
        "Condition",
        "Principal",
        "StringLike",
        "ForAllValues:StringEquals",
        "Allow",
        "dynamodb:GetItem",
        "arn:aws:dynamodb:{Region}:*:table/T",
    ]
)
_JSON = st.recursive(
    _SCALARS | _ELEMENTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ELEMENTS, inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(doc=_JSON)
def test_parse_never_raises(doc: Any) -> None:
    """Any JSON value, however broken, gives a Policy (with problems) instead of an exception."""
    policy = parse_policy(json.dumps(doc), name="P")
    assert isinstance(policy, Policy)
    evaluate(policy, "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/T")
    report = check_least_privilege(
        policy, [("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/T")]
    )
    str(report)
    report._repr_html_()
