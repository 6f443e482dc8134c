"""counter-upload-aggregator: keep each counter's total over all instances.

It reads the state table's stream (NEW_IMAGE): each record carries a state item with its map
InstanceValues of instance -> value. The function sums the map and stores the total as
``Value`` in the aggregate table, keyed by Counter and Date, only when the total changed.
"""

import logging
import os
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

AGGREGATE_TABLE = os.environ.get("AGGREGATE_TABLE", "aggregate-counters")

logger = logging.getLogger()
logger.setLevel(logging.INFO)
table = boto3.resource("dynamodb").Table(AGGREGATE_TABLE)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = record["dynamodb"].get("NewImage", {})
        counter, date = image["Counter"]["S"], image["Date"]["S"]
        values = image.get("InstanceValues", {}).get("M", {})
        store_total(counter, date, sum(int(v["N"]) for v in values.values()))


def store_total(counter: str, date: str, total: int) -> None:
    """Set Value of (counter, date) to total, only if it is not already total."""
    ignore_unchanged(
        table.update_item,
        Key={"Counter": counter, "Date": date},
        UpdateExpression="SET #value = :total",
        ConditionExpression="NOT #value = :total",
        ExpressionAttributeNames={"#value": "Value"},
        ExpressionAttributeValues={":total": total},
    )
    logger.info("total %s %s = %s", date, counter, total)


def ignore_unchanged(update: Callable[..., Any], **arguments: Any) -> None:
    """Run a conditional update; a failed condition means nothing had to change."""
    try:
        update(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
