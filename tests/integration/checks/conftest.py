"""A lab per test (or per module) in the shared local cloud, isolated by a name prefix.

Every lab gets its own prefix (``m1a2b3-StateTable`` …), so tests never see each other's
tables, roles or functions, and nothing here touches ``os.environ``.
"""

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
from labkit.lab.names import FunctionId, LabSettings
from labkit.lab.packages import package_with
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud


def wait_idle(cloud: RunningCloud, timeout: float = 60.0) -> None:
    """Until every mapping has caught up; TimeoutError otherwise."""
    control.wait_idle(cloud.endpoint, timeout)


def invocations(cloud: RunningCloud, function: str) -> list[dict[str, Any]]:
    """Recent event source mapping invocations of ``function``, oldest first."""
    status = cloud.status()
    found: list[dict[str, Any]] = []
    for mapping in status.get("event_source_mappings", {}).values():
        if str(mapping["function_arn"]).endswith(f":{function}"):
            found.extend(mapping.get("recent", []))
    return sorted(found, key=lambda entry: float(entry.get("time", 0)))


@dataclass
class LabUnderTest:
    """One isolated lab: its workshop (to provision), clients, and a check runner."""

    cloud: RunningCloud
    workshop: Workshop
    ctx: CheckContext

    @property
    def names(self) -> Any:
        return self.workshop.names

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def check(self, step: str) -> Report:
        return run_check(step, self.ctx)

    def provision(self, step: str, *, solved: bool = False) -> None:
        """Put the lab exactly at the start (or solution) of ``step``: a confirmed reset."""
        self.workshop.reset(step, solved=solved, confirm=True)

    def deploy(self, function: FunctionId, source: str) -> None:
        """What ``lab.deploy`` does: package the handler with pipeline.py and update the code."""
        name = self.names.function(function)
        package = package_with(function, source)
        client = self.client("lambda")
        client.update_function_code(FunctionName=name, ZipFile=package.zip_bytes)
        client.get_waiter("function_updated_v2").wait(FunctionName=name)

    def stream_arn(self, table: str) -> str:
        found = self.client("dynamodb").describe_table(TableName=table)["Table"]
        return str(found["LatestStreamArn"])

    def attach_policy_version(self, document: dict[str, Any], default: bool = True) -> str:
        """Put ``document`` in ReduceLambdaPolicy as a new version (the lab's way)."""
        iam = self.client("iam")
        arn = self.policy_arn()
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        created = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=default
        )
        return str(created["PolicyVersion"]["VersionId"])

    def policy_arn(self) -> str:
        name = self.names.policy(FunctionId.REDUCE)
        return f"arn:aws:iam::{self.ctx.account}:policy/{name}"


def make_lab(cloud: RunningCloud, prefix: str | None = None) -> LabUnderTest:
    """A lab in ``cloud`` whose names start with ``prefix`` (a fresh random one by default)."""
    prefix = prefix or f"t{uuid.uuid4().hex[:6]}-"
    settings = LabSettings(prefix=prefix)
    workshop = cloud.workshop(settings=settings, data_dir=cloud.data_dir / prefix)
    ctx = CheckContext(
        backend="local",
        region=cloud.region,
        settings=settings,
        client_factory=cloud.client,
        wait_idle=functools.partial(control.wait_idle, cloud.endpoint),
        invocations=lambda function: invocations(cloud, function),
    )
    return LabUnderTest(cloud, workshop, ctx)


@pytest.fixture
def fresh_lab(cloud: RunningCloud) -> Iterator[LabUnderTest]:
    """A lab of this test's own with nothing provisioned; torn down afterwards."""
    lab = make_lab(cloud)
    yield lab
    lab.workshop.teardown()


def policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def reduce_policy(lab: LabUnderTest, **changes: Any) -> dict[str, Any]:
    """A correct ReduceLambdaPolicy for ``lab`` (as a learner writes it), with ``changes``
    applied to named statements: ``stream={...}``, ``write={...}``; ``drop=[...]``."""
    names = lab.names
    statements = {
        "logs": {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                f"arn:aws:logs:*:*:log-group:{names.log_group(FunctionId.REDUCE)}",
                f"arn:aws:logs:*:*:log-group:{names.log_group(FunctionId.REDUCE)}:*",
            ],
        },
        "parameters": {
            "Sid": "ReadParameterTable",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": f"arn:aws:dynamodb:*:*:table/{names.parameter_table}",
        },
        "stream": {
            "Sid": "ReadReduceTableStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Resource": f"arn:aws:dynamodb:*:*:table/{names.reduce_table}/stream/*",
        },
        "write": {
            "Sid": "UpdateAggregateTable",
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": f"arn:aws:dynamodb:*:*:table/{names.aggregate_table}",
        },
    }
    for name in changes.pop("drop", []):
        del statements[name]
    for name, update in changes.items():
        statements[name] = {**statements[name], **update}
    return policy_document(*statements.values())
