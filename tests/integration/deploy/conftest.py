"""Plans made and run against a live local cloud over HTTP, by the same executor the lab uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from labkit.deploy import Boto3Executor, Boto3StateReader, Plan, Stack, plan_stack
from labkit.deploy.planner import CONVERGE, PlanPolicy
from labkit.testing import RunningCloud, local_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """One local cloud for the module (each test uses names of its own)."""
    with local_cloud(tmp_path_factory.mktemp("deploy-cloud")) as running:
        yield running


@dataclass
class Deployer:
    """Plans a stack against the cloud and runs the plan, as ``Workshop`` does."""

    cloud: RunningCloud

    def plan(
        self, desired: Stack, owned: Stack | None = None, policy: PlanPolicy = CONVERGE
    ) -> Plan:
        return plan_stack(desired, Boto3StateReader(self.cloud.client), owned=owned, policy=policy)

    def apply(self, desired: Stack, owned: Stack | None = None) -> Plan:
        """Run the plan for ``desired``; a second plan afterwards must be empty."""
        plan = self.plan(desired, owned)
        Boto3Executor(self.cloud.client, propagation_timeout=0).run(plan)
        again = self.plan(desired, owned)
        assert again.empty, again.lines()
        return plan

    def teardown(self, owned: Stack) -> None:
        """Remove everything in ``owned``; afterwards nothing of it is left to remove."""
        self.apply(Stack(), owned)
        assert self.plan(Stack(), owned).empty


@pytest.fixture
def deployer(cloud: RunningCloud) -> Deployer:
    return Deployer(cloud)
