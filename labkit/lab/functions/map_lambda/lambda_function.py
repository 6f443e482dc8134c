"""MapLambda: pre-aggregates a batch of StateTable changes into one ReduceTable item.

Each StateTable stream record adds the trade's new value to its aggregate key and takes the
old value away from the key it had before. The batch's totals are stored under a hash of the
batch, only if that item does not exist yet: a retried batch has the same hash, so it is
stored once. ReduceTable's stream then hands the totals to ReduceLambda.
"""

from __future__ import annotations

from typing import Any

import boto3
import pipeline
from botocore.exceptions import ClientError

dynamodb = boto3.client("dynamodb")
REDUCE_TABLE = pipeline.resource_name("REDUCE_TABLE")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event["Records"]
    totals = pipeline.pre_aggregate(records)
    message_id = pipeline.batch_hash(records)
    if totals:
        try:
            dynamodb.put_item(
                TableName=REDUCE_TABLE,
                Item={
                    "MessageId": {"S": message_id},
                    "Message": {"S": pipeline.encode_totals(totals)},
                },
                ConditionExpression="attribute_not_exists(MessageId)",
            )
        except ClientError as error:
            # The item exists: this batch is a retry and was stored before. Any other error
            # is raised, so the batch is retried instead of being dropped.
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            print(f"Batch {message_id[:12]} was stored by an earlier attempt.")
    # Lab 2 makes this function fail now and then, after its writes.
    pipeline.maybe_fail(dynamodb, "MapLambda", "FAILURE_MAP_LAMBDA_PCT")
    return {"message_id": message_id, "keys": len(totals)}
