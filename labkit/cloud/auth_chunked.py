"""S3 uploads in ``aws-chunked`` encoding: decoded, and their chunk signatures checked.

The seed signature (the request's own) covers the headers; each chunk of a
``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` body carries a signature chained from the previous one,
and ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (what boto3 sends over TLS) has none. The cloud
hands moto the decoded body with the trailing checksum as a header.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from hashlib import sha256

from botocore.auth import EMPTY_SHA256_HASH

from .auth_sigv4 import AuthFailure, Verified, chunk_key

UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING = (UNSIGNED_TRAILER, SIGNED, SIGNED_TRAILER)


@dataclass(frozen=True)
class Decoded:
    body: bytes
    trailers: dict[str, str]


def _malformed(why: str) -> AuthFailure:
    return AuthFailure("bad_chunk", why)


def decode(body: bytes, mode: str, verified: Verified) -> Decoded:
    """The upload's content; :class:`AuthFailure` if the encoding or a signature is wrong."""
    signed = mode in (SIGNED, SIGNED_TRAILER)
    key = chunk_key(verified) if signed else b""
    previous = verified.signature
    pieces: list[bytes] = []
    at = 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            raise _malformed("A chunk header is missing its line end.")
        header = body[at:end].decode("latin-1")
        size_text, _, extension = header.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _malformed(f"{size_text[:20]!r} is not a chunk size.") from None
        data = body[end + 2 : end + 2 + size]
        if len(data) != size or (size and body[end + 2 + size : end + 4 + size] != b"\r\n"):
            raise _malformed("A chunk is shorter than its declared size.")
        if signed:
            name, _, given = extension.partition("=")
            if name.strip() != "chunk-signature" or not given:
                raise AuthFailure("bad_signature", "A chunk has no chunk-signature.")
            text = "\n".join(
                (
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    verified.timestamp,
                    verified.scope,
                    previous,
                    EMPTY_SHA256_HASH,
                    sha256(data).hexdigest(),
                )
            )
            expected = hmac.new(key, text.encode(), sha256).hexdigest()
            if not hmac.compare_digest(expected, given.strip()):
                raise AuthFailure("bad_signature", "A chunk's signature does not match.")
            previous = expected
        pieces.append(data)
        at = end + 2 + size + (2 if size else 0)
        if size == 0:
            break
    trailers = _trailers(body[at:], mode, verified, key, previous)
    return Decoded(b"".join(pieces), trailers)


def _trailers(
    rest: bytes, mode: str, verified: Verified, key: bytes, previous: str
) -> dict[str, str]:
    found: dict[str, str] = {}
    signature = None
    canonical = ""
    for line in rest.decode("latin-1").split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _malformed(f"{line[:40]!r} is not a trailing header.")
        name = name.strip().lower()
        if name == "x-amz-trailer-signature":
            signature = value.strip()
        else:
            found[name] = value.strip()
            canonical += f"{name}:{value.strip()}\n"
    if mode == SIGNED_TRAILER:
        text = "\n".join(
            (
                "AWS4-HMAC-SHA256-TRAILER",
                verified.timestamp,
                verified.scope,
                previous,
                sha256(canonical.encode()).hexdigest(),
            )
        )
        expected = hmac.new(key, text.encode(), sha256).hexdigest()
        if signature is None or not hmac.compare_digest(expected, signature):
            raise AuthFailure("bad_signature", "The trailer's signature does not match.")
    return found
