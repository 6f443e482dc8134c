"""Pointing plain boto3 in this process at the local cloud."""

from __future__ import annotations

import os

from .auth_keys import Credentials
from .settings import DEFAULT_REGION

#: Variables that would send boto3 elsewhere or sign with real credentials.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")


def boto3_environment(
    endpoint: str, credentials: Credentials, region: str = DEFAULT_REGION
) -> dict[str, str]:
    """The variables that send plain boto3 (and the aws CLI) to the local cloud."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def cleared_variables() -> tuple[str, ...]:
    """The variables to unset, so nothing sends boto3 elsewhere or adds a foreign token."""
    return _CLEARED


def point_boto3_at(endpoint: str, credentials: Credentials, region: str = DEFAULT_REGION) -> None:
    """Set endpoint, the cloud's learner credentials and region in this process, so
    ``boto3.client("dynamodb")`` just works."""
    for name in _CLEARED:
        os.environ.pop(name, None)
    os.environ.update(boto3_environment(endpoint, credentials, region))
    _forget_cached_boto3_session()


def _forget_cached_boto3_session() -> None:
    import boto3

    boto3.DEFAULT_SESSION = None
