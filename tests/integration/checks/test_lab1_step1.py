"""lab1.step1 mistakes: each is made with plain boto3 against a live local cloud."""

from __future__ import annotations

from typing import Any

from labkit.checks import Status

from .conftest import LabUnderTest

STEP = "lab1.step1"
GOOD: dict[str, tuple[str, str | None]] = {
    "StateTable": ("id", "NEW_AND_OLD_IMAGES"),
    "ReduceTable": ("MessageId", "NEW_IMAGE"),
    "AggregateTable": ("Identifier", None),
    "ParameterTable": ("parameter", None),
}


def create(lab: LabUnderTest, table: str, key: str, view: str | None, **changes: Any) -> None:
    """Create one of the lab's tables as a learner would, with ``changes`` to the call."""
    options: dict[str, Any] = {
        "TableName": lab.workshop.settings.prefix + table,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if view is not None:
        options["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    options.update(changes)
    lab.client("dynamodb").create_table(**options)


def create_all(lab: LabUnderTest, **special: dict[str, Any]) -> None:
    """All four tables; ``special[table]`` changes one table's create_table call (or skips it
    with ``{"skip": True}``)."""
    for table, (key, view) in GOOD.items():
        changes = dict(special.get(table, {}))
        if changes.pop("skip", False):
            continue
        create(lab, table, changes.pop("key", key), changes.pop("view", view), **changes)


def test_correct_tables_pass(fresh_lab: LabUnderTest) -> None:
    """Four tables with the right keys, on-demand capacity and streams pass the check."""
    create_all(fresh_lab)
    report = fresh_lab.check(STEP)
    assert report.passed, str(report)
    assert report.status == "done"


def test_nothing_created_is_not_done(fresh_lab: LabUnderTest) -> None:
    """With no tables, every table is reported missing with a create_table call to run."""
    report = fresh_lab.check(STEP)
    assert not report.passed
    assert report.codes.count("table-missing") == 4
    assert "create_table" in report.item("table-missing").hint


def test_forgotten_table(fresh_lab: LabUnderTest) -> None:
    """Forgetting ParameterTable names it and says where to look, without the answer."""
    create_all(fresh_lab, ParameterTable={"skip": True})
    report = fresh_lab.check(STEP)
    item = report.item("table-missing")
    assert "ParameterTable" in item.label
    assert "create_table" in item.hint and 'lab.hint("lab1.step1")' in item.hint
    assert "'parameter'" not in item.hint and "KeySchema" not in item.hint


def test_table_name_in_wrong_case(fresh_lab: LabUnderTest) -> None:
    """A table named Statetable is recognised as a misspelt StateTable."""
    create_all(fresh_lab, StateTable={"skip": True})
    create(fresh_lab, "Statetable", "id", "NEW_AND_OLD_IMAGES")
    item = fresh_lab.check(STEP).item("table-name-typo")
    assert "Statetable" in item.detail and "case-sensitive" in item.hint


def test_wrong_key_name(fresh_lab: LabUnderTest) -> None:
    """StateTable keyed TradeID instead of id: the hint says to recreate it keyed id."""
    create_all(fresh_lab, StateTable={"key": "TradeID"})
    item = fresh_lab.check(STEP).item("wrong-key-name")
    assert "TradeID" in item.detail
    assert "'id'" in item.hint and "delete" in item.hint


def test_key_declared_as_number(fresh_lab: LabUnderTest) -> None:
    """AggregateTable's Identifier declared as N is reported as the wrong type."""
    create_all(
        fresh_lab,
        AggregateTable={
            "AttributeDefinitions": [{"AttributeName": "Identifier", "AttributeType": "N"}]
        },
    )
    item = fresh_lab.check(STEP).item("wrong-key-type")
    assert "number" in item.detail and "`AttributeType` `'S'`" in item.hint


def test_extra_sort_key(fresh_lab: LabUnderTest) -> None:
    """A sort key on ReduceTable is a mistake: its items are found by MessageId alone."""
    create_all(
        fresh_lab,
        ReduceTable={
            "KeySchema": [
                {"AttributeName": "MessageId", "KeyType": "HASH"},
                {"AttributeName": "Timestamp", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "MessageId", "AttributeType": "S"},
                {"AttributeName": "Timestamp", "AttributeType": "N"},
            ],
        },
    )
    item = fresh_lab.check(STEP).item("sort-key")
    assert "Timestamp" in item.detail and "HASH key `MessageId`" in item.hint


def test_provisioned_capacity(fresh_lab: LabUnderTest) -> None:
    """Provisioned capacity is reported with the update_table call that switches to on-demand."""
    create_all(
        fresh_lab,
        AggregateTable={
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        },
    )
    item = fresh_lab.check(STEP).item("provisioned-capacity")
    assert "5 writes" in item.detail and "PAY_PER_REQUEST" in item.hint


def test_stream_not_enabled(fresh_lab: LabUnderTest) -> None:
    """StateTable without a stream: the hint turns it on in place, for MapLambda."""
    create_all(fresh_lab, StateTable={"view": None})
    item = fresh_lab.check(STEP).item("stream-not-enabled")
    assert "MapLambda" in item.hint and "NEW_AND_OLD_IMAGES" in item.hint
    assert "update_table" in item.hint


def test_wrong_stream_view_type(fresh_lab: LabUnderTest) -> None:
    """StateTable with NEW_IMAGE only: MapLambda could not take old values out."""
    create_all(fresh_lab, StateTable={"view": "NEW_IMAGE"})
    item = fresh_lab.check(STEP).item("wrong-stream-view")
    assert item.status is Status.FAIL
    assert "old image" in item.hint and "delete_table" in item.hint


def test_keys_only_on_reduce_table(fresh_lab: LabUnderTest) -> None:
    """ReduceTable with KEYS_ONLY would give ReduceLambda no totals to add."""
    create_all(fresh_lab, ReduceTable={"view": "KEYS_ONLY"})
    item = fresh_lab.check(STEP).item("wrong-stream-view")
    assert "KEYS_ONLY" in item.detail and "new image" in item.hint


def test_both_images_on_reduce_table_only_warns(fresh_lab: LabUnderTest) -> None:
    """NEW_AND_OLD_IMAGES on ReduceTable works, so it is a warning and the step passes."""
    create_all(fresh_lab, ReduceTable={"view": "NEW_AND_OLD_IMAGES"})
    report = fresh_lab.check(STEP)
    assert report.passed
    assert report.item("wrong-stream-view").status is Status.WARN


def test_unneeded_stream_only_warns(fresh_lab: LabUnderTest) -> None:
    """A stream on AggregateTable does no harm: a warning, and the step passes."""
    create_all(fresh_lab, AggregateTable={"view": "NEW_IMAGE"})
    report = fresh_lab.check(STEP)
    assert report.passed
    assert report.item("unneeded-stream").status is Status.WARN
