"""Lab 3 (replication) on a real AWS account (opt-in: ``pytest -m aws``)."""

from __future__ import annotations

from functools import partial

import pytest

from labkit.checks import CheckContext, run_check
from labkit.lab.course import step_ids
from labkit.lab.replication import PART
from labkit.lab.workshop import Workshop

pytestmark = [pytest.mark.aws, pytest.mark.slow]


def _context(workshop: Workshop) -> CheckContext:
    """A check context for the account: no idle signal, so checks look again until a deadline."""
    return CheckContext(
        backend="aws",
        region=workshop.region,
        settings=workshop.settings,
        client_factory=partial(Workshop.client, workshop),
    )


def test_every_lab3_step_solves_and_checks_on_aws(aws_workshop: Workshop) -> None:
    """Each step's solution is built on AWS, a second plan is empty, and its check passes
    (step 4's probe included; step 5 loads the 2,000 rows through the real stream)."""
    ctx = _context(aws_workshop)
    try:
        for step in step_ids(PART):
            aws_workshop.provision(step, solved=True)
            assert aws_workshop.plan(step, solved=True).empty, step
            report = run_check(step, ctx)
            assert report.passed, str(report)
    finally:
        aws_workshop.teardown()
    names = PART.names(aws_workshop.settings)
    tables = aws_workshop.client("dynamodb").list_tables()["TableNames"]
    assert names.logfile not in tables and names.replica not in tables
