"""Only Host names of this machine are served, and no foreign web origin is answered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from labkit.testing import RunningCloud, local_cloud

from .conftest import error_of, on_before_send, send

TRUSTED = "http://localhost:3000"


def test_a_foreign_host_header_is_refused_with_the_reason(cloud: RunningCloud) -> None:
    """A request for attacker.example (DNS rebinding) gets 403 saying why, even when signed."""
    ddb = cloud.client("dynamodb")

    def rebind(request: Any) -> None:
        request.headers["Host"] = "attacker.example"

    on_before_send(ddb, rebind)
    code, status, message = error_of(lambda: ddb.list_tables())
    assert (code, status) == ("AccessDeniedException", 403)
    assert "attacker.example" in message and "this machine" in message


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_the_names_of_this_machine_are_served(cloud: RunningCloud, host: str) -> None:
    """127.0.0.1, localhost and [::1] (with the port) all reach the cloud."""
    answer = send(cloud, "GET", "/_labkit/health", headers={"Host": f"{host}:{cloud.port}"})
    assert answer.status == 200


def test_s3_virtual_host_names_under_localhost_are_served(cloud: RunningCloud) -> None:
    """bucket.localhost is S3's virtual-host name for a bucket on this machine."""
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    cloud.client("s3").create_bucket(Bucket=bucket)
    cloud.client("s3").put_object(Bucket=bucket, Key="k.txt", Body=b"via vhost")
    host = f"{bucket}.localhost:{cloud.port}"
    request = AWSRequest(method="GET", url=f"http://{host}/k.txt", headers={"Host": host})
    credentials = ReadOnlyCredentials(
        cloud.credentials.access_key, cloud.credentials.secret_key, None
    )
    S3SigV4Auth(credentials, "s3", cloud.region).add_auth(request)
    answer = send(cloud, "GET", "/k.txt", headers=dict(request.headers.items()))
    assert (answer.status, answer.body) == (200, b"via vhost")


def test_a_foreign_origin_is_not_answered(cloud: RunningCloud) -> None:
    """A page of http://evil.example gets 403 and no Access-Control-Allow-Origin."""
    answer = send(cloud, "GET", "/", headers={"Origin": "http://evil.example"})
    assert answer.status == 403
    assert "access-control-allow-origin" not in answer.headers
    assert b"evil.example" in answer.body and b"--cors-origin" in answer.body
    preflight = send(
        cloud,
        "OPTIONS",
        "/",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 403
    assert "access-control-allow-origin" not in preflight.headers


def test_moto_does_not_echo_origins(cloud: RunningCloud) -> None:
    """A signed request without Origin carries no CORS header from moto either."""
    bucket = f"bkt-{uuid.uuid4().hex[:8]}"
    s3 = cloud.client("s3")
    headers: list[dict[str, str]] = []
    s3.meta.events.register(
        "after-call.s3.CreateBucket",
        lambda http_response, **_: headers.append(dict(http_response.headers)),
    )
    s3.create_bucket(Bucket=bucket)
    assert not [name for name in headers[0] if name.lower().startswith("access-control-")]


@pytest.fixture(scope="module")
def cors_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """A cloud started as ``labkit up --cors-origin http://localhost:3000``."""
    with local_cloud(tmp_path_factory.mktemp("cors") / "cloud", cors_origins=(TRUSTED,)) as running:
        yield running


def test_a_named_origin_is_answered(cors_cloud: RunningCloud) -> None:
    """With --cors-origin, that origin's preflight and requests get CORS headers; others not."""
    preflight = send(
        cors_cloud,
        "OPTIONS",
        "/",
        headers={
            "Origin": TRUSTED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-amz-date,x-amz-target",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == TRUSTED
    assert "x-amz-target" in preflight.headers["access-control-allow-headers"]
    ddb = cors_cloud.client("dynamodb")
    seen: list[dict[str, str]] = []
    on_before_send(ddb, lambda request: request.headers.__setitem__("Origin", TRUSTED))
    ddb.meta.events.register(
        "after-call.dynamodb.ListTables",
        lambda http_response, **_: seen.append(
            {k.lower(): v for k, v in http_response.headers.items()}
        ),
    )
    ddb.list_tables()
    assert seen[0]["access-control-allow-origin"] == TRUSTED
    other = send(cors_cloud, "GET", "/", headers={"Origin": "http://localhost:4000"})
    assert other.status == 403


def test_the_health_endpoint_says_nothing_without_a_signature(cloud: RunningCloud) -> None:
    """Unsigned, /_labkit/health names no data directory, pid or port; status is refused."""
    answer = send(cloud, "GET", "/_labkit/health")
    assert json.loads(answer.body) == {"service": "labkit-local-cloud"}
    assert send(cloud, "GET", "/_labkit/status").status == 403
    assert str(Path(cloud.data_dir).name) not in send(cloud, "GET", "/_labkit/status").body.decode()
