"""The lab against a real local cloud over HTTP: one cloud per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from labkit.lab.functions.pipeline import generate_round
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud, local_cloud

#: FAILURE_SEED values whose first draw fails a fresh worker of StateLambda (< 5 %) and of
#: MapLambda and ReduceLambda (< 10 %): with them every stage certainly fails at least once.
SEED_ALL_FAIL_FIRST = (77, 900, 6445)
#: FAILURE_SEED values whose first draw fails a fresh ReduceLambda worker.
SEED_REDUCE_FAILS_FIRST = (9, 11, 18, 39, 51)


@pytest.fixture(scope="module")
def lab_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """A local cloud for this module's lab (the lab's names are fixed, so it gets its own)."""
    with local_cloud(tmp_path_factory.mktemp("lab-cloud")) as running:
        yield running


@pytest.fixture(scope="module")
def workshop(lab_cloud: RunningCloud) -> Workshop:
    """The lab on the module's cloud, with default local settings."""
    return lab_cloud.workshop()


def function_stats(cloud: RunningCloud) -> dict[str, dict[str, Any]]:
    """Invocations and errors per function, from the cloud's status endpoint."""
    stats: dict[str, dict[str, Any]] = cloud.status().get("functions", {})
    return stats


def errors_by_function(cloud: RunningCloud) -> dict[str, int]:
    return {name: int(s.get("errors", 0)) for name, s in function_stats(cloud).items()}


def seed_with_stale(number: int, messages: int) -> int:
    """A seed whose lab 2 round number ``number`` has at least one stale version."""
    for seed in range(10_000):
        if generate_round(f"{seed}/{number}", messages, special=True).stats()["stale"]:
            return seed
    raise AssertionError("no seed gives a stale version")
