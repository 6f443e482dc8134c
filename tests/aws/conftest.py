"""The opt-in tier against a real AWS account: ``pytest -m aws``.

Skipped unless real credentials and a region are configured (the usual boto3 chain:
``AWS_PROFILE``, ``aws configure``, environment variables). Every test run uses its own name
prefix and tears everything down afterwards, even when a test fails. It creates DynamoDB
tables, a 2-shard Kinesis stream, IAM roles and policies and Lambda functions for a few
minutes (cents of cost).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from labkit.cloud.auth_keys import LEARNER_KEY_PREFIX
from labkit.lab.names import LabSettings
from labkit.lab.progress import SilentProgress
from labkit.lab.workshop import Workshop

#: Variables that ``labkit.Lab()`` sets to reach the local cloud; they must not leak here.
_LOCAL_ONLY = ("AWS_ENDPOINT_URL",)


def _real_session() -> boto3.session.Session | None:
    key = os.environ.get("AWS_ACCESS_KEY_ID") or ""
    if key == "testing" or key.startswith(LEARNER_KEY_PREFIX):  # the local cloud's, not AWS's
        return None
    session = boto3.session.Session()
    if session.region_name is None or session.get_credentials() is None:
        return None
    return session


@pytest.fixture(scope="session")
def aws_session() -> Iterator[boto3.session.Session]:
    """A boto3 session for a real account, or the test is skipped."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _LOCAL_ONLY:
            patch.delenv(name, raising=False)
        session = _real_session()
        if session is None:
            pytest.skip("no AWS credentials or region configured (the aws tier is opt-in)")
        yield session


@pytest.fixture(scope="session")
def aws_workshop(
    aws_session: boto3.session.Session, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workshop]:
    """The lab on AWS under a prefix of its own; torn down at the end whatever happened."""
    prefix = f"labkit-test-{uuid.uuid4().hex[:6]}-"
    workshop = Workshop(
        region=str(aws_session.region_name),
        data_dir=Path(tmp_path_factory.mktemp("aws")),
        backend="aws",
        session=aws_session,
        settings=LabSettings(prefix=prefix, shard_count=2, state_parallelization=10),
        progress=SilentProgress(),
    )
    try:
        yield workshop
    finally:
        workshop.teardown()
