"""ErrorsQuarantiner: copy the records of every discarded batch into the quarantine table.

For each failure record in the queue it opens a shard iterator AT_SEQUENCE_NUMBER the batch's
first record, reads until it passes the batch's last one, and writes each record to the
quarantine table (``QUARANTINE_TABLE``, key ``SequenceNumber``). Only once every record of a
batch is copied is its message deleted, so a failure here loses nothing: the message comes
back and the copy is simply repeated (the same keys, so no duplicates).
"""

import json
import os
from typing import Any

import boto3

sqs = boto3.client("sqs")
streams = boto3.client("dynamodbstreams")
dynamodb = boto3.client("dynamodb")
QUEUE_URL = sqs.get_queue_url(QueueName=os.environ["FAILURE_QUEUE"])["QueueUrl"]
QUARANTINE_TABLE = os.environ["QUARANTINE_TABLE"]


def copy_batch(failure: dict[str, Any]) -> int:
    """Copy the discarded records one failure record names; returns how many."""
    info = failure["DDBStreamBatchInfo"]
    last = int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    copied = 0
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in page["Records"]:
            change = record["dynamodb"]
            if int(change["SequenceNumber"]) > last:
                return copied
            dynamodb.put_item(
                TableName=QUARANTINE_TABLE,
                Item={
                    "SequenceNumber": {"S": change["SequenceNumber"]},
                    "id": change["Keys"]["id"],
                    "eventName": {"S": record["eventName"]},
                    "image": {"M": change.get("NewImage") or change.get("OldImage") or {}},
                    "condition": {"S": failure["requestContext"]["condition"]},
                },
            )
            copied += 1
        if not page["Records"]:
            return copied
        iterator = page.get("NextShardIterator")
    return copied


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    copied = messages = 0
    while True:
        answer = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10)
        if not answer.get("Messages"):
            return {"copied": copied, "messages": messages}
        for message in answer["Messages"]:
            copied += copy_batch(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])
            messages += 1
