"""Compact Kinesis records change nothing moto answers: the same requests, with and without."""

from __future__ import annotations

import base64
import datetime
import pickle
from typing import Any

import boto3
import pytest
from moto import mock_aws

from labkit.cloud import kinesis_records

pytestmark = pytest.mark.usefixtures("aws_env")

PAYLOADS = [b'{"TradeID": "t-1", "Value": "12.5"}', b"", b"\x00\xffbinary\n", "é".encode() * 300]


def _answers() -> list[Any]:
    """Puts and reads of every kind, with arrival times replaced by their type."""
    answers: list[Any] = []

    def answer(reply: dict[str, Any]) -> dict[str, Any]:
        reply.pop("ResponseMetadata", None)
        return reply

    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="s", ShardCount=2)
        for number, data in enumerate(PAYLOADS):
            answers.append(
                answer(client.put_record(StreamName="s", Data=data, PartitionKey=str(number)))
            )
        answers.append(
            client.put_records(
                StreamName="s",
                Records=[{"Data": data, "PartitionKey": f"k{len(data)}"} for data in PAYLOADS],
            )["Records"]
        )
        shards = client.list_shards(StreamName="s")["Shards"]
        answers.append(shards)
        for shard in shards:
            kinds = [
                {"ShardIteratorType": "TRIM_HORIZON"},
                {
                    "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                    "StartingSequenceNumber": shard["SequenceNumberRange"][
                        "StartingSequenceNumber"
                    ],
                },
                {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": datetime.datetime(2000, 1, 1)},
            ]
            for kind in kinds:
                iterator = client.get_shard_iterator(
                    StreamName="s", ShardId=shard["ShardId"], **kind
                )["ShardIterator"]
                for limit in (1, 100):
                    reply = client.get_records(ShardIterator=iterator, Limit=limit)
                    for record in reply["Records"]:
                        stamp = record.pop("ApproximateArrivalTimestamp")
                        record["arrival"] = type(stamp).__name__
                    answers.append([reply["Records"], reply["MillisBehindLatest"] >= 0])
    return answers


def test_every_answer_is_the_same_with_compact_records() -> None:
    without = _answers()
    restore = kinesis_records.install()
    try:
        compact = _answers()
    finally:
        restore()
    assert compact == without
    assert any(record for answer in without[-1:] for record in answer[0])


def test_a_record_keeps_the_requests_text_and_pickles() -> None:
    text = base64.b64encode(b"trade").decode()
    record = kinesis_records.CompactRecord("p", text, 7, "")
    assert record.data == text and type(record._data) is bytes
    odd = kinesis_records.CompactRecord("p", "not base64!", 8, "")
    assert odd.data == "not base64!"
    loaded = pickle.loads(pickle.dumps(record))
    assert (loaded.data, loaded.sequence_number, loaded.created_at) == (
        text,
        7,
        record.created_at,
    )


def test_a_record_pickled_by_moto_loads() -> None:
    from moto.kinesis.models import Record

    plain = Record("p", base64.b64encode(b"old").decode(), 3, "")
    saved = pickle.dumps(plain)
    restore = kinesis_records.install()
    try:
        loaded = pickle.loads(saved)
    finally:
        restore()
    assert type(loaded) is kinesis_records.CompactRecord
    assert loaded.to_json() == plain.to_json()
    assert loaded.created_at == plain.created_at
