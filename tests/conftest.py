"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.testing import RunningCloud, local_cloud

# Tests never reach a real account unless asked to (-m aws).
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """One local cloud shared by the tests of a session, on a free port."""
    with local_cloud(tmp_path_factory.mktemp("cloud")) as running:
        yield running


@pytest.fixture
def own_cloud(tmp_path: Path) -> Iterator[RunningCloud]:
    """A local cloud of this test's own, for tests that stop, kill or restart it."""
    with local_cloud(tmp_path / "cloud") as running:
        yield running
