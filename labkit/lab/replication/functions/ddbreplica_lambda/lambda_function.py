"""ddbreplica_lambda: copy every change of the logfile table into its replica.

It reads the logfile table's stream (NEW_IMAGE records) and writes each new image into the
replica table, whose name comes from the REPLICA_TABLE environment variable.

This is the starting version, faithful to the material's function. Two things are wrong with
it; lab3.step4 asks you to find and fix them.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import boto3

dynamodb = boto3.client("dynamodb")
REPLICA_TABLE = os.environ["REPLICA_TABLE"]


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    try:
        for record in event["Records"]:
            change = record["dynamodb"]
            if record["eventName"] in ("INSERT", "MODIFY") and "NewImage" in change:
                # A stream record's image is already in DynamoDB's typed form.
                dynamodb.put_item(TableName=REPLICA_TABLE, Item=change["NewImage"])
        print(f"Replicated {len(event['Records'])} records into {REPLICA_TABLE}")
    except Exception:
        print(traceback.format_exc())
