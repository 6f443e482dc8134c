"""Checks of lab3.step1 and lab3.step2: the logfile table (loaded) and its replica.

The expected rows come from the generated web-log file (:mod:`labkit.lab.replication.logdata`),
never from constants; the expected table shapes from :mod:`labkit.lab.replication.tables`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from labkit.iam.problems import did_you_mean
from labkit.lab.replication import logdata
from labkit.lab.replication.loader import item_of
from labkit.lab.replication.names import CLEANUP_TAG, LOGFILE, REPLICA, ReplicationNames
from labkit.lab.replication.tables import (
    INDEX,
    INDEX_KEY,
    KEY,
    LOGFILE_DESIGN,
    REPLICA_DESIGN,
    TableDesign,
)

from .context import CheckContext
from .mistakes import MISTAKES
from .report import CheckItem, Report, passed, warning

__all__ = ["check_logfile", "check_replica", "names", "scan_items"]


def names(ctx: CheckContext) -> ReplicationNames:
    return ReplicationNames(ctx.settings.prefix)


def scan_items(ctx: CheckContext, table: str, **options: Any) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` (typed, as boto3's client returns them)."""
    paginator = ctx.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=table, **options):
        yield from page.get("Items", [])


def _tables(ctx: CheckContext) -> list[str]:
    found: list[str] = []
    for page in ctx.client("dynamodb").get_paginator("list_tables").paginate():
        found.extend(page.get("TableNames", []))
    return found


def _missing_table(ctx: CheckContext, table: str, bare: str) -> CheckItem:
    existing = _tables(ctx)
    label = f"{table} exists"
    if ctx.settings.prefix and bare in existing:
        return MISTAKES["lab3-unprefixed-name"].item(
            label, f"there is {bare}, without the prefix", table=table, found=bare
        )
    close = did_you_mean(table, existing, cutoff=0.75)
    found = f"There is a table {close}: is that it, spelt differently?" if close else ""
    detail = f"there is no {table}" + (f", but there is {close}" if close else "")
    return MISTAKES["lab3-table-missing"].item(label, detail, table=table, found=found)


def _projection_text(design: TableDesign) -> str:
    return json.dumps(design.index_projection()).replace('"', "'")


def _index(found: dict[str, Any]) -> dict[str, Any] | None:
    for index in found.get("GlobalSecondaryIndexes") or []:
        if index.get("IndexName") == INDEX:
            return dict(index)
    return None


