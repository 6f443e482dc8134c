"""Lab 4 on a real AWS account (opt-in): every step solves, passes its check, and tears down."""

from __future__ import annotations

import pytest

from labkit.checks.context import CheckContext
from labkit.checks.lab4 import CHECKS
from labkit.checks.lab4_probes import state_values, wait_until
from labkit.lab.counters import PART, example
from labkit.lab.counters.names import CounterNames, upload_key
from labkit.lab.counters.part import bucket_name
from labkit.lab.workshop import Workshop

pytestmark = [pytest.mark.aws, pytest.mark.slow]


def test_every_lab4_step_solves_and_passes_on_aws(aws_workshop: Workshop) -> None:
    """S3 → SNS → Lambda → stream → Lambda on AWS: each step's solution passes its check
    (the checks poll, as there is no local cloud to ask), and the example gives 191122."""
    ctx = CheckContext(
        backend="aws",
        region=aws_workshop.region,
        settings=aws_workshop.settings,
        client_factory=aws_workshop.client,
    )
    bucket = bucket_name(aws_workshop.settings)
    state_table = CounterNames.of(aws_workshop.settings).state_table
    try:
        for step in PART.steps:
            aws_workshop.provision(step.id, solved=True)
            if step.id == "lab4.step4":
                s3 = aws_workshop.client("s3")
                for instance, text in example.UPLOADS:
                    key = upload_key(example.DATE, instance)
                    s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
                    # One upload at a time: S3 may deliver events out of order, and step 4's
                    # processor is not yet safe against that (step 5 is).
                    counter, value = text.splitlines()[-1].split()
                    assert wait_until(
                        ctx,
                        lambda i=instance, c=counter, v=value: (
                            state_values(ctx, state_table, c, example.DATE).get(i) == int(v)
                        ),
                    )
            report = CHECKS[step.id](ctx)
            assert report.passed, str(report)
    finally:
        aws_workshop.teardown()
    names = [b["Name"] for b in aws_workshop.client("s3").list_buckets()["Buckets"]]
    assert bucket not in names
