"""Reading what happened in lab 5, through boto3 only: the mapping, the invocation log, the
failure records in the queue, the quarantine and the window totals.

The notebook's experiments and the checks both read through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .names import StreamErrorsNames

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class Invocation:
    """One invocation of ErrorsProcessor, as it logged itself."""

    request_id: str
    at: float
    ids: tuple[str, ...]
    sequences: tuple[str, ...]
    attempt: int
    outcome: str
    detail: str = ""
    reported: tuple[str, ...] = ()
    window: str | None = None
    final: bool = False

    @property
    def first(self) -> str | None:
        return self.sequences[0] if self.sequences else None

    @property
    def last(self) -> str | None:
        return self.sequences[-1] if self.sequences else None

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def reported_ids(self) -> tuple[str, ...]:
        """The item ids whose sequence numbers the invocation reported as failed."""
        where = dict(zip(self.sequences, self.ids, strict=True))
        return tuple(where.get(sequence, f"?{sequence}") for sequence in self.reported)


@dataclass(frozen=True)
class FailureRecord:
    """A failure record of a discarded batch, as the on-failure queue received it."""

    condition: str
    invoke_count: int
    shard_id: str
    start: str
    end: str
    batch_size: int
    stream_arn: str
    document: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, body: str) -> FailureRecord:
        document = json.loads(body)
        info = document.get("DDBStreamBatchInfo") or {}
        context = document.get("requestContext") or {}
        return cls(
            condition=str(context.get("condition", "")),
            invoke_count=int(context.get("approximateInvokeCount", 0)),
            shard_id=str(info.get("shardId", "")),
            start=str(info.get("startSequenceNumber", "")),
            end=str(info.get("endSequenceNumber", "")),
            batch_size=int(info.get("batchSize", 0)),
            stream_arn=str(info.get("streamArn", "")),
            document=document,
        )

    def covers(self, sequence: str) -> bool:
        """True if the discarded batch held the record with this sequence number."""
        return int(self.start) <= int(sequence) <= int(self.end)


def _code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def scan(client: ClientFactory, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` (consistent reads, all pages)."""
    ddb = client("dynamodb")
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _strings(value: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(str(entry.get("S", "")) for entry in (value or {}).get("L", []))


def invocations(client: ClientFactory, names: StreamErrorsNames) -> list[Invocation]:
    """Every invocation ErrorsProcessor logged, oldest first."""
    found = []
    for item in scan(client, names.invocations):
        key = item["invocation"]["S"]
        if key.startswith("#") or "at" not in item:
            continue
        found.append(
            Invocation(
                request_id=key,
                at=float(item["at"]["N"]),
                ids=_strings(item.get("ids")),
                sequences=_strings(item.get("sequences")),
                attempt=int(item.get("attempt", {}).get("N", "1")),
                outcome=item.get("outcome", {}).get("S", ""),
                detail=item.get("detail", {}).get("S", ""),
                reported=_strings(item.get("reported")),
                window=item.get("window", {}).get("S"),
                final=bool(item.get("final", {}).get("BOOL", False)),
            )
        )
    return sorted(found, key=lambda invocation: invocation.at)


def processed_counts(client: ClientFactory, names: StreamErrorsNames) -> dict[str, int]:
    """How many times each record (by sequence number) was processed successfully."""
    counts: dict[str, int] = {}
    for item in scan(client, names.invocations):
        key = item["invocation"]["S"]
        if key.startswith("#done:"):
            counts[key.removeprefix("#done:")] = int(item.get("seen", {}).get("N", "0"))
    return counts


def table_stream_arn(client: ClientFactory, table: str) -> str | None:
    """A table's current stream, or None without the table or a stream."""
    try:
        found = client("dynamodb").describe_table(TableName=table)["Table"]
    except Exception as error:
        if _code(error) == "ResourceNotFoundException":
            return None
        raise
    latest = found.get("LatestStreamArn")
    enabled = (found.get("StreamSpecification") or {}).get("StreamEnabled")
    return str(latest) if latest and enabled else None


def stream_arn(client: ClientFactory, names: StreamErrorsNames) -> str | None:
    """ErrorsSource's current stream, or None without a table or a stream."""
    return table_stream_arn(client, names.source)


def mapping_between(client: ClientFactory, table: str, function: str) -> dict[str, Any] | None:
    """The mapping from ``table``'s current stream to ``function``, if there is one."""
    arn = table_stream_arn(client, table)
    if arn is None:
        return None
    lam = client("lambda")
    try:
        found = lam.list_event_source_mappings(FunctionName=function, EventSourceArn=arn)
    except Exception as error:
        if _code(error) == "ResourceNotFoundException":
            return None
        raise
    mappings: list[dict[str, Any]] = found.get("EventSourceMappings", [])
    return mappings[0] if mappings else None


def mapping(client: ClientFactory, names: StreamErrorsNames) -> dict[str, Any] | None:
    """The mapping from ErrorsSource's current stream to ErrorsProcessor, if there is one."""
    return mapping_between(client, names.source, names.processor)


def named_queue_url(client: ClientFactory, queue: str) -> str | None:
    """The URL of the queue called ``queue``, or None if there is none."""
    sqs = client("sqs")
    try:
        return str(sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    except Exception as error:
        code = _code(error)
        if "NonExistentQueue" in code or code == "QueueDoesNotExist":
            return None
        raise


def queue_url(client: ClientFactory, names: StreamErrorsNames) -> str | None:
    return named_queue_url(client, names.queue)


def queue_arn(client: ClientFactory, url: str) -> str:
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def failure_records(
    client: ClientFactory, names: StreamErrorsNames, *, take: bool = False
) -> list[FailureRecord]:
    """The failure records waiting in ErrorsFailures; ``take`` deletes them as they are read
    (otherwise they stay, visible again at once)."""
    return queue_failure_records(client, names.queue, take=take)


def queue_failure_records(
    client: ClientFactory, queue: str, *, take: bool = False
) -> list[FailureRecord]:
    """The failure records waiting in the queue called ``queue`` (see :func:`failure_records`)."""
    url = named_queue_url(client, queue)
    if url is None:
        return []
    sqs = client("sqs")
    seen: dict[str, FailureRecord] = {}
    for _ in range(50):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0 if not take else 30
        )
        messages = answer.get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        for message in fresh:
            seen[message["MessageId"]] = FailureRecord.parse(message["Body"])
            if take:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not fresh:
            break
    return sorted(seen.values(), key=lambda record: int(record.start or 0))


def discarded_records(
    client: ClientFactory, failure: FailureRecord, *, pages: int = 20
) -> list[dict[str, Any]]:
    """The stream records of a discarded batch, re-read from the stream AT_SEQUENCE_NUMBER
    its first record (what a quarantiner does); empty once they have expired."""
    streams = client("dynamodbstreams")
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=failure.stream_arn,
            ShardId=failure.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=failure.start,
        ).get("ShardIterator")
    except Exception as error:
        if _code(error) in ("TrimmedDataAccessException", "ResourceNotFoundException"):
            return []
        raise
    found: list[dict[str, Any]] = []
    for _ in range(pages):
        if not iterator:
            break
        page = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in page.get("Records", []):
            sequence = record["dynamodb"]["SequenceNumber"]
            if int(sequence) > int(failure.end):
                return found
            found.append(record)
        if len(found) >= failure.batch_size > 0:
            break
        iterator = page.get("NextShardIterator")
    return found


