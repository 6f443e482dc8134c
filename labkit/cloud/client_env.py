"""Pointing plain boto3 in this process at the local cloud."""

from __future__ import annotations

import os

from .settings import DEFAULT_REGION, LEARNER_ACCESS_KEY, LEARNER_SECRET_KEY

#: Variables that would send boto3 elsewhere or sign with real credentials.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")


def point_boto3_at(endpoint: str, region: str = DEFAULT_REGION) -> None:
    """Set endpoint, dummy credentials and region so ``boto3.client("dynamodb")`` just works."""
    for name in _CLEARED:
        os.environ.pop(name, None)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["AWS_ACCESS_KEY_ID"] = LEARNER_ACCESS_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = LEARNER_SECRET_KEY
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region
    _forget_cached_boto3_session()


def _forget_cached_boto3_session() -> None:
    import boto3

    boto3.DEFAULT_SESSION = None
