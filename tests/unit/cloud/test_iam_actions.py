"""Which IAM permissions the local cloud asks of a request signed by a function role."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labkit.cloud.awsrequest import AwsRequest
from labkit.cloud.iam_actions import Needed, needed_permissions

REGION = "eu-west-1"
TABLE = f"arn:aws:dynamodb:{REGION}:123456789012:table"


def request(
    service: str,
    *,
    target: str | None = None,
    body: Any = None,
    method: str = "POST",
    path: str = "/",
    form: str = "",
    query: dict[str, list[str]] | None = None,
    target_prefix: str = "DynamoDB_20120810",
) -> AwsRequest:
    headers = {"x-amz-target": f"{target_prefix}.{target}"} if target else {}
    raw = json.dumps(body).encode() if body is not None else form.encode()
    return AwsRequest(method, path, query or {}, headers, raw, service, REGION, "ASIAEXAMPLE")


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (
            request("dynamodb", target="UpdateItem", body={"TableName": "AggregateTable"}),
            [Needed("dynamodb:UpdateItem", f"{TABLE}/AggregateTable")],
        ),
        (
            request("dynamodb", target="Query", body={"TableName": "T", "IndexName": "ByDate"}),
            [Needed("dynamodb:Query", f"{TABLE}/T/index/ByDate")],
        ),
        (
            request(
                "dynamodb",
                target="TransactWriteItems",
                body={
                    "TransactItems": [
                        {"Update": {"TableName": "A"}},
                        {"Put": {"TableName": "B"}},
                        {"Delete": {"TableName": "C"}},
                        {"ConditionCheck": {"TableName": "D"}},
                    ]
                },
            ),
            [
                Needed("dynamodb:UpdateItem", f"{TABLE}/A"),
                Needed("dynamodb:PutItem", f"{TABLE}/B"),
                Needed("dynamodb:DeleteItem", f"{TABLE}/C"),
                Needed("dynamodb:ConditionCheckItem", f"{TABLE}/D"),
            ],
        ),
        (
            request("dynamodb", target="BatchWriteItem", body={"RequestItems": {"X": []}}),
            [Needed("dynamodb:BatchWriteItem", f"{TABLE}/X")],
        ),
        (request("dynamodb", target="ListTables", body={}), [Needed("dynamodb:ListTables", "*")]),
        (
            request(
                "dynamodb",
                target="GetRecords",
                target_prefix="DynamoDBStreams_20120810",
                body={"ShardIterator": f"{TABLE}/R/stream/2026|1|abc"},
            ),
            [Needed("dynamodb:GetRecords", f"{TABLE}/R/stream/2026")],
        ),
        (
            request(
                "dynamodb",
                target="DescribeStream",
                target_prefix="DynamoDBStreams_20120810",
                body={"StreamArn": f"{TABLE}/R/stream/2026"},
            ),
            [Needed("dynamodb:DescribeStream", f"{TABLE}/R/stream/2026")],
        ),
        (
            request(
                "kinesis",
                target="PutRecords",
                target_prefix="Kinesis_20131202",
                body={"StreamName": "IncomingDataStream"},
            ),
            [
                Needed(
                    "kinesis:PutRecords",
                    f"arn:aws:kinesis:{REGION}:123456789012:stream/IncomingDataStream",
                )
            ],
        ),
        (
            request(
                "sqs",
                target="SendMessage",
                target_prefix="AmazonSQS",
                body={"QueueUrl": "http://127.0.0.1:4599/123456789012/dlq"},
            ),
            [Needed("sqs:SendMessage", f"arn:aws:sqs:{REGION}:123456789012:dlq")],
        ),
        (
            request("sns", form="Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At"),
            [Needed("sns:Publish", "arn:aws:sns:eu-west-1:1:t")],
        ),
        (
            request(
                "logs",
                target="PutLogEvents",
                target_prefix="Logs_20140328",
                body={"logGroupName": "/aws/lambda/F", "logStreamName": "s"},
            ),
            [
                Needed(
                    "logs:PutLogEvents",
                    f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/lambda/F:log-stream:s",
                )
            ],
        ),
        (
            request("s3", method="GET", path="/bucket/key.csv"),
            [Needed("s3:GetObject", "arn:aws:s3:::bucket/key.csv")],
        ),
        (
            request("s3", method="GET", path="/bucket/key.csv", query={"versionId": ["v1"]}),
            [Needed("s3:GetObjectVersion", "arn:aws:s3:::bucket/key.csv")],
        ),
        (
            request("s3", method="PUT", path="/bucket/key.csv"),
            [Needed("s3:PutObject", "arn:aws:s3:::bucket/key.csv")],
        ),
        (
            request("s3", method="GET", path="/bucket"),
            [Needed("s3:ListBucket", "arn:aws:s3:::bucket")],
        ),
        (
            request("lambda", path="/2015-03-31/functions/Other/invocations"),
            [
                Needed(
                    "lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:123456789012:function:Other"
                )
            ],
        ),
        (request("sts", form="Action=GetCallerIdentity"), []),
    ],
    ids=[
        "update-item",
        "query-index",
        "transaction-items",
        "batch-write",
        "list-tables",
        "stream-records-from-iterator",
        "describe-stream",
        "kinesis-put",
        "sqs-send",
        "sns-publish",
        "logs-put",
        "s3-get",
        "s3-get-version",
        "s3-put",
        "s3-list",
        "lambda-invoke",
        "caller-identity",
    ],
)
def test_request_maps_to_aws_permissions(built: AwsRequest, expected: list[Needed]) -> None:
    """Each request needs the IAM action and resource AWS would authorise it against."""
    assert needed_permissions(built) == expected
