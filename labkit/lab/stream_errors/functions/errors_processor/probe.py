"""What each item of the source table asks of the processor, and the invocation log.

An item's ``behaviour`` attribute chooses what happens when the processor meets it:

* ``ok`` (or no attribute): processed;
* ``fail``: a poison record, it fails every time;
* ``fail-once``: fails on its first attempt only, like a brief outage of a downstream service.

Every invocation is written to the invocations table (``INVOCATIONS_TABLE``): the first and
last sequence number of its batch, the item ids, which attempt at this exact batch it is, and
how it ended. labkit's invocation view reads that table, so what you see does not depend on
log timing. Counters live in the same table under keys that start with ``#``: how often each
batch was tried, and how often each record was processed successfully (``#done:`` and its
sequence number), so duplicates and lost records show whatever the handler looks like.
"""

import os
import time
from typing import Any

import boto3

dynamodb = boto3.client("dynamodb")
INVOCATIONS_TABLE = os.environ["INVOCATIONS_TABLE"]


class PoisonRecord(Exception):
    """The record's item asked the processor to fail."""


def item_id(record: dict[str, Any]) -> str:
    """The ``id`` of the item a stream record is about."""
    return str(record["dynamodb"]["Keys"]["id"]["S"])


def image(record: dict[str, Any]) -> dict[str, Any]:
    """The item after the change (before it, for a REMOVE)."""
    change = record["dynamodb"]
    found: dict[str, Any] = change.get("NewImage") or change.get("OldImage") or {}
    return found


def behaviour(record: dict[str, Any]) -> str:
    return str(image(record).get("behaviour", {}).get("S", "ok"))


def _count(key: str) -> int:
    """Add one to a counter in the invocations table and return its new value."""
    answer = dynamodb.update_item(
        TableName=INVOCATIONS_TABLE,
        Key={"invocation": {"S": key}},
        UpdateExpression="ADD seen :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["seen"]["N"])


def process(record: dict[str, Any]) -> None:
    """Handle one record as its item asks; raises PoisonRecord for a failing one."""
    wanted = behaviour(record)
    sequence = record["dynamodb"]["SequenceNumber"]
    if wanted == "fail":
        raise PoisonRecord(f"item {item_id(record)} is poison: it fails every time")
    if wanted == "fail-once" and _count(f"#seen:{sequence}") == 1:
        raise PoisonRecord(f"item {item_id(record)} fails on its first attempt")
    _count(f"#done:{sequence}")


def log_invocation(
    event: dict[str, Any],
    context: Any,
    outcome: str,
    detail: str = "",
    reported: list[str] | tuple[str, ...] = (),
) -> int:
    """Write one invocation to the invocations table; returns the attempt number."""
    records = event.get("Records") or []
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    span = f"{sequences[0]}-{sequences[-1]}" if sequences else "none"
    window = event.get("window") or {}
    attempt = _count(f"#batch:{window.get('start', '')}:{span}")
    item = {
        "invocation": {"S": context.aws_request_id},
        "at": {"N": repr(time.time())},
        "size": {"N": str(len(records))},
        "ids": {"L": [{"S": item_id(r)} for r in records]},
        "sequences": {"L": [{"S": s} for s in sequences]},
        "attempt": {"N": str(attempt)},
        "outcome": {"S": outcome},
        "detail": {"S": detail[:500]},
        "reported": {"L": [{"S": str(r)} for r in reported]},
    }
    if sequences:
        item["first"] = {"S": sequences[0]}
        item["last"] = {"S": sequences[-1]}
    if window:
        item["window"] = {"S": window["start"]}
        item["final"] = {"BOOL": bool(event.get("isFinalInvokeForWindow"))}
    dynamodb.put_item(TableName=INVOCATIONS_TABLE, Item=item)
    return attempt
