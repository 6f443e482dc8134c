"""ReduceLambda: adds each batch of pre-aggregated totals to AggregateTable.

It reads new ReduceTable items from ReduceTable's stream, sums their totals per aggregate key,
and adds the sums to AggregateTable in one transaction.

Lab 2, step 2: the transaction carries a ClientRequestToken made from the batch itself. When
the event source mapping retries a batch, DynamoDB recognises the token and does not add the
totals a second time (for 10 minutes after the first attempt).
"""

from __future__ import annotations

from typing import Any

import boto3
import pipeline
from botocore.exceptions import ClientError

dynamodb = boto3.client("dynamodb")
AGGREGATE_TABLE = pipeline.resource_name("AGGREGATE_TABLE")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    records = event["Records"]
    # md5 gives 32 hex characters; a token may have up to 36. A retried batch has the same
    # records in the same order, so it gets the same token.
    token = pipeline.batch_hash(records, "md5")
    totals = pipeline.sum_reduce_records(records)
    if totals:
        try:
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
                ],
                ClientRequestToken=token,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "IdempotentParameterMismatchException":
                raise
            # The token was used in the last 10 minutes for a request that differs from this
            # one: this batch was committed by an earlier attempt whose code wrote it slightly
            # differently (the function was redeployed between attempts). Adding it again
            # would count it twice, so it is done.
            print(f"Batch {token} was committed by an earlier attempt; not adding it again.")
    # Lab 2 makes this function fail now and then, after its writes.
    pipeline.maybe_fail(dynamodb, "ReduceLambda", "FAILURE_REDUCE_LAMBDA_PCT")
    return {"keys": len(totals)}
