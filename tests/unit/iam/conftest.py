"""Shared fixtures for the IAM toolkit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parents[2] / "events" / "iam"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
STREAM_LABEL = "2024-05-01T12:00:00.000"


def load_policy(name: str) -> dict[str, Any]:
    """A policy document from tests/events/iam."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@pytest.fixture
def reduce_policy() -> dict[str, Any]:
    """The lab's solution ReduceLambdaPolicy."""
    return load_policy("reduce_lambda_policy.json")
