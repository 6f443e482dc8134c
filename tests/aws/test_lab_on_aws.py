"""The same provisioning, rounds and teardown on a real AWS account (opt-in)."""

from __future__ import annotations

import pytest

from labkit.lab.steps import STEP_IDS
from labkit.lab.workshop import Workshop

pytestmark = [pytest.mark.aws, pytest.mark.slow]


def test_every_step_provisions_on_aws_and_is_stable(aws_workshop: Workshop) -> None:
    """Each step's start is built on AWS (IAM propagation retried) and a second plan is
    empty."""
    for step in STEP_IDS:
        aws_workshop.provision(step)
        assert aws_workshop.plan(step).empty, aws_workshop.plan(step).lines()
    aws_workshop.provision(STEP_IDS[-1], solved=True)
    assert aws_workshop.plan(STEP_IDS[-1], solved=True).empty


def test_lab_1_round_is_exact_on_aws(aws_workshop: Workshop) -> None:
    """A lab-1 round through the real pipeline is exact (the board waits for the message
    count to settle, as there is no local cloud to ask)."""
    aws_workshop.provision(STEP_IDS[-1], solved=True)
    scores = aws_workshop.scoreboard(quiet_seconds=20, switch_to_lab2=False)
    # On AWS a new LATEST mapping may still be starting and miss the first records (as in
    # the reference lab): a small warm-up round is not scored.
    scores.play_round(messages=100, seed=0, special=False, timeout=600)
    result = scores.play_round(messages=1000, seed=1, special=False, timeout=600)
    assert result.exact, result.lines()


def test_fixed_pipeline_is_exact_under_faults_on_aws(aws_workshop: Workshop) -> None:
    """With lab 2's failures and special trades, both fixes keep the round exact on AWS."""
    aws_workshop.provision(STEP_IDS[-1], solved=True)
    scores = aws_workshop.scoreboard(quiet_seconds=30)
    result = scores.play_round(messages=1000, seed=2, special=True, timeout=900)
    assert result.exact, result.lines()


def test_teardown_leaves_nothing_with_the_prefix(aws_workshop: Workshop) -> None:
    """After teardown, nothing named with the run's prefix is left."""
    aws_workshop.teardown()
    prefix = aws_workshop.settings.prefix
    tables = aws_workshop.client("dynamodb").list_tables()["TableNames"]
    functions = aws_workshop.client("lambda").list_functions()["Functions"]
    roles = aws_workshop.client("iam").list_roles()["Roles"]
    policies = aws_workshop.client("iam").list_policies(Scope="Local")["Policies"]
    streams = aws_workshop.client("kinesis").list_streams()["StreamNames"]
    groups = aws_workshop.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{prefix}"
    )["logGroups"]
    assert not [t for t in tables if t.startswith(prefix)]
    assert not [f for f in functions if f["FunctionName"].startswith(prefix)]
    assert not [r for r in roles if r["RoleName"].startswith(prefix)]
    assert not [p for p in policies if p["PolicyName"].startswith(prefix)]
    assert not [s for s in streams if s.startswith(prefix)]
    assert groups == []
