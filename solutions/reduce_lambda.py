"""ReduceLambda: adds each batch of totals from ReduceTable to AggregateTable."""

import hashlib

import boto3
import pipeline

dynamodb = boto3.client("dynamodb")
AGGREGATE_TABLE = pipeline.resource_name("AGGREGATE_TABLE")


def lambda_handler(event, context):
    records = event["Records"]
    # A retry delivers the same records in the same order: the same token (32 characters).
    token = hashlib.md5(str(records).encode()).hexdigest()
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
        except dynamodb.exceptions.IdempotentParameterMismatchException:
            print(f"Batch {token} was already added by an earlier attempt")
    pipeline.maybe_fail(dynamodb, "ReduceLambda", "FAILURE_REDUCE_LAMBDA_PCT")
    return {"keys": len(totals)}