def quarantined(client: ClientFactory, names: StreamErrorsNames) -> list[dict[str, Any]]:
    """The quarantine table's items as plain values, in sequence order."""
    rows = []
    for item in scan(client, names.quarantine):
        rows.append(
            {
                "SequenceNumber": item["SequenceNumber"]["S"],
                "id": item.get("id", {}).get("S", ""),
                "eventName": item.get("eventName", {}).get("S", ""),
                "condition": item.get("condition", {}).get("S", ""),
            }
        )
    return sorted(rows, key=lambda row: int(row["SequenceNumber"]))


def window_totals(client: ClientFactory, names: StreamErrorsNames) -> list[dict[str, Any]]:
    """Each finished window's totals, oldest window first."""
    rows = []
    for item in scan(client, names.windows):
        totals = item.get("totals", {})
        parsed = json.loads(totals["S"]) if "S" in totals else {}
        rows.append(
            {
                "window": item["window"]["S"],
                "end": item.get("end", {}).get("S", ""),
                "totals": parsed,
                "early": bool(item.get("early", {}).get("BOOL", False)),
            }
        )
    return sorted(rows, key=lambda row: str(row["window"]))


def clear(client: ClientFactory, names: StreamErrorsNames) -> None:
    """Empty the invocation log, the quarantine, the window totals and the queue."""
    ddb = client("dynamodb")
    for table, key in (
        (names.invocations, "invocation"),
        (names.quarantine, "SequenceNumber"),
        (names.windows, "window"),
    ):
        try:
            items = list(scan(client, table))
        except Exception as error:
            if _code(error) == ("ResourceNotFoundException"):
                continue
            raise
        for item in items:
            ddb.delete_item(TableName=table, Key={key: item[key]})
    failure_records(client, names, take=True)
