"""Lab 5 under test: an isolated lab (its own name prefix) in the shared local cloud."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from labkit.checks import CheckContext, Report, run_check
from labkit.cloud import control
from labkit.lab.names import LabSettings
from labkit.lab.stream_errors import code
from labkit.lab.stream_errors.experiments import Experiments
from labkit.lab.stream_errors.names import StreamErrorsNames
from labkit.lab.stream_errors.policies import send_statement
from labkit.lab.stream_errors.replicator_runs import ReplicatorRuns
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud


@dataclass
class Lab5:
    """One isolated lab 5: provision steps, act as a learner, run checks."""

    cloud: RunningCloud
    workshop: Workshop
    ctx: CheckContext
    experiments: Experiments

    @property
    def names(self) -> StreamErrorsNames:
        return self.experiments.names

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def check(self, step: str) -> Report:
        return run_check(step, self.ctx)

    def provision(self, step: str, *, solved: bool = False) -> None:
        """The step's start (or solution), keeping what later steps added."""
        self.workshop.provision(step, solved=solved)

    def reset(self, step: str) -> None:
        """Take the lab back to the step's start (confirmed: later work is removed)."""
        self.workshop.reset(step, confirm=True)

    def update_mapping(self, **settings: Any) -> None:
        self.client("lambda").update_event_source_mapping(UUID=self.experiments.uuid, **settings)

    def deploy(self, function: str, source: str) -> None:
        """What ``lab.deploy`` does: package the handler (with probe.py) and update the code."""
        lam = self.client("lambda")
        name = self.names.function(function)
        lam.update_function_code(
            FunctionName=name, ZipFile=code.package_with(function, source).zip_bytes
        )

    def queue_arn(self) -> str:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=self.names.queue)["QueueUrl"]
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(answer["Attributes"]["QueueArn"])

    def policy_document(self, policy: str) -> dict[str, Any]:
        """The default version of one of the lab's managed policies, as a dict."""
        iam = self.client("iam")
        arn = f"arn:aws:iam::{self.ctx.account}:policy/{policy}"
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
            "Document"
        ]
        return json.loads(document) if isinstance(document, str) else dict(document)

    def replace_policy(self, policy: str, document: dict[str, Any]) -> None:
        """Make ``document`` the policy's default version (as a learner does with IAM)."""
        iam = self.client("iam")
        arn = f"arn:aws:iam::{self.ctx.account}:policy/{policy}"
        for old in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not old["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=old["VersionId"])
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )

    def allow_send(self) -> None:
        """Add sqs:SendMessage on the queue to ErrorsProcessorPolicy (as lab5.step2 asks)."""
        policy = self.names.policy("ErrorsProcessor")
        document = self.policy_document(policy)
        wanted = send_statement(self.names)
        if any(s.get("Sid") == wanted.sid for s in document["Statement"]):
            return
        document["Statement"].append({**wanted.to_dict(), "Resource": self.queue_arn()})
        self.replace_policy(policy, document)

    @property
    def replicator(self) -> ReplicatorRuns:
        """lab5.step6's replicator, driven as the notebook drives it."""
        return self.experiments.replicator

    def update_replicator_mapping(self, **settings: Any) -> None:
        self.client("lambda").update_event_source_mapping(UUID=self.replicator.uuid, **settings)

    def keep_discarded(self) -> None:
        """lab5.step2's mapping and permission half (the quarantiner is separate)."""
        self.allow_send()
        self.update_mapping(DestinationConfig={"OnFailure": {"Destination": self.queue_arn()}})


def make_lab5(cloud: RunningCloud) -> Lab5:
    prefix = f"e{uuid.uuid4().hex[:6]}-"
    settings = LabSettings(prefix=prefix)
    workshop = cloud.workshop(settings=settings, data_dir=cloud.data_dir / prefix)
    wait = functools.partial(control.wait_idle, cloud.endpoint)
    ctx = CheckContext(
        backend="local",
        region=cloud.region,
        settings=settings,
        client_factory=cloud.client,
        wait_idle=wait,
    )
    experiments = Experiments(
        cloud.client,
        settings,
        wait_idle=wait,
        backdate=functools.partial(control.backdate_stream, cloud.endpoint),
    )
    return Lab5(cloud, workshop, ctx, experiments)


@pytest.fixture
def lab5(cloud: RunningCloud) -> Iterator[Lab5]:
    """A lab 5 of this test's own, nothing provisioned yet; torn down afterwards."""
    lab = make_lab5(cloud)
    yield lab
    lab.workshop.teardown()
