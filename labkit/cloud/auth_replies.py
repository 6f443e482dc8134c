"""Refusals in each service's own error shape, as AWS answers them.

The shape follows the service's protocol (botocore's service model says which): JSON services
get ``__type``/``message``, query services an ``ErrorResponse`` document, S3 an ``Error``
document, and REST-JSON services (Lambda) an ``x-amzn-ErrorType`` header.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .replies import Reply

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Protocol:
    """How a service speaks: ``json``, ``rest-json``, ``query``, ``ec2`` or ``rest-xml``."""

    name: str
    json_version: str = "1.0"
    query_compatible: bool = False


@dataclass(frozen=True)
class Refusal:
    """One kind of refusal: the code and status per protocol family, and the message."""

    json_code: str
    query_code: str
    s3_code: str
    message: str
    s3_message: str
    json_status: int = 400
    query_status: int = 403
    s3_status: int = 403


REFUSALS: Mapping[str, Refusal] = {
    "missing": Refusal(
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "AccessDenied",
        "Request is missing Authentication Token",
        "Access Denied",
    ),
    "malformed": Refusal(
        "IncompleteSignatureException",
        "IncompleteSignature",
        "AuthorizationHeaderMalformed",
        "The request's signature is incomplete or malformed.",
        "The authorization header is malformed.",
        query_status=400,
        s3_status=400,
    ),
    "unknown_key": Refusal(
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        INVALID_TOKEN,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "bad_token": Refusal(
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidToken",
        INVALID_TOKEN,
        "The provided token is malformed or otherwise invalid.",
        s3_status=400,
    ),
    "bad_signature": Refusal(
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "SignatureDoesNotMatch",
        SIGNATURE_MISMATCH,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "bad_chunk": Refusal(
        "SerializationException",
        "MalformedInput",
        "IncompleteBody",
        "The aws-chunked request body is malformed.",
        "The aws-chunked request body is malformed.",
        query_status=400,
        s3_status=400,
    ),
    "payload_mismatch": Refusal(
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "XAmzContentSHA256Mismatch",
        SIGNATURE_MISMATCH,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        s3_status=400,
    ),
    "bad_digest": Refusal(
        "InvalidRequestException",
        "BadDigest",
        "BadDigest",
        "",
        "",
        query_status=400,
        s3_status=400,
    ),
    "unknown_operation": Refusal(
        "UnknownOperationException",
        "InvalidAction",
        "NotImplemented",
        "",
        "",
        query_status=400,
        s3_status=501,
    ),
    "validation": Refusal(
        "ValidationException",
        "ValidationError",
        "InvalidArgument",
        "",
        "",
        query_status=400,
        s3_status=400,
    ),
    "expired": Refusal(
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "Signature expired: the presigned request's X-Amz-Expires has passed.",
        "Request has expired",
    ),
    "skewed": Refusal(
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "RequestTimeTooSkewed",
        "Signature expired: the request was signed more than 15 minutes away from now.",
        "The difference between the request time and the current time is too large.",
    ),
    "forbidden": Refusal(
        "AccessDeniedException",
        "AccessDenied",
        "AccessDenied",
        "",
        "",
        json_status=403,
    ),
    "too_large": Refusal(
        "RequestEntityTooLargeException",
        "RequestEntityTooLarge",
        "EntityTooLarge",
        "",
        "",
        json_status=413,
        query_status=413,
        s3_status=400,
    ),
    "incomplete": Refusal(
        "SerializationException",
        "IncompleteBody",
        "IncompleteBody",
        "The request body is shorter than its Content-Length.",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        query_status=400,
        s3_status=400,
    ),
    "bad_json": Refusal(
        "SerializationException",
        "MalformedInput",
        "MalformedInput",
        "",
        "",
        query_status=400,
        s3_status=400,
    ),
    "bad_xml": Refusal(
        "SerializationException",
        "MalformedInput",
        "MalformedXML",
        "",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema.",
        query_status=400,
        s3_status=400,
    ),
}
#: REST-JSON services (Lambda) answer refusals of the caller with 403, bad bodies with 400.
_REST_JSON_CODES = {"SerializationException": "InvalidRequestContentException"}


@functools.lru_cache(maxsize=64)
def service_protocol(signing_name: str) -> Protocol | None:
    """The protocol of the service botocore signs as ``signing_name`` (None if unknown)."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    try:
        model = loader.load_service_model(signing_name, "service-2")
    except Exception:
        return None
    metadata = model.get("metadata", {})
    return Protocol(
        str(metadata.get("protocol", "json")),
        str(metadata.get("jsonVersion", "1.0")),
        "awsQueryCompatible" in metadata,
    )


