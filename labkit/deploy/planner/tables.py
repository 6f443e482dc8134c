"""DynamoDB tables (keys, capacity, streams, tags) and the items a lab puts in them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..plan import Call, Capture, Ref
from ..resources import Table, TableItem
from ..state import TableState
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


def decide(ctx: Context) -> dict[str, TableDecision]:
    """Compare each desired table with what exists; note the stream ARN it will have."""
    decisions: dict[str, TableDecision] = {}
    for table in ctx.desired.tables:
        current = ctx.reader.table(table.name)
        decision = TableDecision(table, current)
        if current is not None:
            if current.partition_key != table.partition_key:
                decision.recreate = True
                decision.reasons.append(
                    f"its key is {current.partition_key!r} but the lab needs "
                    f"{table.partition_key!r}: recreated, its items are lost"
                )
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
        _delete(ctx, table.name, f"Delete table {table.name} and its items")
    for decision in decisions.values():
        if decision.recreate:
            _delete(
                ctx,
                decision.table.name,
                f"Delete table {decision.table.name} ({'; '.join(decision.reasons)})",
            )


def _delete(ctx: Context, name: str, description: str) -> None:
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
        )
    )


# ----- creations and updates -----------------------------------------------------------------
def ensure(ctx: Context, decisions: Mapping[str, TableDecision]) -> None:
    for decision in decisions.values():
        table = decision.table
        current = None if decision.recreate else decision.current
        if current is None:
            _create(ctx, table)
            continue
        if current.billing_mode != "PAY_PER_REQUEST":
            ctx.add(
                Call(
                    "dynamodb",
                    "update_table",
                    {"TableName": table.name, "BillingMode": "PAY_PER_REQUEST"},
                    f"Switch table {table.name} to on-demand capacity",
                    table.label,
                    wait=table_active(table.name),
                    retry=(TABLE_BUSY,),
                )
            )
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
                )
            )


def _create(ctx: Context, table: Table) -> None:
    params: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": table.partition_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": table.partition_key, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    stream = ""
    if table.stream_view is not None:
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": str(table.stream_view),
        }
        stream = f", stream {table.stream_view}"
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
            f"Create table {table.name} (key {table.partition_key}{stream}, on-demand)",
            table.label,
            capture=capture,
            wait=table_active(table.name),
            retry=(TABLE_BUSY,),
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
        ctx.add(_put_item(item))


def _attribute_value(value: int | str) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _put_item(item: TableItem) -> Call:
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
    )
