"""Verifying AWS Signature Version 4 with botocore's own signer.

A request is signed in its ``Authorization`` header or in its query string (a presigned URL).
The verifier rebuilds the request as botocore's signer saw it (the signed headers only, the raw
path, the query without its signature) and lets botocore's ``SigV4Auth`` compute the canonical
request, the string to sign and the signature. Derived signing keys are cached per secret,
day, region and service, so a request costs one HMAC of its own.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import hmac
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from hashlib import sha256
from typing import Any
from urllib.parse import unquote

from botocore.auth import EMPTY_SHA256_HASH, SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from .auth_keys import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
#: A header signature older or newer than this is refused, as AWS does.
MAX_SKEW_S = 15 * 60
#: The longest a presigned URL may live (seven days).
MAX_EXPIRES_S = 7 * 24 * 3600

KeyLookup = Callable[[str], Credentials | None]


class AuthFailure(Exception):
    """Why a request is refused: ``kind`` picks the AWS error, ``detail`` may add to it."""

    def __init__(self, kind: str, detail: str = "", *, access_key: str | None = None) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.access_key = access_key


@dataclass(frozen=True)
class Signed:
    """The parts of a request that its signature covers, as they arrived."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case name -> value
    body: bytes


@dataclass(frozen=True)
class Verified:
    """A request whose signature holds: who signed it, for which service and region."""

    credentials: Credentials
    service: str
    region: str
    timestamp: str
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.timestamp[:8]}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class _Parsed:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    token: str | None
    expires: int | None
    query: tuple[tuple[str, str], ...]


class _Checking:
    """Mixed into botocore's signers: the headers to sign are exactly the signed ones, the
    payload hash is what the request declares (or the hash of its body), and signing keys
    come from the cache."""

    def headers_to_sign(self, request: _Request) -> _SignedHeaders:
        return request.signed

    def payload(self, request: _Request) -> str:
        return request.payload_hash

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        owner: Any = self
        key = _signing_key(
            owner.credentials.secret_key,
            request.context["timestamp"][:8],
            owner._region_name,
            owner._service_name,
        )
        return hmac.new(key, string_to_sign.encode(), sha256).hexdigest()


@dataclass
class _Request:
    """What botocore's canonicalisation reads of a request (``AWSRequest`` builds more)."""

    method: str
    url: str
    params: list[tuple[str, str]]
    signed: _SignedHeaders
    payload_hash: str
    headers: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=256)
def _checker(access_key: str, secret_key: str, service: str, region: str) -> Any:
    """botocore's signer for this key, service and region (it keeps no per-request state)."""
    kind = _S3Checker if service == "s3" else _Checker
    return kind(ReadOnlyCredentials(access_key, secret_key, None), service, region)


class _SignedHeaders:
    """The signed headers, by name, in the two ways botocore's canonicalisation reads them
    (a light stand-in for its ``HTTPHeaders``, which costs more than the signature)."""

    def __init__(self, names: tuple[str, ...], headers: Mapping[str, str]) -> None:
        self._values = {name: headers.get(name, "") for name in names}

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def get_all(self, name: str) -> list[str]:
        return [self._values[name]]


class _Checker(_Checking, SigV4Auth):  # type: ignore[misc]
    pass


class _S3Checker(_Checking, S3SigV4Auth):  # type: ignore[misc]
    pass


@functools.lru_cache(maxsize=512)
def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    def step(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), sha256).digest()

    return step(step(step(step(f"AWS4{secret}".encode(), day), region), service), "aws4_request")


def chunk_key(verified: Verified) -> bytes:
    """The signing key of a verified request (for the signatures of its aws-chunked body)."""
    return _signing_key(
        verified.credentials.secret_key,
        verified.timestamp[:8],
        verified.region,
        verified.service,
    )


def split_query(raw_query: str) -> tuple[tuple[str, str], ...]:
    if not raw_query:
        return ()
    pairs = []
    for part in raw_query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return tuple(pairs)


