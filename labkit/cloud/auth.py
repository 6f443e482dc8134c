"""The cloud's door: what a request must be before the front serves it.

In order: addressed to this machine (Host), from no foreign web origin, a body no larger than
its limit and as long as it says, a valid SigV4 signature by a key this cloud issued, and a
body that parses (JSON for the JSON services, XML for S3's configuration documents). Anything
else is refused in the service's own error shape, and the cloud carries on.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qs, quote
from xml.etree import ElementTree

from . import auth_chunked
from .auth_host import (
    LOCAL_NAMES,
    Origins,
    host_name,
    host_refusal_message,
    is_local_host,
    origin_refusal_message,
)
from .auth_limits import body_limit
from .auth_replies import guess_protocol, refusal_reply
from .auth_shapes import json_problem, query_problem
from .auth_sigv2 import is_v2_presigned, verify_v2
from .auth_sigv4 import AuthFailure, KeyLookup, Signed, Verified, Verifier, credential_scope
from .replies import Reply, json_reply

INTERNAL_PREFIX = "/_labkit/"
_INVOKE_PATH = re.compile(r"/functions/[^/]+/(invocations|invoke-async)/?$")
#: The one internal endpoint anyone may ask (it says only that a labkit cloud is here).
OPEN_INTERNAL = "/_labkit/health"
_HEX = frozenset("0123456789abcdef")
#: S3 sub-resources whose request body is an XML document.
_S3_XML_SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "delete",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "tagging",
        "uploadId",
        "versioning",
        "website",
    }
)


@dataclass
class Admitted:
    """A request let in: its (decoded) body and who signed it (None: an open endpoint)."""

    body: bytes
    caller: Verified | None


class Door:
    """Admits or refuses requests; :meth:`finish` adds CORS headers for allowed origins."""

    def __init__(
        self, keys: KeyLookup, origins: Origins, clock: Callable[[], float] = time.time
    ) -> None:
        self.verifier = Verifier(keys, clock)
        self.origins = origins

    def admit(self, environ: dict[str, Any], headers: dict[str, str]) -> Admitted | Reply:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        raw_path, raw_query = _raw_target(environ)
        access_key, _, service = credential_scope(Signed(method, raw_path, raw_query, headers, b""))
        path = str(environ.get("PATH_INFO", "/"))

        def refuse(kind: str, detail: str = "", key: str | None = None) -> Reply:
            protocol = guess_protocol(service, headers, path, raw_query)
            return refusal_reply(protocol, kind, detail, access_key=key)

        host = headers.get("host", "")
        if not is_local_host(host):
            return refuse("forbidden", host_refusal_message(host))
        origin = headers.get("origin")
        if origin is not None and not self.origins.allows(origin):
            return refuse("forbidden", origin_refusal_message(origin))
        if _is_preflight(headers, environ):
            return Reply(200)  # finish() adds the CORS answer

        limit = body_limit(service, method, path)
        body = read_body(environ, limit.size)
        if body is None:
            return refuse("too_large", limit.message())
        if isinstance(body, int):
            return refuse("incomplete", f"({body} bytes arrived.)")

        signed = Signed(method, raw_path, raw_query, headers, body)
        internal = path.startswith(INTERNAL_PREFIX)
        try:
            if "authorization" not in headers and is_v2_presigned(raw_query):
                caller = verify_v2(signed, self.verifier.lookup, self.verifier.clock)
            else:
                caller = self.verifier.verify(signed)
        except AuthFailure as failure:
            if not internal:
                return refuse(failure.kind, failure.detail, failure.access_key or access_key)
            if path == OPEN_INTERNAL:
                return Admitted(body, None)
            message = (
                "Sign requests to /_labkit/ with this cloud's credentials "
                "(labkit does this for you)."
            )
            return json_reply({"message": message}, 403)
        if internal:
            return Admitted(body, caller)
        try:
            body = _payload(environ, headers, body, caller)
        except AuthFailure as failure:
            return refuse(failure.kind, failure.detail)
        problem = _unparsable(caller.service, method, path, raw_query, headers, body)
        if problem is not None:
            return refuse(*problem)
        return Admitted(body, caller)

    def finish(self, environ: dict[str, Any], headers: dict[str, str], reply: Reply) -> Reply:
        """Drop moto's own CORS answers; answer an allowed origin's request with CORS headers."""
        kept = {
            k: v for k, v in reply.headers.items() if not k.lower().startswith("access-control-")
        }
        origin = headers.get("origin")
        if origin is not None and self.origins.allows(origin):
            if _is_preflight(headers, environ):
                kept.update(self.origins.preflight_headers(origin, headers))
            else:
                kept.update(self.origins.response_headers(origin))
        reply.headers = kept
        return reply


def _is_preflight(headers: dict[str, str], environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "OPTIONS"
        and "origin" in headers
        and "access-control-request-method" in headers
    )


def _raw_target(environ: dict[str, Any]) -> tuple[str, str]:
    """The path and query exactly as the client sent them (the signature covers those)."""
    uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if uri:
        path, _, query = str(uri).partition("?")
        if "://" in path:  # an absolute URI (proxy form)
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path, query
    return quote(str(environ.get("PATH_INFO", "/")), safe="/~"), str(
        environ.get("QUERY_STRING", "")
    )


def read_body(environ: dict[str, Any], limit: int) -> bytes | int | None:
    """The body, None if it is over ``limit``, or the byte count if it is short."""
    length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ["wsgi.input"]
    if length_text:
        length = int(length_text) if length_text.isdigit() else -1
        if length < 0:
            return 0
        if length > limit:
            return None
        data = bytes(stream.read(length))
        return data if len(data) == length else len(data)
    if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
        data = bytes(stream.read(limit + 1))
        return None if len(data) > limit else data
    return b""


def _payload(
    environ: dict[str, Any], headers: dict[str, str], body: bytes, caller: Verified
) -> bytes:
    """Check the declared payload hash; decode aws-chunked uploads for moto."""
    declared = headers.get("x-amz-content-sha256")
    if declared in auth_chunked.STREAMING:
        decoded = auth_chunked.decode(body, declared, caller)
        expected = headers.get("x-amz-decoded-content-length")
        if expected is not None and expected.strip() != str(len(decoded.body)):
            raise AuthFailure("bad_chunk", "X-Amz-Decoded-Content-Length does not match.")
        _check_trailing_checksums(decoded)
        _as_plain_upload(environ, headers, decoded)
        return decoded.body
    if declared and len(declared) == 64 and set(declared) <= _HEX:
        if sha256(body).hexdigest() != declared:
            raise AuthFailure("payload_mismatch")
    elif declared and declared != "UNSIGNED-PAYLOAD":
        raise AuthFailure("payload_mismatch", f"{declared[:80]!r} is not a payload hash.")
    return body


def _check_trailing_checksums(decoded: auth_chunked.Decoded) -> None:
    from botocore import httpchecksum

    checksums: dict[str, Any] = getattr(httpchecksum, "_CHECKSUM_CLS", {})

    for name, value in decoded.trailers.items():
        algorithm = name.removeprefix("x-amz-checksum-")
        checksum = checksums.get(algorithm) if name.startswith("x-amz-checksum-") else None
        if checksum is not None and checksum().handle(decoded.body) != value:
            raise AuthFailure(
                "bad_digest",
                f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            )


def _as_plain_upload(
    environ: dict[str, Any], headers: dict[str, str], decoded: auth_chunked.Decoded
) -> None:
    encodings = [
        part.strip()
        for part in environ.get("HTTP_CONTENT_ENCODING", "").split(",")
        if part.strip() and part.strip() != "aws-chunked"
    ]
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ", ".join(encodings)
    else:
        environ.pop("HTTP_CONTENT_ENCODING", None)
    for name in (
        "HTTP_TRANSFER_ENCODING",
        "HTTP_X_AMZ_DECODED_CONTENT_LENGTH",
        "HTTP_X_AMZ_TRAILER",
    ):
        environ.pop(name, None)
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    for name, value in decoded.trailers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
        headers[name] = value


def _unparsable(
    service: str,
    method: str,
    path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[str, str] | None:
    """(refusal kind, detail) for a body its service cannot parse, else None."""
    target = headers.get("x-amz-target")
    lambda_json = service == "lambda" and bool(body) and not _INVOKE_PATH.search(path)
    if target is not None or lambda_json:
        if not body.strip() and target is None:
            return None
        try:
            document = json.loads(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError) as bad:
            return "bad_json", f"The request body is not valid JSON: {bad}"
        if not isinstance(document, dict):
            return "bad_json", "The request body must be a JSON object."
        return json_problem(service, target, document) if target is not None else None
    if method == "POST" and guess_protocol(service, headers, path, raw_query).name == "query":
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        form.update({k: v[0] for k, v in parse_qs(raw_query).items()})
        return query_problem(service, form)
    if (
        service == "s3"
        and body
        and method in ("PUT", "POST")
        and _s3_xml_body(method, path, raw_query, headers)
    ):
        try:
            ElementTree.fromstring(body)
        except ElementTree.ParseError as bad:
            return "bad_xml", f"({bad})"
    return None


def _s3_xml_body(method: str, path: str, raw_query: str, headers: dict[str, str]) -> bool:
    keys = {part.partition("=")[0] for part in raw_query.split("&") if part}
    if "partNumber" in keys or ("uploadId" in keys and method != "POST"):
        return False
    if keys & _S3_XML_SUBRESOURCES and "policy" not in keys:
        return True
    # CreateBucket's configuration: a PUT on the bucket itself (path-style addressing).
    path_style = host_name(headers.get("host", "")) in LOCAL_NAMES
    return path_style and not keys and path.strip("/").count("/") == 0 and bool(path.strip("/"))
