"""Lab 5's aws code path (backend "aws" settings, prefix labkit-, no idle signal) against the
local cloud's endpoint."""

from __future__ import annotations

import pytest

from labkit.checks import CheckContext, run_check
from labkit.lab.names import LabSettings
from labkit.lab.stream_errors import PART
from labkit.lab.stream_errors.names import StreamErrorsNames
from labkit.testing import RunningCloud

pytestmark = pytest.mark.slow


def test_aws_settings_provision_converge_and_check(cloud: RunningCloud) -> None:
    """With the aws backend's settings the finished lab 5 is built under labkit- names, a
    second plan is empty, and checks wait by watching what the mappings leave behind (the
    invocation log; the replica and the queue) instead of the local cloud's idle signal."""
    aws = cloud.workshop(backend="aws")
    assert aws.settings == LabSettings.for_backend("aws")
    names = StreamErrorsNames(aws.settings.prefix)
    assert names.processor == "labkit-ErrorsProcessor"
    last = PART.steps[-1].id
    try:
        aws.provision("lab5.step1", solved=True)
        assert aws.plan("lab5.step1", solved=True).empty
        ctx = CheckContext(
            backend="aws", region=cloud.region, settings=aws.settings, client_factory=cloud.client
        )
        report = run_check("lab5.step1", ctx)
        assert report.passed, str(report)
        aws.provision(last, solved=True)
        assert aws.plan(last, solved=True).empty
        report = run_check(last, ctx)
        assert report.passed, str(report)
        found = aws.client("lambda").get_function_configuration(FunctionName=names.processor)
        assert [layer["Arn"].split(":")[-2] for layer in found["Layers"]] == [
            "AWSLambdaPowertoolsPythonV3-python312-x86_64"
        ]
        source = aws.client("dynamodb").describe_table(TableName=names.source)["Table"]
        assert source["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    finally:
        aws.teardown()
