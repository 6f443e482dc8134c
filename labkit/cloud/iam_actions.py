"""Which IAM actions on which resources an AWS request needs, as AWS authorises it.

Only requests signed with a function role's credentials are checked; the learner's own
session is an administrator. Services without a mapping here are checked as
``service:Operation`` on ``*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from .awsrequest import AwsRequest
from .settings import ACCOUNT_ID


@dataclass(frozen=True)
class Needed:
    """One permission a request needs."""

    action: str
    resource: str


TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
BATCH_WRITE_ACTIONS = {"PutRequest": "PutItem", "DeleteRequest": "DeleteItem"}


def _table_arn(region: str, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"


def _dynamodb(region: str, operation: str, body: dict[str, Any]) -> list[Needed]:
    if operation == "TransactWriteItems":
        needed = []
        for entry in body.get("TransactItems", []):
            for kind, op in entry.items():
                action = TRANSACT_ACTIONS.get(kind, kind)
                needed.append(Needed(f"dynamodb:{action}", _table_arn(region, op["TableName"])))
        return needed
    if operation == "TransactGetItems":
        return [
            Needed("dynamodb:GetItem", _table_arn(region, op["TableName"]))
            for entry in body.get("TransactItems", [])
            for op in entry.values()
        ]
    if operation in {"BatchWriteItem", "BatchGetItem"}:
        return [
            Needed(f"dynamodb:{operation}", _table_arn(region, table))
            for table in body.get("RequestItems", {})
        ]
    table = body.get("TableName") or body.get("TableArn") or body.get("ResourceArn")
    if not table:
        return [Needed(f"dynamodb:{operation}", "*")]
    arn = _table_arn(region, table)
    if body.get("IndexName") and operation in {"Query", "Scan"}:
        arn = f"{arn}/index/{body['IndexName']}"
    return [Needed(f"dynamodb:{operation}", arn)]


def _dynamodb_streams(operation: str, body: dict[str, Any]) -> list[Needed]:
    arn = body.get("StreamArn")
    if operation == "GetRecords":
        # The local cloud's iterators begin with the stream ARN, up to the first "|".
        arn = str(body.get("ShardIterator", "")).split("|", 1)[0] or None
    return [Needed(f"dynamodb:{operation}", arn or "*")]


def _kinesis(region: str, operation: str, body: dict[str, Any]) -> list[Needed]:
    arn = body.get("StreamARN")
    if not arn and body.get("StreamName"):
        arn = f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{body['StreamName']}"
    return [Needed(f"kinesis:{operation}", arn or "*")]


def _sqs(region: str, operation: str, body: dict[str, Any]) -> list[Needed]:
    name = body.get("QueueName")
    if body.get("QueueUrl"):
        name = urlparse(body["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]
    arn = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}" if name else "*"
    return [Needed(f"sqs:{operation}", arn)]


def _sns(region: str, form: dict[str, str]) -> list[Needed]:
    operation = form.get("Action", "")
    arn = form.get("TopicArn") or form.get("TargetArn")
    if not arn and form.get("Name") and operation == "CreateTopic":
        arn = f"arn:aws:sns:{region}:{ACCOUNT_ID}:{form['Name']}"
    return [Needed(f"sns:{operation}", arn or "*")]


def _logs(region: str, operation: str, body: dict[str, Any]) -> list[Needed]:
    group = body.get("logGroupName")
    if not group:
        return [Needed(f"logs:{operation}", "*")]
    arn = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}"
    stream = body.get("logStreamName")
    if stream and operation in {"PutLogEvents", "GetLogEvents"}:
        arn = f"{arn}:log-stream:{stream}"
    elif operation == "CreateLogStream":
        arn = f"{arn}:log-stream:{stream or '*'}"
    else:
        arn = f"{arn}:*"
    return [Needed(f"logs:{operation}", arn)]


def _s3(request: AwsRequest) -> list[Needed]:
    parts = [unquote(p) for p in request.path.lstrip("/").split("/", 1) if p]
    method = request.method
    if not parts:
        return [Needed("s3:ListAllMyBuckets", "*")]
    bucket = parts[0]
    if len(parts) == 1:
        action = {
            "GET": "ListBucket",
            "HEAD": "ListBucket",
            "PUT": "CreateBucket",
            "DELETE": "DeleteBucket",
        }.get(method, "ListBucket")
        if "notification" in request.query:
            action = "PutBucketNotification" if method == "PUT" else "GetBucketNotification"
        return [Needed(f"s3:{action}", f"arn:aws:s3:::{bucket}")]
    action = {
        "GET": "GetObject",
        "HEAD": "GetObject",
        "PUT": "PutObject",
        "POST": "PutObject",
        "DELETE": "DeleteObject",
    }.get(method, "GetObject")
    if action == "GetObject" and "versionId" in request.query:
        action = "GetObjectVersion"
    return [Needed(f"s3:{action}", f"arn:aws:s3:::{bucket}/{parts[1]}")]


_INVOKE_PATH = re.compile(r"/20\d\d-\d\d-\d\d/functions/(?P<name>[^/]+)/invocations/?")


def _lambda(region: str, request: AwsRequest) -> list[Needed]:
    invoked = _INVOKE_PATH.fullmatch(request.path)
    if invoked:
        name = unquote(invoked.group("name"))
        arn = (
            name
            if name.startswith("arn:")
            else (f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}")
        )
        return [Needed("lambda:InvokeFunction", arn)]
    return [Needed(f"lambda:{request.method.title()}", "*")]


#: Actions AWS allows every identity regardless of its policies.
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


def needed_permissions(request: AwsRequest) -> list[Needed]:
    """The (action, resource) pairs AWS would authorise for this request."""
    region = request.region or "us-east-1"
    service = request.service or ""
    operation = request.target or ""
    if service == "dynamodb" and (request.header("x-amz-target") or "").startswith(
        "DynamoDBStreams"
    ):
        return _dynamodb_streams(operation, request.json())
    if service == "dynamodb":
        return _dynamodb(region, operation, request.json())
    if service == "kinesis":
        return _kinesis(region, operation, request.json())
    if service == "sqs" and operation:
        return _sqs(region, operation, request.json())
    if service == "sns":
        return _sns(region, request.form)
    if service == "logs":
        return _logs(region, operation, request.json())
    if service == "s3":
        return _s3(request)
    if service == "lambda":
        return _lambda(region, request)
    action = operation or request.form.get("Action") or request.method.lower()
    if f"{service}:{action}" in ALWAYS_ALLOWED:
        return []
    return [Needed(f"{service}:{action}", "*")]
