"""Lab 5 (when stream processing fails) on a real AWS account (opt-in: ``pytest -m aws``)."""

from __future__ import annotations

import boto3
import pytest

from labkit.checks import CheckContext, run_check
from labkit.lab.stream_errors import PART
from labkit.lab.stream_errors.names import StreamErrorsNames
from labkit.lab.workshop import Workshop

pytestmark = [pytest.mark.aws, pytest.mark.slow]


def test_every_lab5_step_solves_and_checks_on_aws(
    aws_workshop: Workshop, aws_session: boto3.session.Session
) -> None:
    """Each step's solution is built on AWS, a second plan is empty, and its check (probes
    through the real mapping, waits watching the invocation log) passes."""
    ctx = CheckContext(
        backend="aws",
        region=str(aws_session.region_name),
        settings=aws_workshop.settings,
        client_factory=aws_workshop.client,
    )
    for step in PART.steps:
        aws_workshop.provision(step.id, solved=True)
        assert aws_workshop.plan(step.id, solved=True).empty, step.id
        report = run_check(step.id, ctx)
        assert report.passed, str(report)


def test_powertools_layer_is_attached_on_aws(aws_workshop: Workshop) -> None:
    """ErrorsProcessor carries the public Powertools layer, so its powertools version runs."""
    aws_workshop.provision(PART.steps[-1].id, solved=True)
    names = StreamErrorsNames(aws_workshop.settings.prefix)
    found = aws_workshop.client("lambda").get_function_configuration(FunctionName=names.processor)
    assert any("AWSLambdaPowertoolsPythonV3" in layer["Arn"] for layer in found["Layers"])
