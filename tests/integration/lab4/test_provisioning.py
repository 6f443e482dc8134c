"""solve and reset of every lab 4 step through the deploy planner, on both backends' paths."""

from __future__ import annotations

import functools
import time

import pytest

from labkit.checks.context import CheckContext
from labkit.checks.lab4 import CHECKS
from labkit.cloud import control
from labkit.lab.counters import example
from labkit.lab.counters.names import CounterFunction, CounterNames, upload_key
from labkit.lab.counters.packages import package
from labkit.lab.counters.part import PART, bucket_name
from labkit.lab.names import LabSettings
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

STEPS = [step.id for step in PART.steps]


def context(cloud: RunningCloud, settings: LabSettings, *, aws: bool = False) -> CheckContext:
    return CheckContext(
        backend="aws" if aws else "local",
        settings=settings,
        client_factory=cloud.client,
        wait_idle=None if aws else functools.partial(control.wait_idle, cloud.endpoint),
        sleep=time.sleep,
    )


def upload_example(cloud: RunningCloud, bucket: str) -> None:
    s3 = cloud.client("s3")
    for instance, text in example.UPLOADS:
        s3.put_object(Bucket=bucket, Key=upload_key(example.DATE, instance), Body=text.encode())
        cloud.wait_idle()


def solve_all(cloud: RunningCloud, workshop: Workshop, settings: LabSettings, aws: bool) -> None:
    ctx = context(cloud, settings, aws=aws)
    for step in STEPS:
        workshop.provision(step, solved=True)
        if step == "lab4.step4":
            upload_example(cloud, bucket_name(settings))
        report = CHECKS[step](ctx)
        assert report.passed, str(report)


def test_solve_then_reset_every_step(own_cloud: RunningCloud) -> None:
    """Each step's solution passes its check; resetting step 1 removes all of lab 4."""
    workshop = own_cloud.workshop()
    settings = workshop.settings
    solve_all(own_cloud, workshop, settings, aws=False)
    names = CounterNames.of(settings)
    deployed = own_cloud.client("lambda").get_function(FunctionName=names.processor)
    ordered = package(CounterFunction.PROCESSOR, "ordered").sha256
    assert deployed["Configuration"]["CodeSha256"] == ordered
    workshop.reset("lab4.step3", confirm=True)
    report = CHECKS["lab4.step3"](context(own_cloud, settings))
    assert not report.passed
    workshop.reset("lab4.step1", confirm=True)
    assert own_cloud.client("s3").list_buckets()["Buckets"] == []
    assert own_cloud.client("dynamodb").list_tables()["TableNames"] == []
    assert own_cloud.client("lambda").list_functions()["Functions"] == []


def test_the_aws_code_path_runs_against_the_local_endpoint(
    own_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the aws backend's settings (prefix labkit-, a bucket named after the account) and
    the aws check path (polling, no idle signal), every step solves and passes."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", own_cloud.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", own_cloud.credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", own_cloud.credentials.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", own_cloud.region)
    settings = LabSettings.for_backend("aws")
    workshop = own_cloud.workshop(backend="aws", settings=settings)
    assert bucket_name(settings) == "labkit-counter-uploads-123456789012"
    solve_all(own_cloud, workshop, settings, aws=True)
    workshop.teardown()
    assert own_cloud.client("s3").list_buckets()["Buckets"] == []
