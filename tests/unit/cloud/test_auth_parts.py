"""The door's parts: host names, signed aws-chunked bodies, timestamps, and refusal shapes."""

from __future__ import annotations

import hmac
import json
from hashlib import sha256

import pytest

from labkit.cloud.auth_chunked import SIGNED, decode
from labkit.cloud.auth_host import is_local_host
from labkit.cloud.auth_keys import Credentials, role_credentials
from labkit.cloud.auth_replies import Protocol, refusal_reply
from labkit.cloud.auth_sigv4 import AuthFailure, Verified, chunk_key

EMPTY = sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1:4599", True),
        ("localhost", True),
        ("[::1]:4599", True),
        ("my-bucket.localhost:4599", True),
        ("LOCALHOST:1", True),
        ("attacker.example", False),
        ("localhost.attacker.example", False),
        ("127.0.0.1.nip.io", False),
        ("", False),
    ],
)
def test_only_names_of_this_machine_are_local(host: str, local: bool) -> None:
    """127.0.0.1, localhost, [::1] and names under localhost are this machine; others not."""
    assert is_local_host(host) is local


def _signed_chunks(verified: Verified, pieces: list[bytes]) -> bytes:
    """An aws-chunked body whose chunk signatures chain from the seed signature."""
    key, previous, out = chunk_key(verified), verified.signature, b""
    for piece in [*pieces, b""]:
        text = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                verified.timestamp,
                verified.scope,
                previous,
                EMPTY,
                sha256(piece).hexdigest(),
            )
        )
        previous = hmac.new(key, text.encode(), sha256).hexdigest()
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n"
    return out


VERIFIED = Verified(Credentials("LKIA", "secret"), "s3", "us-east-1", "20260101T000000Z", "ab" * 32)


def test_signed_chunks_are_checked_and_decoded() -> None:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body decodes to its content."""
    body = _signed_chunks(VERIFIED, [b"hello ", b"world"])
    assert decode(body, SIGNED, VERIFIED).body == b"hello world"


def test_a_changed_chunk_breaks_its_signature() -> None:
    """Changing one byte of a signed chunk is a signature mismatch."""
    body = _signed_chunks(VERIFIED, [b"hello ", b"world"]).replace(b"world", b"World")
    with pytest.raises(AuthFailure) as refused:
        decode(body, SIGNED, VERIFIED)
    assert refused.value.kind == "bad_signature"


def test_a_cut_chunk_is_malformed() -> None:
    """A chunk shorter than its size is refused, not read past."""
    with pytest.raises(AuthFailure) as refused:
        decode(b"10;chunk-signature=00\r\nshort", SIGNED, VERIFIED)
    assert refused.value.kind == "bad_chunk"


def test_role_credentials_depend_on_the_secret() -> None:
    """A function's temporary credentials cannot be made without the data dir's secret."""
    one = role_credentials("secret-one", "arn:aws:iam::123456789012:role/r", "fn")
    assert one == role_credentials("secret-one", "arn:aws:iam::123456789012:role/r", "fn")
    other = role_credentials("secret-two", "arn:aws:iam::123456789012:role/r", "fn")
    assert one.access_key != other.access_key and one.secret_key != other.secret_key
    assert one.access_key.startswith("ASIA") and one.session_token


def test_refusals_take_each_protocols_shape() -> None:
    """JSON, query-compatible JSON, query and S3 refusals carry the code where boto3 reads it."""
    plain = refusal_reply(Protocol("json"), "unknown_key")
    assert json.loads(plain.body)["__type"].endswith("#UnrecognizedClientException")
    sqs = refusal_reply(Protocol("json", query_compatible=True), "unknown_key")
    assert sqs.headers["x-amzn-query-error"] == "InvalidClientTokenId;Sender"
    assert (
        b"<Code>SignatureDoesNotMatch</Code>"
        in refusal_reply(Protocol("query"), "bad_signature").body
    )
    s3 = refusal_reply(Protocol("rest-xml"), "unknown_key", access_key="LKIAX")
    assert b"<Code>InvalidAccessKeyId</Code>" in s3.body and b"LKIAX" in s3.body
