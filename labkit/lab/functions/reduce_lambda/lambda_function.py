"""ReduceLambda: adds each batch of pre-aggregated totals to AggregateTable.

It reads new ReduceTable items from ReduceTable's stream, sums their totals per aggregate key,
and adds the sums to AggregateTable in one transaction.
"""

from __future__ import annotations

from typing import Any

import boto3
import pipeline

dynamodb = boto3.client("dynamodb")
AGGREGATE_TABLE = pipeline.resource_name("AGGREGATE_TABLE")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    totals = pipeline.sum_reduce_records(event["Records"])
    if totals:
        # TODO (lab2.step2): make a retry of this batch change nothing.
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": AGGREGATE_TABLE,
                        "Key": {"Identifier": {"S": key}},
                        "UpdateExpression": "ADD #value :value",
                        "ExpressionAttributeNames": {"#value": "Value"},
                        "ExpressionAttributeValues": {":value": {"N": str(total)}},
                    }
                }
                for key, total in sorted(totals.items())
            ]
        )
    # Lab 2 makes this function fail now and then, after its writes.
    pipeline.maybe_fail(dynamodb, "ReduceLambda", "FAILURE_REDUCE_LAMBDA_PCT")
    return {"keys": len(totals)}
