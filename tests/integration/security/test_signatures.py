"""Only requests signed with this cloud's own credentials get in, answered as AWS answers."""

from __future__ import annotations

import datetime
import urllib.error
import urllib.request
import uuid
from typing import Any
from unittest import mock

import pytest
from botocore.config import Config

from labkit.testing import RunningCloud

from .conftest import STRANGER, error_of, on_before_send, path_of, send

UNKNOWN_KEY = "The security token included in the request is invalid."


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException", 400),
        ("kinesis", lambda c: c.list_streams(), "UnrecognizedClientException", 400),
        ("logs", lambda c: c.describe_log_groups(), "UnrecognizedClientException", 400),
        ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException", 403),
        ("iam", lambda c: c.list_roles(), "InvalidClientTokenId", 403),
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
        ("sns", lambda c: c.list_topics(), "InvalidClientTokenId", 403),
        ("sqs", lambda c: c.list_queues(), "InvalidClientTokenId", 403),
        ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId", 403),
    ],
)
def test_an_unknown_key_is_refused_as_aws_refuses_it(
    cloud: RunningCloud, service: str, call: Any, code: str, status: int
) -> None:
    """Made-up credentials get each service's own "unknown key" error."""
    found, got_status, message = error_of(lambda: call(cloud.client(service, **STRANGER)))
    assert (found, got_status) == (code, status)
    if service != "s3":
        assert message == UNKNOWN_KEY


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException"),
        ("lambda", lambda c: c.list_functions(), "InvalidSignatureException"),
        ("iam", lambda c: c.list_roles(), "SignatureDoesNotMatch"),
        ("sqs", lambda c: c.list_queues(), "SignatureDoesNotMatch"),
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_secret_is_a_signature_mismatch(
    cloud: RunningCloud, service: str, call: Any, code: str
) -> None:
    """The learner's key with a wrong secret gets the signature-mismatch error."""
    client = cloud.client(service, aws_secret_access_key="not-the-secret")
    assert error_of(lambda: call(client))[0] == code


def test_a_table_cannot_be_created_with_made_up_credentials(cloud: RunningCloud) -> None:
    """What the issue reproduced (a table created with anything/whatever) no longer works."""
    ddb = cloud.client("dynamodb", **STRANGER)
    name = f"t-{uuid.uuid4().hex[:8]}"
    error_of(
        lambda: ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
    )
    assert name not in cloud.client("dynamodb").list_tables()["TableNames"]


def test_a_body_changed_after_signing_is_refused(cloud: RunningCloud) -> None:
    """A request whose body was tampered with after signing fails its signature."""
    ddb = cloud.client("dynamodb")

    def tamper(request: Any) -> None:
        request.body = request.body.replace(b"ListTables", b"ListTable ").replace(b"{}", b"{ }")

    on_before_send(ddb, tamper)
    assert error_of(lambda: ddb.list_tables())[0] == "InvalidSignatureException"


def test_an_s3_body_changed_after_signing_is_refused(cloud: RunningCloud) -> None:
    """An S3 upload whose body no longer matches its signed hash is refused."""
    s3 = cloud.client("s3")
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)

    def tamper(request: Any) -> None:
        if request.method == "PUT" and hasattr(request.body, "read"):
            request.body = request.body.read().replace(b"honest", b"forged")

    on_before_send(s3, tamper)
    code = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"honest"))[0]
    assert code == "XAmzContentSHA256Mismatch"
    assert "Contents" not in cloud.client("s3").list_objects_v2(Bucket=bucket)


def test_an_unsigned_request_is_refused(cloud: RunningCloud) -> None:
    """No Authorization at all: MissingAuthenticationToken, in the JSON shape."""
    answer = send(
        cloud,
        "POST",
        "/",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
        body=b"{}",
    )
    assert answer.status == 400
    assert b"MissingAuthenticationTokenException" in answer.body


def _bucket_with_object(cloud: RunningCloud) -> tuple[str, str]:
    s3 = cloud.client("s3")
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a b/c.txt", Body=b"secret data")
    return bucket, "a b/c.txt"


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_urls_work_until_they_expire(cloud: RunningCloud, version: str) -> None:
    """A presigned GET (SigV4 or the older form) works; a tampered one does not."""
    bucket, key = _bucket_with_object(cloud)
    s3 = cloud.client("s3", config=Config(signature_version=version))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"secret data"
    forged = url.replace(key.replace(" ", "%20"), "a%20b/other.txt")
    assert send(cloud, "GET", path_of(forged)).status == 403


def test_an_expired_presigned_url_is_refused(cloud: RunningCloud) -> None:
    """A SigV4 presigned URL signed two hours ago for one hour: AccessDenied, expired."""
    bucket, key = _bucket_with_object(cloud)
    s3 = cloud.client("s3", config=Config(signature_version="s3v4"))
    two_hours_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    with mock.patch("botocore.auth.get_current_datetime", return_value=two_hours_ago):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
        )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    assert refused.value.code == 403
    body = refused.value.read()
    assert b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body


def test_an_expired_old_style_presigned_url_is_refused(cloud: RunningCloud) -> None:
    """The older presigned form past its Expires is refused the same way."""
    bucket, key = _bucket_with_object(cloud)
    s3 = cloud.client("s3", config=Config(signature_version="s3"))
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-60
    )
    answer = send(cloud, "GET", path_of(url))
    assert answer.status == 403 and b"Request has expired" in answer.body


def test_a_request_signed_long_ago_is_refused(cloud: RunningCloud) -> None:
    """A header signature from an hour ago cannot be replayed."""
    ddb = cloud.client("dynamodb")
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=an_hour_ago):
        code, _, message = error_of(lambda: ddb.list_tables())
    assert code == "InvalidSignatureException" and "expired" in message


def _force_trailer_checksum(s3: Any) -> None:
    """Make boto3 send PutObject as aws-chunked with a trailing checksum, as it does over TLS."""

    def to_trailer(params: Any, **_: Any) -> None:
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    s3.meta.events.register("before-call.s3.PutObject", to_trailer)


def test_chunked_uploads_with_a_trailing_checksum_work(cloud: RunningCloud) -> None:
    """boto3's aws-chunked upload (STREAMING-UNSIGNED-PAYLOAD-TRAILER) stores the content."""
    s3 = cloud.client("s3")
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    _force_trailer_checksum(s3)
    seen: list[bytes] = []
    on_before_send(s3, lambda request: seen.append(request.headers.get("X-Amz-Content-SHA256")))
    content = b"line\n" * 20_000
    s3.put_object(Bucket=bucket, Key="big.txt", Body=content)
    assert b"STREAMING-UNSIGNED-PAYLOAD-TRAILER" in seen
    assert s3.get_object(Bucket=bucket, Key="big.txt")["Body"].read() == content


def test_a_chunked_upload_with_a_wrong_checksum_is_refused(cloud: RunningCloud) -> None:
    """Changing a chunk of an aws-chunked upload breaks its trailing checksum: BadDigest."""
    s3 = cloud.client("s3")
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    _force_trailer_checksum(s3)

    def tamper(request: Any) -> None:
        if request.method == "PUT" and hasattr(request.body, "read"):
            encoded = request.body.read()
            request.body = encoded.replace(b"honest", b"forged")

    on_before_send(s3, tamper)
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"honest"))[0] == (
        "BadDigest"
    )
