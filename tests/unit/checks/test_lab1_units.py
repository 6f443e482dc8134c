"""lab1 checks on stubbed clients: states the local cloud cannot produce, and classification."""

from __future__ import annotations

from typing import Any

from labkit.checks import Status, run_check
from labkit.checks.lab1 import POLICY_TOLERATED, _classify
from labkit.iam import MissingItem

from .conftest import ClientError, FakeClients, context


class Paginator:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class CreatingTables:
    """DynamoDB where every table exists but is still CREATING (as on AWS, briefly)."""

    names = ("StateTable", "ReduceTable", "AggregateTable", "ParameterTable")

    def get_paginator(self, name: str) -> Paginator:
        assert name == "list_tables"
        return Paginator([{"TableNames": list(self.names)}])

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"TableName": TableName, "TableStatus": "CREATING"}}


def test_table_still_being_created() -> None:
    """A CREATING table gets the waiter hint, not a verdict on its keys."""
    report = run_check("lab1.step1", context(FakeClients(dynamodb=CreatingTables())))
    item = report.item("table-not-active")
    assert "CREATING" in item.detail and "table_exists" in item.hint
    assert report.codes.count("table-not-active") == 4


def test_check_itself_failing_is_a_failed_item() -> None:
    """A check that cannot run (the cloud is gone) reports it instead of raising."""

    class Gone:
        def get_paginator(self, name: str) -> Any:
            raise ConnectionError("Could not connect to the endpoint URL")

    report = run_check("lab1.step1", context(FakeClients(dynamodb=Gone())))
    assert not report.passed
    item = report.item("check-error")
    assert "ConnectionError" in item.detail and "lab.status()" in item.hint


def test_missing_role_is_reported_not_raised() -> None:
    """No ReduceLambdaRole: the policy check asks for the step's starting point."""

    class NoRoles:
        def get_role(self, RoleName: str) -> Any:
            raise ClientError("NoSuchEntity", RoleName)

    report = run_check("lab1.step2", context(FakeClients(iam=NoRoles())))
    assert report.item("lab-not-provisioned").status is Status.FAIL


def test_classification_of_missing_permissions() -> None:
    """labkit.iam's explanations map onto the catalogue's codes."""

    def missing(action: str, message: str) -> MissingItem:
        return MissingItem(action, "arn", message, "fix")

    assert _classify(missing("dynamodb:GetRecords", "still contains the placeholder {Region}"))
    assert (
        _classify(
            missing("dynamodb:GetRecords", "x is a table ARN, but y is needed on a stream ARN")
        )
        == "table-arn-for-stream"
    )
    assert (
        _classify(missing("dynamodb:UpdateItem", "covers it but allows only dynamodb:PutItem"))
        == "putitem-instead-of-updateitem"
    )
    assert _classify(missing("dynamodb:GetRecords", "no statement allows it")) == (
        "permission-missing"
    )


def test_list_streams_is_tolerated() -> None:
    """dynamodb:ListStreams (named by AWS's error message) never counts as too broad."""
    assert ("dynamodb:ListStreams", "*") in POLICY_TOLERATED
