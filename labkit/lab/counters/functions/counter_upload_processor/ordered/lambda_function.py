"""counter-upload-processor: keep each instance's latest counter values.

An instance uploads ``path/to/data/<date>/values_<instance>``, one ``COUNTER VALUE`` per line.
S3 tells the topic, the topic invokes this function, and the function stores the values in
the state table, one item per (Counter, Date) holding a map of instance -> value.

Ordered against lost updates: a delivery can be retried after a newer one succeeded. Each
value is stored with the S3 event's ``sequencer`` (per instance, in InstanceSequencers), and
the update happens only if the stored sequencer is older. Sequencers of one key grow; they
may differ in length, so they are left-padded to one width before DynamoDB compares them.
"""

import json
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

STATE_TABLE = os.environ.get("STATE_TABLE", "counter-upload-processor-state")
FILE_PREFIX = "values_"
SEQUENCER_WIDTH = 32

logger = logging.getLogger()
logger.setLevel(logging.INFO)
s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table(STATE_TABLE)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        if record.get("EventSource") != "aws:sns":
            continue
        message = json.loads(record["Sns"]["Message"] or "{}")
        # S3 sends {"Event": "s3:TestEvent", ...} when notifications are set up: no Records.
        for s3_record in message.get("Records", []):
            handle_upload(s3_record)


def handle_upload(record: dict[str, Any]) -> None:
    if record.get("eventSource") != "aws:s3":
        return
    if not record.get("eventName", "").startswith("ObjectCreated:"):
        return
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    folder, _, filename = key.rpartition("/")
    if not filename.startswith(FILE_PREFIX):
        return
    date = folder.rsplit("/", 1)[-1]
    instance = filename[len(FILE_PREFIX) :]
    version = record["s3"]["object"].get("versionId")
    request = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    sequencer = record["s3"]["object"]["sequencer"].rjust(SEQUENCER_WIDTH, "0")
    body = s3.get_object(**request)["Body"].read().decode("utf-8")
    for line in body.splitlines():
        fields = line.split()
        if len(fields) == 2:
            store(date, instance, fields[0], int(fields[1]), sequencer)


def store(date: str, instance: str, counter: str, value: int, sequencer: str) -> None:
    """Set InstanceValues[instance] to value, unless a newer upload already did."""
    key = {"Counter": counter, "Date": date}
    ignore_unchanged(
        table.update_item,
        Key=key,
        UpdateExpression="SET #values = :empty, #sequencers = :empty",
        ConditionExpression="attribute_not_exists(#values)",
        ExpressionAttributeNames={"#values": "InstanceValues", "#sequencers": "InstanceSequencers"},
        ExpressionAttributeValues={":empty": {}},
    )
    ignore_unchanged(
        table.update_item,
        Key=key,
        UpdateExpression="SET #values.#instance = :value, #sequencers.#instance = :sequencer",
        ConditionExpression=(
            "attribute_not_exists(#sequencers.#instance) OR #sequencers.#instance < :sequencer"
        ),
        ExpressionAttributeNames={
            "#values": "InstanceValues",
            "#sequencers": "InstanceSequencers",
            "#instance": instance,
        },
        ExpressionAttributeValues={":value": value, ":sequencer": sequencer},
    )
    logger.info("stored %s %s %s=%s (sequencer %s)", date, instance, counter, value, sequencer)


def ignore_unchanged(update: Callable[..., Any], **arguments: Any) -> None:
    """Run a conditional update; a failed condition means nothing had to change (or a newer
    upload already changed it)."""
    try:
        update(**arguments)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
