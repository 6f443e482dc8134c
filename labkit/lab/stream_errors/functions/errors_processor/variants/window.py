"""ErrorsProcessor for a tumbling window: per-item totals of ``amount``, kept in the state.

Each invocation adds its records to the state Lambda passes in and returns the new state.
The final invoke of a window (no records, ``isFinalInvokeForWindow``) writes the totals to the
windows table, one item per window.
"""

import json
import os
from typing import Any

import boto3
from probe import image, item_id, log_invocation

dynamodb = boto3.client("dynamodb")
WINDOWS_TABLE = os.environ["WINDOWS_TABLE"]


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    totals: dict[str, int] = dict(event.get("state") or {})
    for record in event["Records"]:
        amount = int(image(record).get("amount", {}).get("N", "0"))
        totals[item_id(record)] = totals.get(item_id(record), 0) + amount
    if event.get("isFinalInvokeForWindow"):
        dynamodb.put_item(
            TableName=WINDOWS_TABLE,
            Item={
                "window": {"S": event["window"]["start"]},
                "end": {"S": event["window"]["end"]},
                "totals": {"S": json.dumps(totals, sort_keys=True)},
                "early": {"BOOL": bool(event.get("isWindowTerminatedEarly"))},
            },
        )
    log_invocation(event, context, "ok")
    return {"state": totals}