def _shape_items(
    ctx: CheckContext, table: str, found: dict[str, Any], design: TableDesign, step: str
) -> list[CheckItem]:
    """Key, capacity and GSI_1 of a table, against its design."""
    items: list[CheckItem] = []
    schema = found.get("KeySchema", [])
    types = {a["AttributeName"]: a["AttributeType"] for a in found.get("AttributeDefinitions", [])}
    key_label = f"{table} has the partition key {KEY} (a string) and no sort key"
    if [k["AttributeName"] for k in schema] == [KEY] and types.get(KEY) == "S":
        items.append(passed(key_label))
    else:
        shown = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in schema)
        items.append(
            MISTAKES["lab3-table-missing"].item(
                key_label,
                f"its key is {shown}",
                table=table,
                found="A key cannot change: delete the table and create it again.",
            )
        )
    fields = {
        "table": table,
        "read": design.read,
        "write": design.write,
        "index_read": design.index_read,
        "index_write": design.index_write,
        "projection": _projection_text(design),
    }
    mode = (found.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    throughput = found.get("ProvisionedThroughput") or {}
    reads, writes = throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")
    capacity_label = f"{table} has {design.read} reads and {design.write} writes provisioned"
    if mode == "PAY_PER_REQUEST":
        items.append(MISTAKES["lab3-on-demand"].item(capacity_label, "it is on-demand", **fields))
    elif (reads, writes) == (design.read, design.write):
        items.append(passed(capacity_label))
    elif step == "lab3.step2" and (reads, writes) == (LOGFILE_DESIGN.read, LOGFILE_DESIGN.write):
        items.append(
            MISTAKES["lab3-capacity-copied"].item(
                capacity_label, f"it has logfile's {reads} reads and {writes} writes", **fields
            )
        )
    else:
        items.append(
            MISTAKES["lab3-capacity-copied"].item(
                capacity_label, f"it has {reads} reads and {writes} writes", **fields
            )
        )
    items.extend(_index_items(table, found, design, step, fields))
    return items


def _index_items(
    table: str, found: dict[str, Any], design: TableDesign, step: str, fields: dict[str, Any]
) -> list[CheckItem]:
    index = _index(found)
    wanted = ", ".join(design.projected)
    label = f"{table} has {INDEX} on {INDEX_KEY} projecting {wanted}"
    if index is None:
        others = [i.get("IndexName") for i in found.get("GlobalSecondaryIndexes") or []]
        detail = "it has no index" if not others else f"its index is called {others[0]}"
        return [MISTAKES["lab3-index-missing"].item(label, detail, **fields)]
    keys = [k["AttributeName"] for k in index.get("KeySchema", [])]
    if keys != [INDEX_KEY]:
        detail = f"{INDEX} is keyed on {', '.join(keys)}"
        return [MISTAKES["lab3-index-missing"].item(label, detail, **fields)]
    projection = index.get("Projection") or {}
    kind = projection.get("ProjectionType")
    attributes = tuple(sorted(projection.get("NonKeyAttributes") or []))
    if kind == "INCLUDE" and attributes == tuple(sorted(design.projected)):
        return [passed(label)]
    shown = kind if kind != "INCLUDE" else f"INCLUDE {', '.join(attributes)}"
    copied = kind == "INCLUDE" and attributes == tuple(sorted(LOGFILE_DESIGN.projected))
    code = "lab3-projection-copied" if step == "lab3.step2" and copied else "lab3-wrong-projection"
    return [
        MISTAKES[code].item(label, f"it projects {shown}", wanted=wanted, **fields),
    ]


# ---------------------------------------------------------------------------------------------
# lab3.step1: logfile, loaded before it has a stream


def _row_items(ctx: CheckContext, table: str) -> list[CheckItem]:
    spec = logdata.SMALL
    expected = {row.key: item_of(row) for row in logdata.rows(spec)}
    total = len(expected)
    label = f"{table} holds the {total} requests of {spec.name}"
    found: dict[str, dict[str, Any]] = {}
    for item in scan_items(ctx, table):
        key = item.get(KEY, {}).get("S")
        if key in expected:
            found[key] = item
    if not found:
        return [
            MISTAKES["lab3-rows-missing"].item(
                label, "none of them is there", table=table, file=spec.name
            )
        ]
    for key, item in found.items():
        text_numbers = [
            column
            for column in sorted(logdata.NUMERIC)
            if "S" in item.get(column, {}) and "N" in expected[key][column]
        ]
        if text_numbers:
            return [
                MISTAKES["lab3-numbers-as-text"].item(
                    label,
                    f"{key} has {', '.join(text_numbers)} as text",
                    table=table,
                )
            ]
    if len(found) < total:
        missing = sorted(set(expected) - set(found), key=lambda k: int(k.split("#")[1]))
        return [
            MISTAKES["lab3-rows-missing"].item(
                label,
                f"{len(found)} of {total} are there; {missing[0]} is missing",
                table=table,
                file=spec.name,
            )
        ]
    errors = sum(1 for item in found.values() if item.get("servererror") == {"S": "5xx"})
    wanted_errors = logdata.facts(logdata.rows(spec)).server_errors
    if errors != wanted_errors:
        return [
            MISTAKES["lab3-rows-missing"].item(
                label,
                f"{errors} items are marked servererror 5xx, the file has {wanted_errors} "
                "responses 500",
                table=table,
                file=spec.name,
            )
        ]
    return [passed(label, f"{total} requests, {errors} of them marked servererror 5xx")]


def check_logfile(ctx: CheckContext) -> Report:
    """lab3.step1: logfile's key, capacity and GSI_1, no stream yet, and the 500 rows."""
    title = "Create the logfile table and load it"
    table = names(ctx).logfile
    found = ctx.describe_table(table)
    if found is None:
        return Report("lab3.step1", title, (_missing_table(ctx, table, LOGFILE),))
    items = _shape_items(ctx, table, found, LOGFILE_DESIGN, "lab3.step1")
    spec = found.get("StreamSpecification") or {}
    stream_label = f"{table} has no stream while the old requests are loaded"
    replica = ctx.describe_table(names(ctx).replica)
    if spec.get("StreamEnabled") and replica is None:
        items.append(
            MISTAKES["lab3-stream-too-early"].item(
                stream_label, f"it already has a {spec.get('StreamViewType')} stream", table=table
            )
        )
    elif spec.get("StreamEnabled"):
        items.append(passed("logfile's stream came after the first load", "(step 4 and on)"))
    else:
        items.append(passed(stream_label))
    items.extend(_row_items(ctx, table))
    return Report("lab3.step1", title, tuple(items))


# ---------------------------------------------------------------------------------------------
# lab3.step2: logfile_replica as the material's CLI makes it


def _tag_item(ctx: CheckContext, table: str, found: dict[str, Any]) -> CheckItem:
    key, value = CLEANUP_TAG
    label = f"{table} carries the tag {key}={value}"
    arn = str(found.get("TableArn", ""))
    tags = ctx.client("dynamodb").list_tags_of_resource(ResourceArn=arn).get("Tags", [])
    if any(t.get("Key") == key and t.get("Value") == value for t in tags):
        return passed(label)
    return MISTAKES["lab3-cleanup-tag"].item(
        label, "it does not", arn=arn, key=key, value=value, table=table
    )


def _differences() -> CheckItem:
    """What the replica has that logfile does not (the material says they are the same)."""
    lines = [
        f"reads {REPLICA_DESIGN.read} instead of {LOGFILE_DESIGN.read}",
        f"GSI_1 reads {REPLICA_DESIGN.index_read} instead of {LOGFILE_DESIGN.index_read}",
        "GSI_1 also projects "
        + ", ".join(a for a in REPLICA_DESIGN.projected if a not in LOGFILE_DESIGN.projected),
        "the cleanup tag",
    ]
    return passed("Where the replica differs from logfile", "; ".join(lines))


def check_replica(ctx: CheckContext) -> Report:
    """lab3.step2: the replica's key, capacity, GSI_1 projection and cleanup tag."""
    title = "Create the replica table"
    table = names(ctx).replica
    found = ctx.describe_table(table)
    if found is None:
        return Report("lab3.step2", title, (_missing_table(ctx, table, REPLICA),))
    items = _shape_items(ctx, table, found, REPLICA_DESIGN, "lab3.step2")
    items.append(_tag_item(ctx, table, found))
    items.append(_differences())
    stream = (ctx.describe_table(names(ctx).logfile) or {}).get("StreamSpecification") or {}
    if not stream.get("StreamEnabled"):
        copied = ctx.client("dynamodb").scan(TableName=table, Select="COUNT", Limit=10)
        if int(copied.get("Count", 0)):
            items.append(
                warning(
                    f"{table} is still empty",
                    "it already holds items, although nothing replicates yet",
                    "The replica should fill only through the stream (steps 4 and 5).",
                )
            )
    return Report("lab3.step2", title, tuple(items))
