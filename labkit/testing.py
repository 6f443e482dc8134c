"""Helpers for testing against the local cloud: ports, zips, clients and a cloud per test."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .cloud import control
from .cloud.auth_keys import Credentials, learner_credentials
from .cloud.control import free_port as free_port
from .cloud.settings import DEFAULT_REGION

if TYPE_CHECKING:
    from .lab.names import LabSettings
    from .lab.workshop import Workshop


def policy_document(*statements: Mapping[str, Any]) -> str:
    """An IAM policy document (JSON text) with these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


#: The trust policy that lets Lambda assume a role.
LAMBDA_TRUST_POLICY = policy_document(
    {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)
#: A policy that allows everything, for roles whose permissions a test does not study.
ALLOW_ALL_POLICY = policy_document({"Effect": "Allow", "Action": "*", "Resource": "*"})


def make_zip(files: Mapping[str, str | bytes]) -> bytes:
    """A deployment package: file name -> source (dedented) or bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = textwrap.dedent(content).encode() if isinstance(content, str) else content
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class RunningCloud:
    """A local cloud started for a test, with a client factory that talks to it."""

    endpoint: str
    port: int
    pid: int
    data_dir: Path
    region: str = DEFAULT_REGION

    @functools.cached_property
    def credentials(self) -> Credentials:
        """The learner credentials of this cloud's data directory (its administrator)."""
        return learner_credentials(self.data_dir)

    def client(self, service: str, **kwargs: Any) -> Any:
        import boto3
        from botocore.config import Config

        make_client: Any = boto3.client
        return make_client(
            service,
            endpoint_url=self.endpoint,
            region_name=kwargs.pop("region_name", self.region),
            aws_access_key_id=kwargs.pop("aws_access_key_id", self.credentials.access_key),
            aws_secret_access_key=kwargs.pop("aws_secret_access_key", self.credentials.secret_key),
            config=kwargs.pop("config", Config(retries={"max_attempts": 0}, read_timeout=120)),
            **kwargs,
        )

    def create_role(self, document: str = ALLOW_ALL_POLICY, name: str | None = None) -> str:
        """A Lambda execution role with one inline policy; returns its ARN."""
        role_name = name or f"role-{uuid.uuid4().hex[:8]}"
        iam = self.client("iam")
        arn: str = iam.create_role(
            RoleName=role_name, AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY
        )["Role"]["Arn"]
        iam.put_role_policy(RoleName=role_name, PolicyName="main", PolicyDocument=document)
        return arn

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until every mapping caught up and no invocation runs; AssertionError if not."""
        try:
            control.wait_idle(self.endpoint, timeout, credentials=self.credentials)
        except control.IdleTimeout as busy:
            raise AssertionError(str(busy)) from None

    def status(self) -> dict[str, Any]:
        """The cloud's status document (functions, mappings), as ``labkit status`` reads it."""
        document = control.cloud_status(self.endpoint, self.credentials)
        if document is None:
            raise AssertionError(f"The local cloud at {self.endpoint} did not answer.")
        return document

    def workshop(
        self,
        *,
        backend: Literal["local", "aws"] = "local",
        settings: LabSettings | None = None,
        data_dir: Path | None = None,
    ) -> Workshop:
        """The lab on this cloud, driven as a learner's ``Lab`` drives it: the learner's
        credentials, quiet progress, and the scoreboard waiting with ``control.wait_idle``."""
        import boto3

        from .lab.progress import SilentProgress
        from .lab.workshop import Workshop

        session = boto3.session.Session(
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            region_name=self.region,
        )
        return Workshop(
            region=self.region,
            data_dir=data_dir or self.data_dir,
            backend=backend,
            endpoint_url=self.endpoint,
            session=session,
            settings=settings,
            wait_idle=functools.partial(
                control.wait_idle, self.endpoint, credentials=self.credentials
            ),
            progress=SilentProgress(),
        )

    def stop(self) -> None:
        control.stop(self.data_dir)

    def restart(self) -> None:
        control.stop(self.data_dir)
        info = control.start(self.port, self.data_dir)
        self.pid = info.pid


@contextlib.contextmanager
def local_cloud(
    data_dir: Path, port: int | None = None, *, cors_origins: tuple[str, ...] = ()
) -> Iterator[RunningCloud]:
    """Start a local cloud on a free port for the duration of the block."""
    info = control.start(port or free_port(), data_dir, cors_origins=cors_origins)
    cloud = RunningCloud(info.endpoint, info.port, info.pid, info.data_dir)
    try:
        yield cloud
    finally:
        with contextlib.suppress(control.CloudError):
            control.stop(cloud.data_dir)
