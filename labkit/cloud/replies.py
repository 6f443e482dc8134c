"""HTTP replies in the shapes boto3 expects from each AWS protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return Reply(status, json.dumps(document).encode(), merged)


def rest_error(code: str, message: str, status: int = 400, **extra: Any) -> Reply:
    """An error of a REST-JSON service such as Lambda."""
    body = {"Type": "User", "message": message, **extra}
    return json_reply(body, status, {"x-amzn-ErrorType": code})


def json_protocol_error(code: str, message: str, status: int = 400, prefix: str = "") -> Reply:
    """An error of a JSON-protocol service such as DynamoDB (``__type`` + ``message``)."""
    return Reply(
        status,
        json.dumps({"__type": f"{prefix}{code}", "message": message}).encode(),
        {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code},
    )


DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def dynamodb_error(code: str, message: str, status: int = 400) -> Reply:
    return json_protocol_error(code, message, status, DYNAMODB_ERROR_PREFIX)
