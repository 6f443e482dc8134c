"""counter-upload-aggregator (starter): keep each counter's total over all instances.

It reads the state table's stream (NEW_IMAGE): each record carries a state item with its map
InstanceValues of instance -> value. Sum the map and store the total as ``Value`` in the
aggregate table, keyed by Counter and Date.
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
        logger.info("state item %s", image)
        # TODO: read Counter and Date, sum InstanceValues, then call store_total.


def store_total(counter: str, date: str, total: int) -> None:
    """Set Value of (counter, date) to total, only if it is not already total."""
    # TODO: one update_item with a ConditionExpression; ignore_unchanged catches the refusal.


def ignore_unchanged(update: Callable[..., Any], **arguments: Any) -> None:
    """Run a conditional update; a failed condition means nothing had to change."""
    try:
        update(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
