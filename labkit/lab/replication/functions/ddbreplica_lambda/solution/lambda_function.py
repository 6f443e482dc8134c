"""ddbreplica_lambda: copy every change of the logfile table into its replica.

It reads the logfile table's stream (NEW_IMAGE records) and, in order:

* INSERT and MODIFY put the record's new image into the replica;
* REMOVE deletes the item with the record's key from the replica.

Any failure raises, so Lambda fails the batch and retries it: nothing is dropped silently.
The replica's name comes from the REPLICA_TABLE environment variable.
"""

from __future__ import annotations

import os
from typing import Any

import boto3

dynamodb = boto3.client("dynamodb")
REPLICA_TABLE = os.environ["REPLICA_TABLE"]


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    puts = deletes = 0
    for record in event["Records"]:
        change = record["dynamodb"]
        if record["eventName"] == "REMOVE":
            dynamodb.delete_item(TableName=REPLICA_TABLE, Key=change["Keys"])
            deletes += 1
            continue
        image = change.get("NewImage")
        if image is None:
            raise ValueError(
                f"Record {record['eventID']} carries no NewImage: the stream's view type must "
                "be NEW_IMAGE (or NEW_AND_OLD_IMAGES) for the replica to get the items."
            )
        dynamodb.put_item(TableName=REPLICA_TABLE, Item=image)
        puts += 1
    print(f"Replicated {puts} puts and {deletes} deletes into {REPLICA_TABLE}")
    return {"puts": puts, "deletes": deletes}
