"""Tables with composite keys, global secondary indexes and provisioned capacity are created,
changed in place (one index per call, each waited for) and replaced only when a key differs."""

from __future__ import annotations

import dataclasses

from labkit.deploy.planner import plan_stack
from labkit.deploy.resources import GlobalIndex, Stack, StreamView, Table, Throughput

from .conftest import FakeReader, reader_for

GSI = GlobalIndex("GSI_1", "GSI_1_PK", projection="INCLUDE", non_key_attributes=("bytessent",))
LOGFILE = Table(
    "logfile",
    "PK",
    tags=(("workshop", "cleanup"),),
    indexes=(GSI,),
    capacity=Throughput(5, 5),
)
COUNTERS = Table(
    "aggregate-counters",
    "Counter",
    StreamView.NEW_IMAGE,
    sort_key="Date",
    indexes=(GlobalIndex("ByDate", "Date", capacity=Throughput(1, 10)),),
    capacity=Throughput(10, 10),
)


def ops(plan: object) -> list[str]:
    return [call.api for call in plan]  # type: ignore[attr-defined]


def with_table(table: Table) -> Stack:
    return Stack(tables=(table,))


def test_provisioned_table_with_an_index_is_created_in_one_call() -> None:
    """A provisioned table with an INCLUDE index: key and index attributes defined, capacity
    for the table and the index (the table's when the index has none)."""
    plan = plan_stack(with_table(LOGFILE), FakeReader())
    assert ops(plan) == ["dynamodb.create_table"]
    params = plan.calls[0].params
    assert params["BillingMode"] == "PROVISIONED"
    assert params["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert params["AttributeDefinitions"] == [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "GSI_1_PK", "AttributeType": "S"},
    ]
    assert params["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "GSI_1",
            "KeySchema": [{"AttributeName": "GSI_1_PK", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["bytessent"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        }
    ]
    assert params["Tags"] == [{"Key": "workshop", "Value": "cleanup"}]
    assert "index GSI_1" in plan.calls[0].description
    assert "5/5 provisioned" in plan.calls[0].description


def test_composite_key_and_typed_attributes() -> None:
    """A sort key becomes a RANGE key; attribute types other than strings are declared."""
    table = Table("t", "id", sort_key="at", attribute_types=(("at", "N"),))
    params = plan_stack(with_table(table), FakeReader()).calls[0].params
    assert params["KeySchema"] == [
        {"AttributeName": "id", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "at", "AttributeType": "N"} in params["AttributeDefinitions"]
    assert params["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in params


def test_second_plan_of_indexed_provisioned_tables_is_empty() -> None:
    """Tables that match, indexes and capacity included, need no calls."""
    stack = Stack(tables=(LOGFILE, COUNTERS))
    assert plan_stack(stack, reader_for(stack)).empty


def test_missing_index_is_created_and_waited_for() -> None:
    """An index the table lacks is created with update_table, waiting until it is ACTIVE."""
    reader = reader_for(with_table(dataclasses.replace(LOGFILE, indexes=())))
    plan = plan_stack(with_table(LOGFILE), reader)
    assert ops(plan) == ["dynamodb.update_table"]
    call = plan.calls[0]
    assert call.params["GlobalSecondaryIndexUpdates"][0]["Create"]["IndexName"] == "GSI_1"
    assert {"AttributeName": "GSI_1_PK", "AttributeType": "S"} in call.params[
        "AttributeDefinitions"
    ]
    assert call.wait is not None and call.wait.ready == ("ACTIVE",)
    assert call.wait.path[1] == "GlobalSecondaryIndexes[IndexName=GSI_1]"
    assert call.change == "create"


def test_index_with_another_projection_is_replaced() -> None:
    """A projection cannot be changed: the index is deleted (waiting until it is gone) and
    created again, in separate calls."""
    other = dataclasses.replace(GSI, non_key_attributes=("bytessent", "requestid", "host"))
    reader = reader_for(with_table(LOGFILE))
    plan = plan_stack(with_table(dataclasses.replace(LOGFILE, indexes=(other,))), reader)
    assert ops(plan) == ["dynamodb.update_table", "dynamodb.update_table"]
    delete, create = plan.calls
    assert delete.params["GlobalSecondaryIndexUpdates"] == [{"Delete": {"IndexName": "GSI_1"}}]
    assert delete.wait is not None and delete.wait.absent
    assert "another projection" in delete.description
    projection = create.params["GlobalSecondaryIndexUpdates"][0]["Create"]["Projection"]
    assert projection["NonKeyAttributes"] == ["bytessent", "requestid", "host"]
    assert {delete.change, create.change} == {"replace"}


def test_unwanted_index_is_removed() -> None:
    """An index the step does not have is deleted."""
    reader = reader_for(with_table(LOGFILE))
    plan = plan_stack(with_table(dataclasses.replace(LOGFILE, indexes=())), reader)
    assert ops(plan) == ["dynamodb.update_table"]
    assert plan.calls[0].change == "remove"
    assert "does not use it" in plan.calls[0].description


def test_changed_capacity_is_updated_for_the_table_and_the_index() -> None:
    """New table capacity and new index capacity: one update_table each."""
    reader = reader_for(with_table(COUNTERS))
    index = dataclasses.replace(COUNTERS.indexes[0], capacity=Throughput(2, 10))
    wanted = dataclasses.replace(COUNTERS, capacity=Throughput(10, 5), indexes=(index,))
    plan = plan_stack(with_table(wanted), reader)
    assert ops(plan) == ["dynamodb.update_table", "dynamodb.update_table"]
    assert plan.calls[0].params["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 10,
        "WriteCapacityUnits": 5,
    }
    update = plan.calls[1].params["GlobalSecondaryIndexUpdates"][0]["Update"]
    assert update == {
        "IndexName": "ByDate",
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 10},
    }


def test_switching_billing_modes() -> None:
    """On-demand to provisioned names the capacity of the table and of its indexes in the
    same call; provisioned to on-demand only sets the billing mode."""
    on_demand = dataclasses.replace(LOGFILE, capacity=None)
    plan = plan_stack(with_table(LOGFILE), reader_for(with_table(on_demand)))
    assert ops(plan) == ["dynamodb.update_table"]
    params = plan.calls[0].params
    assert params["BillingMode"] == "PROVISIONED"
    assert params["GlobalSecondaryIndexUpdates"][0]["Update"]["IndexName"] == "GSI_1"
    back = plan_stack(with_table(on_demand), reader_for(with_table(LOGFILE)))
    assert [c.params.get("BillingMode") for c in back] == ["PAY_PER_REQUEST"]


def test_table_with_another_sort_key_or_key_type_is_recreated() -> None:
    """A sort key or a key type that differs cannot be changed: the table is recreated."""
    reader = reader_for(with_table(dataclasses.replace(COUNTERS, sort_key=None)))
    plan = plan_stack(with_table(COUNTERS), reader)
    assert ops(plan) == ["dynamodb.delete_table", "dynamodb.create_table"]
    assert "sort key" in plan.calls[0].description
    assert {c.change for c in plan} == {"replace"}
    typed = dataclasses.replace(COUNTERS, attribute_types=(("Date", "N"),))
    plan = plan_stack(with_table(typed), reader_for(with_table(COUNTERS)))
    assert ops(plan) == ["dynamodb.delete_table", "dynamodb.create_table"]
    assert "of type S" in plan.calls[0].description
