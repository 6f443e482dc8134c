"""S3 presigned URLs in the older form (``AWSAccessKeyId``, ``Signature``, ``Expires``).

boto3's ``generate_presigned_url`` for S3 still gives these by default; botocore's
``HmacV1QueryAuth`` builds the string to sign and signs it, here as when it was made.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult

from botocore.auth import HmacV1QueryAuth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import ReadOnlyCredentials

from .auth_host import LOCAL_NAMES, host_name
from .auth_keys import Credentials
from .auth_sigv4 import AuthFailure, KeyLookup, Signed, Verified, split_query


def is_v2_presigned(raw_query: str) -> bool:
    return "AWSAccessKeyId=" in raw_query and "Signature=" in raw_query


class _Checker(HmacV1QueryAuth):  # type: ignore[misc]
    def __init__(self, credentials: Any, expires: str) -> None:
        super().__init__(credentials)
        self._expires_at = expires

    def _get_date(self) -> str:
        return self._expires_at


def verify_v2(
    signed: Signed, lookup: KeyLookup, clock: Callable[[], float] = time.time
) -> Verified:
    """The caller of a SigV2-presigned S3 URL, or :class:`AuthFailure`."""
    query = split_query(signed.raw_query)
    fields = dict(query)
    access_key, given, expires = (
        fields.get("AWSAccessKeyId", ""),
        fields.get("Signature", ""),
        fields.get("Expires", ""),
    )
    if not (access_key and given and expires.isdigit()):
        raise AuthFailure("malformed", "A presigned URL needs AWSAccessKeyId, Signature, Expires.")
    credentials = lookup(access_key)
    if credentials is None:
        raise AuthFailure("unknown_key", access_key=access_key)
    token = fields.get("x-amz-security-token")
    if credentials.session_token is not None and not hmac.compare_digest(
        token or "", credentials.session_token
    ):
        raise AuthFailure("bad_token", access_key=access_key)
    if clock() > int(expires):
        raise AuthFailure("expired")
    expected = signature_v2(signed, credentials, expires, fields)
    if not hmac.compare_digest(expected, given):
        raise AuthFailure("bad_signature", access_key=access_key)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
    return Verified(credentials, "s3", "us-east-1", stamp, given)


def signature_v2(
    signed: Signed, credentials: Credentials, expires: str, fields: dict[str, str]
) -> str:
    headers: Any = HTTPHeaders()
    for name in ("content-md5", "content-type"):
        value = fields.get(name, signed.headers.get(name))
        if value is not None:
            headers[name] = value
    for name, value in fields.items():
        if name.lower().startswith("x-amz-"):
            headers[name.lower()] = value
    checker = _Checker(
        ReadOnlyCredentials(credentials.access_key, credentials.secret_key, None), expires
    )
    path = signed.raw_path
    name = host_name(signed.headers.get("host", ""))
    for local in LOCAL_NAMES:
        if name.endswith("." + local):  # virtual-host style: the bucket is in the Host name
            path = f"/{name[: -len(local) - 1]}{path}"
    split = SplitResult(
        "http", signed.headers.get("host", ""), signed.raw_path, signed.raw_query, ""
    )
    text = checker.canonical_string(signed.method, split, headers, auth_path=path)
    signature: str = checker.sign_string(text)
    return signature
