"""JSON-protocol requests answered without moto's Flask layer get the very same answers.

The same sequence of requests (successes, conditional failures, validation errors, unknown
operations, bad bodies) runs through the front twice, once through moto's Flask apps and once
through ``DirectDispatch``, each on a fresh moto; statuses, headers and bodies must agree, apart
from the values that differ between any two runs (request ids, times, generated ids) and the
CORS headers of moto's Flask apps, which the front's door drops from every answer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws
from werkzeug.test import Client

from labkit.cloud.front import Front

pytestmark = pytest.mark.usefixtures("aws_env")

ENDPOINT = "http://localhost:4566"
#: Differ between two runs of the same requests, whichever path serves them.
VOLATILE_HEADERS = {"x-amzn-requestid", "x-amz-crc32", "date", "content-length", "x-amz-id-2"}
VOLATILE_FIELDS = {
    "CreationDateTime",
    "LatestStreamLabel",
    "LatestStreamArn",
    "StreamArn",
    "StreamLabel",
    "ApproximateCreationDateTime",
    "ApproximateArrivalTimestamp",
    "StreamCreationTimestamp",
    "TableId",
    "ShardIterator",
    "NextShardIterator",
    "ShardId",
    "StartingSequenceNumber",
    "SequenceNumber",
    "MessageId",
    "ReceiptHandle",
    "MD5OfMessageBody",
    "eventID",
    "QueueUrl",
    "creationTime",
    "Shards",
    "Records",
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _clients(front: Front) -> Callable[[str], Any]:
    wsgi = Client(front)
    seen: list[tuple[int, dict[str, str], bytes]] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        answer = wsgi.open(
            request.url.replace(ENDPOINT, ""),
            method=request.method,
            headers=[
                (k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
            ],
            data=request.body or b"",
        )
        body = answer.get_data()
        headers = {k.lower(): v for k, v in answer.headers.items()}
        seen.append((answer.status_code, headers, body))
        return AWSResponse(request.url, answer.status_code, headers, _Raw(body))

    def client(service: str) -> Any:
        made = boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1")
        made.meta.events.register("before-send", send)
        made.seen = seen
        return made

    return client


def _calls() -> list[tuple[str, str, dict[str, Any]]]:
    key = {"id": {"S": "a"}}
    table = {"TableName": "Direct"}
    return [
        (
            "dynamodb",
            "create_table",
            {
                **table,
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {
                    "StreamEnabled": True,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            },
        ),
        ("dynamodb", "describe_table", table),
        ("dynamodb", "put_item", {**table, "Item": {**key, "n": {"N": "1"}}}),
        ("dynamodb", "get_item", {**table, "Key": key}),
        (
            "dynamodb",
            "update_item",
            {
                **table,
                "Key": key,
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ReturnValues": "ALL_NEW",
            },
        ),
        (
            "dynamodb",
            "update_item",
            {
                **table,
                "Key": key,
                "UpdateExpression": "SET n = :v",
                "ConditionExpression": "n > :v",
                "ExpressionAttributeValues": {":v": {"N": "10"}},
            },
        ),
        ("dynamodb", "update_item", {**table, "Key": key, "UpdateExpression": "SET = :v"}),
        ("dynamodb", "get_item", {"TableName": "Missing", "Key": key}),
        ("dynamodb", "get_item", {**table, "Key": {"other": {"S": "x"}}}),
        (
            "dynamodb",
            "transact_write_items",
            {
                "ClientRequestToken": "token-1",
                "TransactItems": [
                    {"Put": {**table, "Item": {"id": {"S": f"t{i}"}}}} for i in range(3)
                ],
            },
        ),
        (
            "dynamodb",
            "batch_write_item",
            {"RequestItems": {"Direct": [{"PutRequest": {"Item": {"id": {"S": "b"}}}}]}},
        ),
        (
            "dynamodb",
            "query",
            {
                **table,
                "KeyConditionExpression": "id = :a",
                "ExpressionAttributeValues": {":a": {"S": "a"}},
            },
        ),
        ("dynamodb", "scan", table),
        ("dynamodb", "delete_item", {**table, "Key": key, "ReturnValues": "ALL_OLD"}),
        ("dynamodbstreams", "list_streams", {}),
        ("kinesis", "create_stream", {"StreamName": "In", "ShardCount": 1}),
        ("kinesis", "put_record", {"StreamName": "In", "Data": b"x", "PartitionKey": "p"}),
        ("kinesis", "list_shards", {"StreamName": "In"}),
        ("kinesis", "describe_stream", {"StreamName": "Nope"}),
        ("sqs", "create_queue", {"QueueName": "q"}),
        ("sqs", "get_queue_url", {"QueueName": "missing"}),
        ("logs", "create_log_group", {"logGroupName": "g"}),
        ("logs", "describe_log_groups", {}),
    ]


def _blank(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "…" if k in VOLATILE_FIELDS else _blank(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return value


def _comparable(status: int, headers: dict[str, str], body: bytes) -> Any:
    try:
        parsed: Any = _blank(json.loads(body)) if body else None
    except ValueError:
        parsed = body
    headers = {k: v for k, v in headers.items() if not k.startswith("access-control-")}
    kept = {k: v for k, v in headers.items() if k not in VOLATILE_HEADERS}
    return status, kept, sorted(headers), parsed


def _run(direct: bool) -> list[Any]:
    with mock_aws():
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        front = Front(DomainDispatcherApplication(create_backend_app), direct=direct)
        client = _clients(front)
        made = {
            service: client(service)
            for service in ("dynamodb", "dynamodbstreams", "kinesis", "sqs", "logs")
        }
        for service, operation, arguments in _calls():
            with contextlib.suppress(ClientError):
                getattr(made[service], operation)(**arguments)
        wsgi = Client(front)
        for target, body in (
            ("DynamoDB_20120810.NoSuchOperation", b"{}"),
            ("DynamoDB_20120810.GetItem", b"{not json"),
            ("Kinesis_20131202.ListStreams", b""),
        ):
            answer = wsgi.post(
                "/",
                headers={
                    "X-Amz-Target": target,
                    "Content-Type": "application/x-amz-json-1.0",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/"
                    "us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
                },
                data=body,
            )
            made["dynamodb"].seen.append(
                (
                    answer.status_code,
                    {k.lower(): v for k, v in answer.headers.items()},
                    answer.get_data(),
                )
            )
        return [_comparable(*answer) for answer in made["dynamodb"].seen]


def test_direct_answers_are_the_flask_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.cloud import front

    flask_calls: list[object] = []
    through_wsgi = front._through_wsgi

    def counted(app: Any, environ: dict[str, Any]) -> Any:
        flask_calls.append(app)
        return through_wsgi(app, environ)

    monkeypatch.setattr(front, "_through_wsgi", counted)
    through_flask = _run(direct=False)
    assert len(flask_calls) == len(through_flask)
    direct = _run(direct=True)
    assert len(flask_calls) == len(through_flask)  # none of them went through Flask
    assert len(direct) == len(through_flask) > 20
    for number, (one, other) in enumerate(zip(direct, through_flask, strict=True)):
        assert one == other, f"request {number} differs"


def test_the_comparison_covers_errors_and_successes() -> None:
    statuses = [answer[0] for answer in _run(direct=True)]
    assert statuses.count(200) > 15
    assert {400, 500} <= set(statuses)
