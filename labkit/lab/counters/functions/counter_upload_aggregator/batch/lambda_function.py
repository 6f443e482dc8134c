"""counter-upload-aggregator, batched: one BatchWriteItem per 25 totals instead of one
UpdateItem each (the material's fix for an aggregator that could not keep up).

A batch of stream records may hold several versions of one state item; only the newest
total of each (Counter, Date) is written. BatchWriteItem takes no condition, so every total in
the batch is written; unprocessed items are sent again until none are left.
"""

import logging
import os
import time
from typing import Any

import boto3

AGGREGATE_TABLE = os.environ.get("AGGREGATE_TABLE", "aggregate-counters")
BATCH_LIMIT = 25

logger = logging.getLogger()
logger.setLevel(logging.INFO)
dynamodb = boto3.resource("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    totals = {}
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = record["dynamodb"].get("NewImage", {})
        counter, date = image["Counter"]["S"], image["Date"]["S"]
        values = image.get("InstanceValues", {}).get("M", {})
        totals[(counter, date)] = sum(int(v["N"]) for v in values.values())
    requests = [
        {"PutRequest": {"Item": {"Counter": counter, "Date": date, "Value": total}}}
        for (counter, date), total in totals.items()
    ]
    for start in range(0, len(requests), BATCH_LIMIT):
        write_all(requests[start : start + BATCH_LIMIT])
    logger.info("wrote %d totals", len(requests))


def write_all(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem until DynamoDB has taken every request (with a short backoff)."""
    pending = {AGGREGATE_TABLE: requests}
    delay = 0.05
    while pending.get(AGGREGATE_TABLE):
        answer = dynamodb.batch_write_item(RequestItems=pending)
        pending = answer.get("UnprocessedItems") or {}
        if pending:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
