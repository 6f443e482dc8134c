"""StateLambda: keeps the latest state of every trade in StateTable."""

import base64

import boto3
import pipeline
from botocore.exceptions import ClientError

dynamodb = boto3.client("dynamodb")
STATE_TABLE = pipeline.resource_name("STATE_TABLE")


def lambda_handler(event, context):
    records = event["Records"]
    skipped = 0
    for record in records:
        trade = pipeline.parse_trade(base64.b64decode(record["kinesis"]["data"]))
        try:
            dynamodb.update_item(
                TableName=STATE_TABLE,
                Key={"id": {"S": trade["TradeID"]}},
                UpdateExpression="SET #value = :value, #version = :version, "
                "#hierarchy = :hierarchy, #timestamp = :timestamp",
                # New trades, and newer versions of known ones; nothing else.
                ConditionExpression="attribute_not_exists(id) OR #version < :version",
                ExpressionAttributeNames={
                    "#value": "Value",
                    "#version": "Version",
                    "#hierarchy": "Hierarchy",
                    "#timestamp": "Timestamp",
                },
                ExpressionAttributeValues={
                    ":value": {"N": str(trade["Value"])},
                    ":version": {"N": str(trade["Version"])},
                    ":hierarchy": {"M": {k: {"S": v} for k, v in trade["Hierarchy"].items()}},
                    ":timestamp": {"N": str(trade["Timestamp"])},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # anything else must fail the batch, so that it is retried
            skipped += 1
    if skipped:
        print(f"Skipped {skipped} duplicate or older message(s)")
    pipeline.maybe_fail(dynamodb, "StateLambda", "FAILURE_STATE_LAMBDA_PCT")
    return {"written": len(records) - skipped, "skipped": skipped}
