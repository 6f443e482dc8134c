"""Checks of lab 3: replicate logfile into logfile_replica through its stream.

Steps 1–2 (tables) are in :mod:`.lab3_tables`, steps 3–4 (permissions, function, stream and
handler) in :mod:`.lab3_pipeline`; step 5, the load through the stream, is here. Every
expected number comes from the generated web-log files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.lab.replication import logdata
from labkit.lab.replication.loader import item_of
from labkit.lab.replication.tables import INDEX, INDEX_KEY, KEY

from .context import CheckContext
from .lab3_pipeline import PROBE_PREFIX, check_replicator, check_streaming, follow
from .lab3_tables import check_logfile, check_replica, names, scan_items
from .mistakes import MISTAKES
from .report import CheckItem, Report, passed

__all__ = ["CHECKS", "check_loaded"]


def _keys(ctx: CheckContext, table: str, **options: Any) -> dict[str, dict[str, Any]]:
    """The table's items by PK, without the checks' own probe items."""
    found: dict[str, dict[str, Any]] = {}
    for item in scan_items(ctx, table, **options):
        key = str(item.get(KEY, {}).get("S", ""))
        if key and not key.startswith(PROBE_PREFIX):
            found[key] = item
    return found


def _query(ctx: CheckContext, table: str, host: str) -> dict[str, str]:
    """PK -> bytessent of a GSI_1 query for ``host``."""
    out: dict[str, str] = {}
    paginator = ctx.client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=table,
        IndexName=INDEX,
        KeyConditionExpression="#k = :host",
        ExpressionAttributeNames={"#k": INDEX_KEY},
        ExpressionAttributeValues={":host": {"S": f"host#{host}"}},
    )
    for page in pages:
        for item in page.get("Items", []):
            out[item[KEY]["S"]] = str(item.get("bytessent", {}).get("N", "?"))
    return out


def _difference(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    for name, value in expected.items():
        if actual.get(name) != value:
            return f"{name} is {actual.get(name)!r} instead of {value!r}"
    return None


def _content_items(
    expected: dict[str, dict[str, Any]], replica: dict[str, dict[str, Any]], table: str
) -> list[CheckItem]:
    differing = [
        (key, why)
        for key in expected
        if key in replica and (why := _difference(expected[key], replica[key])) is not None
    ]
    label = "The replicated items equal logfile's"
    if differing:
        key, why = differing[0]
        return [
            MISTAKES["lab3-items-differ"].item(
                label,
                f"{len(differing)} differ",
                why=f"In {table}, {key}: {why}.",
            )
        ]
    errors = sum(1 for item in replica.values() if item.get("servererror") == {"S": "5xx"})
    wanted = logdata.facts(logdata.rows(logdata.STREAM)).server_errors
    return [passed(label, f"{errors} of them marked servererror 5xx, as the file's {wanted}")]


def _query_item(ctx: CheckContext) -> CheckItem:
    lab = names(ctx)
    host = logdata.busiest_host(logdata.rows(logdata.STREAM))
    label = f"A GSI_1 query for host {host} answers the same on both tables"
    source, copy = _query(ctx, lab.logfile, host), _query(ctx, lab.replica, host)
    if source == copy:
        return passed(label, f"{len(source)} requests each")
    only_source = sorted(set(source) - set(copy))
    only_copy = sorted(set(copy) - set(source))
    parts = [f"logfile returns {len(source)} requests, the replica {len(copy)}."]
    if only_source:
        parts.append(f"Only in logfile: {only_source[0]} and {len(only_source) - 1} more.")
    if only_copy:
        parts.append(f"Only in the replica: {only_copy[0]} and {len(only_copy) - 1} more.")
    if not only_source and not only_copy:
        parts.append("The same requests, but bytessent differs.")
    return MISTAKES["lab3-query-differs"].item(label, "they differ", why=" ".join(parts))


def check_loaded(ctx: CheckContext) -> Report:
    """lab3.step5: the replica holds exactly the stream file's requests (not the 500 older
    ones), equal to logfile's, and a GSI_1 query for a host agrees on both tables."""
    title = "Load the stream file and compare the tables"
    lab = names(ctx)
    if ctx.describe_table(lab.logfile) is None or ctx.describe_table(lab.replica) is None:
        item = MISTAKES["lab3-not-provisioned"].item(
            "Both tables exist", "the lab is not set up", step="lab3.step5"
        )
        return Report("lab3.step5", title, (item,))
    spec = logdata.STREAM
    expected = {row.key: item_of(row) for row in logdata.rows(spec)}
    total = len(expected)

    def caught_up() -> bool:
        pages = (
            ctx.client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=lab.replica, Select="COUNT")
        )
        return sum(int(page.get("Count", 0)) for page in pages) >= total

    follow(ctx, caught_up, lab.function)
    source = _keys(ctx, lab.logfile, ProjectionExpression=KEY)
    replica = _keys(ctx, lab.replica)
    loaded = sum(1 for key in expected if key in source)
    arrived = sum(1 for key in expected if key in replica)
    items: list[CheckItem] = []
    load_label = f"logfile holds the {total} requests of {spec.name}"
    if loaded < total:
        detail = f"{loaded} of {total} are there"
        items.append(
            MISTAKES["lab3-not-loaded"].item(load_label, detail, table=lab.logfile, file=spec.name)
        )
        return Report("lab3.step5", title, tuple(items))
    items.append(passed(load_label))
    copy_label = f"{lab.replica} holds all {total} of them"
    if arrived == 0:
        note = _latest_note(ctx)
        items.append(
            MISTAKES["lab3-loaded-before-mapping"].item(
                copy_label, "none of them arrived", note=note
            )
        )
    elif arrived < total:
        missing = sorted(set(expected) - set(replica), key=lambda k: int(k.split("#")[1]))
        items.append(
            MISTAKES["lab3-replica-incomplete"].item(
                copy_label,
                f"{arrived} of {total} arrived",
                count=total - arrived,
                total=total,
                replica=lab.replica,
                example=missing[0],
                why="lab.check('lab3.step4') tests the handler on inserts, changes and "
                "deletions; lab.status() shows whether the mapping is still busy.",
            )
        )
    else:
        items.append(passed(copy_label))
    small = {row.key for row in logdata.rows(logdata.SMALL)}
    old = sum(1 for key in replica if key in small)
    old_label = f"{lab.replica} holds none of the requests loaded before the stream existed"
    if old:
        items.append(
            MISTAKES["lab3-old-rows-replicated"].item(
                old_label,
                f"{old} of them are there",
                count=old,
                file=logdata.SMALL.name,
                replica=lab.replica,
            )
        )
    else:
        items.append(passed(old_label, "a stream carries changes, not what was there before"))
    if arrived:
        items.extend(_content_items(expected, replica, lab.replica))
        items.append(_query_item(ctx))
    return Report("lab3.step5", title, tuple(items))


def _latest_note(ctx: CheckContext) -> str:
    lab = names(ctx)
    answer = ctx.client("lambda").list_event_source_mappings(FunctionName=lab.function)
    for mapping in answer.get("EventSourceMappings", []):
        if mapping.get("StartingPosition") == "LATEST":
            return f" (mapping {mapping['UUID']} starts at LATEST)"
    return ""


CheckFunction = Callable[[CheckContext], Report]

CHECKS: dict[str, CheckFunction] = {
    "lab3.step1": check_logfile,
    "lab3.step2": check_replica,
    "lab3.step3": check_replicator,
    "lab3.step4": check_streaming,
    "lab3.step5": check_loaded,
}