def credential_scope(signed: Signed) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) the request claims, from its header or its query."""
    header = signed.headers.get("authorization", "")
    credential = None
    if header.startswith(ALGORITHM):
        for part in header[len(ALGORITHM) :].split(","):
            name, _, value = part.strip().partition("=")
            if name == "Credential":
                credential = value
    elif "X-Amz-Credential=" in signed.raw_query:
        credential = dict(split_query(signed.raw_query)).get("X-Amz-Credential")
    pieces = (credential or "").split("/")
    if len(pieces) != 5:
        return None, None, None
    return pieces[0] or None, pieces[2] or None, pieces[3] or None


def _timestamp(headers: Mapping[str, str]) -> str:
    amz_date = headers.get("x-amz-date")
    if amz_date:
        return amz_date
    date = headers.get("date")
    if date:
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            raise AuthFailure("malformed", "The Date header is not a date.") from None
        return moment.astimezone(datetime.UTC).strftime(SIGV4_TIMESTAMP)
    raise AuthFailure("malformed", "The request has neither an X-Amz-Date nor a Date header.")


def _parse_header(signed: Signed, authorization: str) -> _Parsed:
    if not authorization.startswith(ALGORITHM + " "):
        raise AuthFailure("malformed", "Only AWS4-HMAC-SHA256 (Signature Version 4) is accepted.")
    fields: dict[str, str] = {}
    for part in authorization[len(ALGORITHM) + 1 :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
    if missing:
        raise AuthFailure(
            "malformed", f"Authorization header requires the {', '.join(missing)} parameter."
        )
    return _parsed(
        fields["Credential"],
        fields["SignedHeaders"],
        fields["Signature"],
        _timestamp(signed.headers),
        signed.headers.get("x-amz-security-token"),
        None,
        split_query(signed.raw_query),
    )


def _parse_query(signed: Signed) -> _Parsed:
    query = split_query(signed.raw_query)
    fields = dict(query)
    if fields.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthFailure("malformed", "Only AWS4-HMAC-SHA256 (Signature Version 4) is accepted.")
    needed = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [n for n in needed if not fields.get(n)]
    if missing:
        raise AuthFailure(
            "malformed", f"Query-string authentication requires {', '.join(missing)}."
        )
    expires_text = fields.get("X-Amz-Expires", "")
    if not expires_text.isdigit() or not 1 <= int(expires_text) <= MAX_EXPIRES_S:
        raise AuthFailure(
            "malformed", f"X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_S}."
        )
    return _parsed(
        fields["X-Amz-Credential"],
        fields["X-Amz-SignedHeaders"],
        fields["X-Amz-Signature"],
        fields["X-Amz-Date"],
        fields.get("X-Amz-Security-Token"),
        int(expires_text),
        tuple(pair for pair in query if pair[0] != "X-Amz-Signature"),
    )


def _parsed(
    credential: str,
    signed_headers: str,
    signature: str,
    timestamp: str,
    token: str | None,
    expires: int | None,
    query: tuple[tuple[str, str], ...],
) -> _Parsed:
    pieces = credential.split("/")
    if len(pieces) != 5 or pieces[4] != "aws4_request" or not all(pieces):
        raise AuthFailure(
            "malformed",
            "The Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request.",
        )
    if len(timestamp) != 16 or pieces[1] != timestamp[:8]:
        raise AuthFailure("malformed", "The credential's date does not match the request's date.")
    return _Parsed(
        pieces[0],
        pieces[1],
        pieces[2],
        pieces[3],
        tuple(name.strip().lower() for name in signed_headers.split(";") if name.strip()),
        signature,
        timestamp,
        token,
        expires,
        query,
    )


def _epoch(timestamp: str) -> float:
    """Seconds since the epoch of a ``20240131T235959Z`` timestamp (strptime is slow)."""
    try:
        if len(timestamp) != 16 or timestamp[8] != "T" or timestamp[15] != "Z":
            raise ValueError
        fields = (
            int(timestamp[0:4]),
            int(timestamp[4:6]),
            int(timestamp[6:8]),
            int(timestamp[9:11]),
            int(timestamp[11:13]),
            int(timestamp[13:15]),
        )
        datetime.datetime(*fields)  # rejects month 13 and the like
    except ValueError:
        raise AuthFailure(
            "malformed", f"{timestamp[:40]!r} is not a date like 20240131T235959Z."
        ) from None
    return float(calendar.timegm((*fields, 0, 0, 0)))


class Verifier:
    """Checks a request's signature against the keys ``lookup`` knows."""

    def __init__(self, lookup: KeyLookup, clock: Callable[[], float] = time.time) -> None:
        self.lookup = lookup
        self.clock = clock

    def verify(self, signed: Signed) -> Verified:
        """The verified caller, or :class:`AuthFailure` saying what is wrong."""
        authorization = signed.headers.get("authorization")
        if authorization:
            parsed = _parse_header(signed, authorization)
        elif "X-Amz-Signature=" in signed.raw_query or "X-Amz-Credential=" in signed.raw_query:
            parsed = _parse_query(signed)
        else:
            raise AuthFailure("missing")
        credentials = self.lookup(parsed.access_key)
        if credentials is None:
            raise AuthFailure("unknown_key", access_key=parsed.access_key)
        if credentials.session_token is not None and not hmac.compare_digest(
            parsed.token or "", credentials.session_token
        ):
            raise AuthFailure("bad_token", access_key=parsed.access_key)
        self._check_time(parsed)
        if "host" not in parsed.signed_headers:
            raise AuthFailure("malformed", "The Host header must be signed.")
        expected = self.signature_of(signed, parsed, credentials)
        if not hmac.compare_digest(expected, parsed.signature):
            raise AuthFailure("bad_signature", access_key=parsed.access_key)
        return Verified(
            credentials,
            parsed.service,
            parsed.region,
            parsed.timestamp,
            parsed.signature,
        )

    def _check_time(self, parsed: _Parsed) -> None:
        signed_at = _epoch(parsed.timestamp)
        now = self.clock()
        if parsed.expires is not None:
            if now > signed_at + parsed.expires:
                raise AuthFailure("expired", parsed.timestamp)
            if signed_at - now > MAX_SKEW_S:
                raise AuthFailure("skewed", parsed.timestamp)
        elif abs(now - signed_at) > MAX_SKEW_S:
            raise AuthFailure("skewed", parsed.timestamp)

    @staticmethod
    def signature_of(signed: Signed, parsed: _Parsed, credentials: Credentials) -> str:
        """The signature botocore's signer gives this request with ``credentials``."""
        s3 = parsed.service == "s3"
        checker = _checker(
            credentials.access_key, credentials.secret_key, parsed.service, parsed.region
        )
        # The declared payload hash if there is one, else what botocore's signer hashed.
        declared = signed.headers.get("x-amz-content-sha256")
        if declared is None and parsed.expires is not None and s3:
            declared = "UNSIGNED-PAYLOAD"
        elif declared is None:
            declared = sha256(signed.body).hexdigest() if signed.body else EMPTY_SHA256_HASH
        request = _Request(
            signed.method,
            "http://" + signed.headers.get("host", "") + signed.raw_path,
            list(parsed.query),
            _SignedHeaders(parsed.signed_headers, signed.headers),
            declared,
            context={"timestamp": parsed.timestamp},
        )
        canonical = checker.canonical_request(request)
        string_to_sign = checker.string_to_sign(request, canonical)
        signature: str = checker.signature(string_to_sign, request)
        return signature
