"""DynamoDB tables (keys, capacity, streams, tags) and the items a lab puts in them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..plan import Call, Capture, Change, Ref
from ..resources import Table, TableItem
from ..state import TableState
from . import indexes
from .context import Context, missing_tags, tag_list
from .waits import TABLE_BUSY, table_active, table_gone

STREAM_ARN = ("TableDescription", "LatestStreamArn")


@dataclass
class TableDecision:
    """What happens to one desired table."""

    table: Table
    current: TableState | None
    recreate: bool = False
    restream: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def stream_changes(self) -> bool:
        return self.current is None or self.recreate or self.restream


def stream_ref(table: str) -> Ref:
    return Ref(f"{table}.LatestStreamArn")


def _key_problems(table: Table, current: TableState) -> list[str]:
    """Why the existing table's key cannot be the lab's (a key cannot be changed)."""
    problems: list[str] = []
    if current.partition_key != table.partition_key:
        problems.append(
            f"its key is {current.partition_key!r} but the lab needs {table.partition_key!r}"
        )
    elif current.sort_key != table.sort_key:
        problems.append(
            f"its sort key is {current.sort_key!r} but the lab needs {table.sort_key!r}"
        )
    else:
        for name in filter(None, (table.partition_key, table.sort_key)):
            found = current.attribute_types.get(name)
            if found is not None and found != table.attribute_type(name):
                problems.append(
                    f"its key {name} is of type {found} but the lab needs "
                    f"{table.attribute_type(name)}"
                )
    return problems


def decide(ctx: Context) -> dict[str, TableDecision]:
    """Compare each desired table with what exists; note the stream ARN it will have."""
    decisions: dict[str, TableDecision] = {}
    for table in ctx.desired.tables:
        current = ctx.reader.table(table.name)
        decision = TableDecision(table, current)
        if current is not None:
            problems = _key_problems(table, current)
            if problems:
                decision.recreate = True
                decision.reasons.append(f"{'; '.join(problems)}: recreated, its items are lost")
            elif (current.stream_view or None) != (table.stream_view or None):
                decision.restream = True
        decisions[table.name] = decision
        if current is not None and not decision.stream_changes:
            ctx.stream_arns[table.name] = current.stream_arn
        elif table.stream_view is not None:
            ctx.stream_arns[table.name] = stream_ref(table.name)
        else:
            ctx.stream_arns[table.name] = None
    return decisions


# ----- removals ----------------------------------------------------------------------------
def remove(ctx: Context, decisions: Mapping[str, TableDecision]) -> None:
    wanted = {t.name for t in ctx.desired.tables}
    for table in ctx.owned.tables:
        if table.name in wanted or ctx.reader.table(table.name) is None:
            continue
        _delete(ctx, table.name, f"Delete table {table.name} and its items", "remove")
    for decision in decisions.values():
        if decision.recreate:
            _delete(
                ctx,
                decision.table.name,
                f"Delete table {decision.table.name} ({'; '.join(decision.reasons)})",
                "replace",
            )


def _delete(ctx: Context, name: str, description: str, change: Change) -> None:
    ctx.add(
        Call(
            "dynamodb",
            "delete_table",
            {"TableName": name},
            description,
            f"table {name}",
            wait=table_gone(name),
            retry=(TABLE_BUSY,),
            tolerate=("ResourceNotFoundException",),
            change=change,
        )
    )


# ----- creations and updates -----------------------------------------------------------------
def ensure(ctx: Context, decisions: Mapping[str, TableDecision]) -> None:
    for decision in decisions.values():
        table = decision.table
        current = None if decision.recreate else decision.current
        if current is None:
            _create(ctx, table, "replace" if decision.recreate else "create")
            continue
        indexes.update(ctx, table, current)
        if decision.restream:
            _restream(ctx, table, current)
        missing = missing_tags(table.tags, current.tags)
        if missing:
            ctx.add(
                Call(
                    "dynamodb",
                    "tag_resource",
                    {"ResourceArn": current.arn, "Tags": tag_list(missing)},
                    f"Tag table {table.name}",
                    table.label,
                    change="update",
                )
            )


def _create(ctx: Context, table: Table, change: Change) -> None:
    params: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": table.key_schema(),
        "AttributeDefinitions": table.attribute_definitions(),
        "BillingMode": table.billing_mode,
    }
    if table.capacity is not None:
        params["ProvisionedThroughput"] = table.capacity.to_api()
    if table.indexes:
        params["GlobalSecondaryIndexes"] = [table.index_definition(i) for i in table.indexes]
    if table.stream_view is not None:
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": str(table.stream_view),
        }
    if table.tags:
        params["Tags"] = tag_list(table.tags)
    capture = (
        (Capture(stream_ref(table.name).name, STREAM_ARN),) if table.stream_view is not None else ()
    )
    ctx.add(
        Call(
            "dynamodb",
            "create_table",
            params,
            f"Create table {table.name} ({table.summary()})",
            table.label,
            capture=capture,
            wait=table_active(table.name),
            retry=(TABLE_BUSY,),
            change=change,
        )
    )


def _restream(ctx: Context, table: Table, current: TableState) -> None:
    if current.stream_view is not None:
        ctx.add(
            Call(
                "dynamodb",
                "update_table",
                {"TableName": table.name, "StreamSpecification": {"StreamEnabled": False}},
                f"Turn off the {current.stream_view} stream of {table.name}",
                table.label,
                wait=table_active(table.name),
                retry=(TABLE_BUSY,),
                change="remove" if table.stream_view is None else "replace",
            )
        )
    if table.stream_view is None:
        return
    ctx.add(
        Call(
            "dynamodb",
            "update_table",
            {
                "TableName": table.name,
                "StreamSpecification": {
                    "StreamEnabled": True,
                    "StreamViewType": str(table.stream_view),
                },
            },
            f"Turn on a {table.stream_view} stream on {table.name}",
            table.label,
            capture=(Capture(stream_ref(table.name).name, STREAM_ARN),),
            wait=table_active(table.name),
            retry=(TABLE_BUSY,),
            # Turning on a stream where there was none only adds; replacing one loses records.
            change="create" if current.stream_view is None else "replace",
        )
    )


# ----- items -------------------------------------------------------------------------------
def ensure_items(ctx: Context, decisions: Mapping[str, TableDecision]) -> None:
    for item in ctx.desired.items:
        decision = decisions.get(item.table)
        if decision is None:
            continue  # the step has no such table
        fresh = decision.current is None or decision.recreate
        current = None if fresh else ctx.reader.item(item.table, item.key_name, item.key_value)
        if current is not None and all(current.get(k) == v for k, v in item.attributes):
            continue
        if decision.recreate:
            change: Change = "replace"
        else:
            change = "create" if current is None else "update"
        ctx.add(_put_item(item, change))


def _attribute_value(value: int | str) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _put_item(item: TableItem, change: Change) -> Call:
    names = {f"#a{i}": name for i, (name, _) in enumerate(item.attributes)}
    values = {f":v{i}": _attribute_value(value) for i, (_, value) in enumerate(item.attributes)}
    assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(item.attributes)))
    shown = ", ".join(f"{k}={v}" for k, v in item.attributes)
    return Call(
        "dynamodb",
        "update_item",
        {
            "TableName": item.table,
            "Key": {item.key_name: {"S": item.key_value}},
            "UpdateExpression": f"SET {assignments}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        },
        f"Set {item.key_value} in {item.table} ({shown})",
        item.label,
        change=change,
    )
