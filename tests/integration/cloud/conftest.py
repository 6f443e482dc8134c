"""Helpers for creating functions in the shared local cloud."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from labkit.testing import ALLOW_ALL_POLICY, RunningCloud, make_zip


@pytest.fixture(scope="session")
def role_arn(cloud: RunningCloud) -> str:
    """An execution role that may do anything."""
    return cloud.create_role(ALLOW_ALL_POLICY, name="labkit-test-admin")


MakeFunction = Callable[..., str]


@pytest.fixture
def make_function(cloud: RunningCloud, role_arn: str) -> MakeFunction:
    """Create a function from sources; returns its name."""

    def create(
        source: str,
        *,
        handler: str = "lambda_function.lambda_handler",
        files: dict[str, str] | None = None,
        **settings: Any,
    ) -> str:
        name = settings.pop("FunctionName", f"fn-{uuid.uuid4().hex[:8]}")
        cloud.client("lambda").create_function(
            FunctionName=name,
            Runtime=settings.pop("Runtime", "python3.12"),
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": make_zip(files or {"lambda_function.py": source})},
            **settings,
        )
        return name

    return create
