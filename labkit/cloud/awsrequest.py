"""Reading what an AWS API request is: service, region, caller, operation and body."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class AwsRequest:
    """A request as the front sees it, with the body already read."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    service: str | None
    region: str | None
    access_key: str | None
    #: True once the front verified the request's signature (see ``cloud.auth``).
    signed: bool = False
    _json: Any = field(default=None, repr=False)

    @property
    def target(self) -> str | None:
        """The operation name of a JSON-protocol request (``X-Amz-Target``), without prefix."""
        raw = self.headers.get("x-amz-target")
        return raw.split(".", 1)[1] if raw and "." in raw else raw

    @property
    def form(self) -> dict[str, str]:
        """Query-protocol parameters (SNS, IAM, STS): the body and the URL merged."""
        merged = {k: v[0] for k, v in self.query.items()}
        if self.body and b"=" in self.body and not self.body.lstrip().startswith(b"{"):
            merged.update(
                {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
            )
        return merged

    def json(self) -> Any:
        """The body parsed as JSON (``{}`` for an empty body)."""
        if self._json is None:
            self._json = json.loads(self.body) if self.body.strip() else {}
        return self._json

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def parse_credential(authorization: str | None) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from a SigV4 ``Authorization`` header."""
    if not authorization:
        return None, None, None
    found = _CREDENTIAL.search(authorization)
    if not found:
        return None, None, None
    return found.group(1), found.group(2), found.group(3)


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """A WSGI request's headers, by lower-case name."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = str(environ["CONTENT_LENGTH"])
    return headers


def from_environ(
    environ: dict[str, Any], body: bytes, headers: dict[str, str] | None = None
) -> AwsRequest:
    if headers is None:
        headers = request_headers(environ)
    access_key, region, service = parse_credential(headers.get("authorization"))
    return AwsRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=str(environ.get("PATH_INFO", "/")),
        query=parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True),
        headers=headers,
        body=body,
        service=service,
        region=region,
        access_key=access_key,
    )
