"""Solving and resetting every step of lab 3, on the local backend and on the aws backend's
code path (prefix ``labkit-``) against the local cloud's endpoint."""

from __future__ import annotations

from labkit.checks import CheckContext, run_check
from labkit.lab.course import step_ids
from labkit.lab.names import LabSettings
from labkit.lab.replication.part import PART
from labkit.testing import RunningCloud
from tests.integration.checks.conftest import make_lab

from .conftest import Lab3


def test_solve_every_step_in_order_then_reset(lab3: Lab3) -> None:
    """Each step's solution passes its check; reset takes a step back to its start."""
    for step in step_ids(PART):
        lab3.provision(step, solved=True)
        report = lab3.check(step)
        assert report.passed, str(report)
    lab3.provision("lab3.step4")  # reset: the start of step 4 has no stream and no mapping
    assert "lab3-stream-off" in lab3.check("lab3.step4").codes
    lab3.provision("lab3.step4", solved=True)
    assert lab3.check("lab3.step4").passed
    lab3.provision("lab3.step1")
    assert lab3.check("lab3.step2").codes == ("lab3-table-missing",)


def test_solving_the_last_step_from_scratch_passes(lab3: Lab3) -> None:
    """Solving lab3.step5 on an empty cloud builds a replica of exactly the stream file."""
    lab3.provision("lab3.step5", solved=True)
    report = lab3.check("lab3.step5")
    assert report.passed, str(report)


def test_aws_code_path_against_the_local_endpoint(cloud: RunningCloud) -> None:
    """With backend "aws" settings (prefix labkit-) the lab builds and checks as on AWS:
    no idle signal, so step 4's probe waits by looking again."""
    settings = LabSettings.for_backend("aws")
    assert settings.prefix == "labkit-"
    workshop = cloud.workshop(backend="aws", settings=settings, data_dir=cloud.data_dir / "aws")
    ctx = CheckContext(
        backend="aws",
        region=cloud.region,
        settings=settings,
        client_factory=cloud.client,
        wait_idle=None,
        invocations=None,
    )
    try:
        workshop.provision("lab3.step4", solved=True)
        names = PART.names(settings)
        tables = cloud.client("dynamodb").list_tables()["TableNames"]
        assert names.logfile == "labkit-logfile" and names.logfile in tables
        for step in ("lab3.step2", "lab3.step3", "lab3.step4"):
            report = run_check(step, ctx)
            assert report.passed, str(report)
    finally:
        workshop.teardown()
    assert "labkit-logfile" not in cloud.client("dynamodb").list_tables()["TableNames"]


def test_teardown_leaves_the_core_lab_alone(cloud: RunningCloud) -> None:
    """Provisioning lab 3 touches no core resource, and its teardown removes all of lab 3."""
    lab = make_lab(cloud)
    try:
        lab.provision("lab3.step3", solved=True)
        tables = cloud.client("dynamodb").list_tables()["TableNames"]
        assert not [t for t in tables if t.startswith(lab.names.prefix) and "Table" in t]
    finally:
        lab.workshop.teardown()
    left = [
        t
        for t in cloud.client("dynamodb").list_tables()["TableNames"]
        if t.startswith(lab.names.prefix)
    ]
    assert not left
