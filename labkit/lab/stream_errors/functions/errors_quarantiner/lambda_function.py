"""ErrorsQuarantiner (starter): look at the failure records waiting in the queue.

A failure record says which batch Lambda discarded (``DDBStreamBatchInfo``: the stream, the
shard, the first and last sequence number) but carries none of its records. Your task: read
those records back from the stream, starting AT_SEQUENCE_NUMBER the first one, copy each into
the quarantine table (``QUARANTINE_TABLE``, key ``SequenceNumber``), and then delete the
message from the queue.

As it is, this only counts the messages and leaves them in the queue.
"""

import json
import os
from typing import Any

import boto3

sqs = boto3.client("sqs")
QUEUE_URL = sqs.get_queue_url(QueueName=os.environ["FAILURE_QUEUE"])["QueueUrl"]


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    answer = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, VisibilityTimeout=0)
    batches = [json.loads(m["Body"])["DDBStreamBatchInfo"] for m in answer.get("Messages", [])]
    for info in batches:
        print("discarded:", info["startSequenceNumber"], "…", info["endSequenceNumber"])
    return {"copied": 0, "messages": len(batches)}