def guess_protocol(
    service: str | None, headers: Mapping[str, str], path: str, query: str
) -> Protocol:
    """The protocol of a request: from its signing service, else from how it looks."""
    known = service_protocol(service) if service else None
    if known is not None:
        return known
    if "x-amz-target" in headers:
        content_type = headers.get("content-type", "")
        return Protocol("json", "1.1" if "1.1" in content_type else "1.0")
    if "Action=" in query or "x-www-form-urlencoded" in headers.get("content-type", ""):
        return Protocol("query")
    if path[:4] == "/20" and path[5:10].count("-") == 2:
        return Protocol("rest-json")
    return Protocol("rest-xml")


def refusal_reply(
    protocol: Protocol,
    kind: str,
    detail: str = "",
    *,
    access_key: str | None = None,
) -> Reply:
    """The reply refusing a request for ``kind`` (a key of :data:`REFUSALS`)."""
    refusal = REFUSALS[kind]
    request_id = str(uuid.uuid4())
    if protocol.name == "rest-xml":
        message = " ".join(part for part in (refusal.s3_message, detail) if part)
        extra = f"<AWSAccessKeyId>{escape(access_key)}</AWSAccessKeyId>" if access_key else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{refusal.s3_code}</Code><Message>{escape(message)}</Message>"
            f"{extra}<RequestId>{request_id}</RequestId></Error>"
        )
        return _reply(refusal.s3_status, body.encode(), "application/xml", kind)
    message = " ".join(part for part in (refusal.message, detail) if part)
    if protocol.name in ("query", "ec2"):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{refusal.query_code}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return _reply(refusal.query_status, body.encode(), "text/xml", kind)
    if protocol.name == "rest-json":
        code = _REST_JSON_CODES.get(refusal.json_code, refusal.json_code)
        status = refusal.json_status if kind in _BODY_KINDS else max(refusal.json_status, 403)
        document = {"Type": "User", "message": message}
        reply = _reply(status, json.dumps(document).encode(), "application/json", kind)
        reply.headers["x-amzn-ErrorType"] = code
        return reply
    code = refusal.query_code if protocol.query_compatible else refusal.json_code
    status = refusal.query_status if protocol.query_compatible else refusal.json_status
    document = {"__type": f"com.amazon.coral.service#{code}", "message": message}
    reply = _reply(
        status,
        json.dumps(document).encode(),
        f"application/x-amz-json-{protocol.json_version}",
        kind,
    )
    reply.headers["x-amzn-ErrorType"] = code
    if protocol.query_compatible:
        reply.headers["x-amzn-query-error"] = f"{code};Sender"
    return reply


_BODY_KINDS = {
    "too_large",
    "incomplete",
    "bad_json",
    "bad_xml",
    "bad_chunk",
    "bad_digest",
    "unknown_operation",
    "validation",
}


def _reply(status: int, body: bytes, content_type: str, kind: str) -> Reply:
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    if kind in ("too_large", "incomplete"):
        # The rest of the body was never read: the connection cannot carry another request.
        headers["Connection"] = "close"
    return Reply(status, body, headers)
