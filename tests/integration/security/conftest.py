"""Helpers for sending requests the way attackers and careless clients would."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from labkit.testing import RunningCloud

#: Made-up credentials, as a new user might try them.
STRANGER = {"aws_access_key_id": "anything", "aws_secret_access_key": "whatever"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(
    cloud: RunningCloud,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    """One raw HTTP request to the cloud (Host and all other headers exactly as given)."""
    connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        given = dict(headers or {})
        given.setdefault("Host", f"127.0.0.1:{cloud.port}")
        if body or method in ("POST", "PUT"):
            given.setdefault("Content-Length", str(len(body)))
        for name, value in given.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the ClientError that ``call`` raises."""
    try:
        call()
    except ClientError as error:
        found = error.response["Error"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return str(found.get("Code")), int(status), str(found.get("Message"))
    raise AssertionError("the request was not refused")


def on_before_send(client: Any, change: Callable[[Any], None]) -> Any:
    """Change each request of ``client`` after it is signed, just before it is sent."""

    def hook(request: Any, **_: Any) -> None:
        change(request)

    client.meta.events.register_first("before-send", hook)
    return client


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
