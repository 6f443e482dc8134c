"""A table's capacity and global secondary indexes, changed in place with ``update_table``.

AWS changes one index per ``update_table`` call and takes time over each, so every index is
created or deleted in a call of its own, waiting until the index is ACTIVE or gone. An index
with another key or projection cannot be changed: it is deleted and created again (the
table's items stay; the index is rebuilt from them).
"""

from __future__ import annotations

from typing import Any

from ..plan import Call, Change, Wait
from ..resources import GlobalIndex, Table, Throughput
from ..state import IndexState, TableState
from .context import Context
from .waits import TABLE_BUSY, table_active


def _index_path(name: str) -> tuple[str, ...]:
    return ("Table", f"GlobalSecondaryIndexes[IndexName={name}]", "IndexStatus")


def _index_active(table: str, index: str) -> Wait:
    return Wait("describe_table", {"TableName": table}, _index_path(index), ("ACTIVE",))


def _index_gone(table: str, index: str) -> Wait:
    return Wait(
        "describe_table", {"TableName": table}, _index_path(index), absent=True, what="deleted"
    )


def _shape_differs(index: GlobalIndex, state: IndexState) -> list[str]:
    reasons = []
    if (state.partition_key, state.sort_key) != (index.partition_key, index.sort_key):
        reasons.append("another key")
    if state.projection != index.projection or (
        index.projection == "INCLUDE"
        and sorted(state.non_key_attributes) != sorted(index.non_key_attributes)
    ):
        reasons.append("another projection")
    return reasons


def _update_table(
    ctx: Context,
    table: Table,
    params: dict[str, Any],
    description: str,
    change: Change,
    wait: Wait | None = None,
) -> None:
    ctx.add(
        Call(
            "dynamodb",
            "update_table",
            {"TableName": table.name, **params},
            description,
            table.label,
            wait=wait or table_active(table.name),
            retry=(TABLE_BUSY,),
            change=change,
        )
    )


def update(ctx: Context, table: Table, current: TableState) -> None:
    """Capacity and indexes of an existing table that keeps its key."""
    existing = {i.name: i for i in current.indexes}
    deleted: set[str] = set()
    for state in current.indexes:
        wanted = table.index(state.name)
        reasons = ["the step does not use it"] if wanted is None else _shape_differs(wanted, state)
        if not reasons:
            continue
        deleted.add(state.name)
        _update_table(
            ctx,
            table,
            {"GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": state.name}}]},
            f"Delete index {state.name} of table {table.name} ({', '.join(reasons)})",
            "remove" if wanted is None else "replace",
            _index_gone(table.name, state.name),
        )
    kept = [i for i in table.indexes if i.name in existing and i.name not in deleted]
    _update_capacity(ctx, table, current, kept, existing)
    for index in table.indexes:
        if index.name in existing and index.name not in deleted:
            continue
        _update_table(
            ctx,
            table,
            {
                "AttributeDefinitions": table.attribute_definitions(),
                "GlobalSecondaryIndexUpdates": [{"Create": table.index_definition(index)}],
            },
            f"Create index {index.name} on table {table.name} "
            f"(key {index.partition_key}, projection {index.projection})",
            "replace" if index.name in deleted else "create",
            _index_active(table.name, index.name),
        )


def _update_capacity(
    ctx: Context,
    table: Table,
    current: TableState,
    kept: list[GlobalIndex],
    existing: dict[str, IndexState],
) -> None:
    if table.billing_mode != current.billing_mode:
        if table.capacity is None:
            _update_table(
                ctx,
                table,
                {"BillingMode": "PAY_PER_REQUEST"},
                f"Switch table {table.name} to on-demand capacity",
                "update",
            )
            return
        params: dict[str, Any] = {
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": table.capacity.to_api(),
        }
        if kept:
            params["GlobalSecondaryIndexUpdates"] = [
                {"Update": {"IndexName": i.name, "ProvisionedThroughput": _api(table, i)}}
                for i in kept
            ]
        _update_table(
            ctx,
            table,
            params,
            f"Switch table {table.name} to provisioned capacity ({table.capacity})",
            "update",
        )
        return
    if table.capacity is None:
        return
    if current.capacity != table.capacity:
        _update_table(
            ctx,
            table,
            {"ProvisionedThroughput": table.capacity.to_api()},
            f"Set the capacity of table {table.name} to {table.capacity}",
            "update",
        )
    for index in kept:
        wanted = table.index_capacity(index)
        if wanted is not None and existing[index.name].capacity != wanted:
            _update_table(
                ctx,
                table,
                {
                    "GlobalSecondaryIndexUpdates": [
                        {
                            "Update": {
                                "IndexName": index.name,
                                "ProvisionedThroughput": _api(table, index),
                            }
                        }
                    ]
                },
                f"Set the capacity of index {index.name} of {table.name} to {wanted}",
                "update",
            )


def _api(table: Table, index: GlobalIndex) -> dict[str, int]:
    capacity: Throughput | None = table.index_capacity(index)
    assert capacity is not None  # only called for provisioned tables
    return capacity.to_api()
