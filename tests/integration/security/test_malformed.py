"""Bad input never takes the cloud down: every malformed request gets a 4xx in its service's
error shape, and the cloud keeps serving."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.cloud.auth_limits import INVOKE_LIMIT
from labkit.testing import RunningCloud

from .conftest import error_of

JSON_TARGETS = {
    "dynamodb": [
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.TransactWriteItems",
        "DynamoDB_20120810.UpdateItem",
        "DynamoDB_20120810.NoSuchOperation",
        "NotAService.ListTables",
    ],
    "kinesis": ["Kinesis_20131202.PutRecords", "Kinesis_20131202.Nope"],
    "logs": ["Logs_20140328.PutLogEvents"],
    "sqs": ["AmazonSQS.SendMessage", "AmazonSQS.ReceiveMessage"],
}
QUERY_SERVICES = ["iam", "sts", "sns"]


@dataclass
class Raw:
    """A request as bytes on the wire: what the shape check expects back, and the bytes."""

    protocol: str  # json | query | rest-json | rest-xml
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    send_bytes: int | None = None  # send only this many bytes of the body, then stop
    extra: dict[str, str] = field(default_factory=dict)


def _signed(
    cloud: RunningCloud, service: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> dict[str, str]:
    url = f"http://127.0.0.1:{cloud.port}{path}"
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    keys = ReadOnlyCredentials(cloud.credentials.access_key, cloud.credentials.secret_key, None)
    (S3SigV4Auth if service == "s3" else SigV4Auth)(keys, service, cloud.region).add_auth(request)
    return dict(request.headers.items())


junk = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.sampled_from([b"{", b'{"TableName": ', b"[1, 2]", b'"text"', b"null", b"{]", b"\xff\xfe"]),
)
bad_xml = st.one_of(
    st.sampled_from([b"<", b"<Tagging><TagSet>", b"<a></b>", b"not xml", b"<?xml?>"]),
    st.binary(min_size=1, max_size=200).filter(lambda b: not b.strip().startswith(b"<")),
)
garbled_authorization = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
    st.sampled_from(
        [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=x",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=LKIA/20200101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=zz",
            "AWS AKIA:c2lnbmF0dXJl",
            "Bearer token",
        ]
    ),
)


@st.composite
def malformed(draw: st.DrawFn, cloud: RunningCloud) -> Raw:
    kind = draw(
        st.sampled_from(
            [
                "json",
                "query",
                "lambda",
                "invoke",
                "s3-xml",
                "garbled-auth",
                "truncated",
                "oversized",
            ]
        )
    )
    if kind in ("json", "garbled-auth", "truncated", "oversized"):
        service = draw(st.sampled_from(sorted(JSON_TARGETS)))
        # Any target a client could send: printable, since HTTP allows nothing else in a header.
        printable = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)
        target = draw(st.sampled_from(JSON_TARGETS[service]) | printable)
        headers = {"X-Amz-Target": target or "x", "Content-Type": "application/x-amz-json-1.0"}
        body = draw(junk)
        signed = _signed(cloud, service, "POST", "/", headers, body)
        if kind == "garbled-auth":
            if draw(st.booleans()):
                signed["Authorization"] = draw(garbled_authorization)
            else:
                signed.pop("Authorization")
        raw = Raw("json", "POST", "/", signed, body)
        if kind == "truncated":
            whole = json.dumps({"TableName": "t", "Item": {"id": {"S": "x" * 50}}}).encode()
            raw.headers = _signed(cloud, service, "POST", "/", headers, whole)
            raw.body = whole
            raw.send_bytes = draw(st.integers(0, len(whole) - 1))
        if kind == "oversized":
            raw.headers["Content-Length"] = str(draw(st.integers(17 * 2**20, 2**40)))
            raw.send_bytes = 0
        return raw
    if kind == "query":
        service = draw(st.sampled_from(QUERY_SERVICES))
        action = draw(
            st.sampled_from(["CreateRole", "Publish", "NoSuchAction", ""]) | st.text(max_size=20)
        )
        body = f"Action={action}&".encode() + draw(junk)
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        return Raw("query", "POST", "/", _signed(cloud, service, "POST", "/", headers, body), body)
    if kind == "lambda":
        path = draw(
            st.sampled_from(
                [
                    "/2015-03-31/functions",
                    "/2015-03-31/functions/nope/configuration",
                    "/2015-03-31/event-source-mappings/",
                ]
            )
        )
        method = "PUT" if path.endswith("configuration") else "POST"
        body = draw(junk.filter(lambda b: b.strip() != b""))
        headers = {"Content-Type": "application/json"}
        return Raw(
            "rest-json", method, path, _signed(cloud, "lambda", method, path, headers, body), body
        )
    if kind == "invoke":
        path = "/2015-03-31/functions/no-such-function/invocations"
        body = draw(junk)
        return Raw(
            "rest-json", "POST", path, _signed(cloud, "lambda", "POST", path, {}, body), body
        )
    subresource = draw(st.sampled_from(["notification", "tagging", "cors", "versioning", "delete"]))
    method = "POST" if subresource == "delete" else "PUT"
    path = f"/malformed-bucket?{subresource}="
    body = draw(bad_xml)
    return Raw("rest-xml", method, path, _signed(cloud, "s3", method, path, {}, body), body)


def _exchange(cloud: RunningCloud, raw: Raw) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=30) as connection:
        headers = {"Host": f"127.0.0.1:{cloud.port}", **raw.headers}
        headers.setdefault("Content-Length", str(len(raw.body)))
        head = (
            f"{raw.method} {raw.path} HTTP/1.1\r\n"
            + "".join(
                f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() != "host"
            )
            + f"Host: {headers['Host']}\r\nConnection: close\r\n\r\n"
        )
        sent = raw.body if raw.send_bytes is None else raw.body[: raw.send_bytes]
        connection.sendall(head.encode("latin-1", "replace") + sent)
        if raw.send_bytes is not None:
            connection.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    found = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return status, found, body


def _has_error_shape(protocol: str, headers: dict[str, str], body: bytes) -> bool:
    if protocol == "json":
        document = json.loads(body)
        return "__type" in document or "x-amzn-errortype" in headers
    if protocol == "rest-json":
        return "x-amzn-errortype" in headers
    if protocol == "query":
        return b"<Code>" in body
    return b"<Error>" in body and b"<Code>" in body


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_requests_get_4xx_in_their_services_shape(
    cloud: RunningCloud, data: st.DataObject
) -> None:
    """Truncated, oversized, bad JSON/XML, garbled or missing Authorization, unknown targets."""
    raw = data.draw(malformed(cloud))
    status, headers, body = _exchange(cloud, raw)
    assert 400 <= status < 500, (status, body[:300])
    assert _has_error_shape(raw.protocol, headers, body), (raw.protocol, headers, body[:300])
    assert cloud.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_an_invoke_payload_over_6_mb_is_refused(cloud: RunningCloud) -> None:
    """Invoke refuses a payload over 6 MB as AWS does, and the cloud goes on serving."""
    payload = json.dumps({"data": "x" * INVOKE_LIMIT}).encode()
    code, status, message = error_of(
        lambda: cloud.client("lambda").invoke(FunctionName="any", Payload=payload)
    )
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert "6291456 bytes" in message
    assert cloud.client("lambda").list_functions()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_cloud_error_names_what_is_wrong(cloud: RunningCloud) -> None:
    """Bad JSON to DynamoDB is a SerializationException a learner can read."""
    ddb = cloud.client("dynamodb")

    def break_body(request: object, **_: object) -> None:
        setattr(request, "data", b"{not json")  # noqa: B010

    ddb.meta.events.register_first("before-sign.dynamodb.ListTables", break_body)
    try:
        ddb.list_tables()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "SerializationException"
        assert "not valid JSON" in error.response["Error"]["Message"]
    else:
        raise AssertionError("bad JSON was accepted")
