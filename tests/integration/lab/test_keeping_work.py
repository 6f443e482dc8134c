"""Nothing the learner made is lost: provisioning only adds, only a confirmed reset takes the
lab back, and the score history survives a reset of a lab-1 step."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from labkit.cli import main
from labkit.lab.names import FunctionId
from labkit.lab.packages import package_with, source
from labkit.lab.steps import STEP_IDS
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

MARKER = "# the learner's own StateLambda\n"


def _finish_the_lab(workshop: Workshop, cloud: RunningCloud) -> None:
    """The whole workshop done the learner's way: solved, a scored round, own code deployed,
    every step completed."""
    workshop.reset("lab2.step2", solved=True, confirm=True)
    workshop.scoreboard().play_round(messages=60, seed=4, timeout=120)
    own = MARKER + source(FunctionId.STATE, "solution")
    name = workshop.names.function(FunctionId.STATE)
    lambda_ = cloud.client("lambda")
    lambda_.update_function_code(
        FunctionName=name, ZipFile=package_with(FunctionId.STATE, own).zip_bytes
    )
    lambda_.get_waiter("function_updated_v2").wait(FunctionName=name)
    workshop.mark_completed("lab2.step2")


def _snapshot(workshop: Workshop, cloud: RunningCloud) -> dict[str, object]:
    """What the learner has: tables, mappings, code, concurrency, policy, the score."""
    dynamodb, lambda_ = cloud.client("dynamodb"), cloud.client("lambda")
    names = workshop.names
    board = workshop.board()
    functions = {f["FunctionName"]: f["CodeSha256"] for f in lambda_.list_functions()["Functions"]}
    mappings = sorted(
        (m["FunctionArn"], m["EventSourceArn"], m["BatchSize"])
        for m in lambda_.list_event_source_mappings()["EventSourceMappings"]
    )
    iam = cloud.client("iam")
    policy = next(
        p
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == names.policy(FunctionId.REDUCE)
    )
    return {
        "tables": sorted(dynamodb.list_tables()["TableNames"]),
        "functions": functions,
        "mappings": mappings,
        "concurrency": lambda_.get_function_concurrency(
            FunctionName=names.function(FunctionId.REDUCE)
        ).get("ReservedConcurrentExecutions"),
        "policy": policy["DefaultVersionId"],
        "aggregates": dynamodb.scan(TableName=names.aggregate_table, Select="COUNT")["Count"],
        "score": (board.total, board.played, [r.number for r in board.rounds]),
    }


@pytest.mark.parametrize("solved", [False, True])
def test_provisioning_any_step_after_the_lab_is_done_changes_nothing(
    workshop: Workshop, lab_cloud: RunningCloud, solved: bool
) -> None:
    """With the lab complete, provisioning (or solving) every step makes no change at all,
    and says the lab is past it and what it left alone."""
    _finish_the_lab(workshop, lab_cloud)
    before = _snapshot(workshop, lab_cloud)
    for step in STEP_IDS:
        result = workshop.provision(step, solved=solved)
        assert result.calls_made == 0, [o.call.description for o in result.outcomes]
        assert result.in_place > 0
    assert _snapshot(workshop, lab_cloud) == before
    assert workshop.progress_record().completed == STEP_IDS
    first = workshop.provision("lab1.step1")
    assert first.past
    assert any("Delete table" in line for line in first.left_alone)
    assert any("StateLambda" in line for line in first.left_alone)


def test_reset_lists_what_it_removes_and_waits_for_confirmation(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """An unconfirmed reset that would remove work changes nothing and lists what would go."""
    _finish_the_lab(workshop, lab_cloud)
    before = _snapshot(workshop, lab_cloud)
    result = workshop.reset("lab1.step1")
    assert result.needs_confirmation and result.calls_made == 0
    assert any(f"Delete table {workshop.names.state_table}" in r for r in result.would_remove)
    assert any("mapping" in r.lower() for r in result.would_remove)
    assert _snapshot(workshop, lab_cloud) == before
    assert workshop.progress_record().completed == STEP_IDS


def test_a_reset_with_nothing_to_remove_needs_no_confirmation(workshop: Workshop) -> None:
    """Resetting the step the lab is at, untouched, just runs (nothing to lose)."""
    workshop.reset("lab1.step3", confirm=True)
    result = workshop.reset("lab1.step3")
    assert not result.needs_confirmation and result.calls_made == 0


def test_reset_of_lab1_step1_keeps_the_score_history(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """A confirmed reset to lab1.step1 removes ParameterTable, yet the score and its rounds
    come back as soon as ParameterTable exists again."""
    _finish_the_lab(workshop, lab_cloud)
    board = workshop.board()
    assert board.played >= 1
    workshop.reset("lab1.step1", confirm=True)
    names = workshop.names
    assert names.parameter_table not in lab_cloud.client("dynamodb").list_tables()["TableNames"]
    lab_cloud.client("dynamodb").create_table(  # the learner redoes exercise 1
        TableName=names.parameter_table,
        KeySchema=[{"AttributeName": "parameter", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "parameter", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    after = workshop.board()
    assert (after.total, after.played, after.rounds) == (board.total, board.played, board.rounds)


def test_reset_of_lab1_step3_keeps_the_score(workshop: Workshop, lab_cloud: RunningCloud) -> None:
    """Resetting a later lab-1 step keeps ParameterTable's score untouched."""
    _finish_the_lab(workshop, lab_cloud)
    board = workshop.board()
    workshop.reset("lab1.step3", confirm=True)
    assert workshop.board().total == board.total and workshop.board().rounds == board.rounds


def test_going_forward_keeps_what_completed_steps_built(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """Catching up to lab2.step1 leaves the learner's own ReduceLambdaPolicy (lab1.step2,
    completed) as the learner wrote it."""
    workshop.reset("lab1.step2", solved=True, confirm=True)
    iam = lab_cloud.client("iam")
    names = workshop.names
    arn = next(
        p["Arn"]
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"] == names.policy(FunctionId.REDUCE)
    )
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
    mine = document["Document"]
    mine = json.loads(mine) if isinstance(mine, str) else mine
    for number, statement in enumerate(mine["Statement"]):
        statement["Sid"] = f"Mine{number}"
    own = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(mine), SetAsDefault=True
    )["PolicyVersion"]["VersionId"]
    workshop.provision("lab2.step1")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == own
    assert workshop.scoreboard().parameter("SPECIAL_TRADES") == Decimal(1)


def test_cli_reset_asks_for_yes(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """``labkit reset STEP`` lists what it would remove and exits 2; ``--yes`` does it."""
    workshop.reset("lab1.step3", solved=True, confirm=True)
    argv = ["reset", "lab1.step3", "-q", "--data-dir", str(lab_cloud.data_dir)]
    argv += ["--port", str(lab_cloud.port)]
    assert main(argv) == 2
    out = capsys.readouterr().out
    assert "would remove" in out and "labkit reset lab1.step3 --yes" in out
    assert "lab.reset" not in out
    assert main([*argv, "--yes"]) == 0
    assert "is reset" in capsys.readouterr().out
    mappings = lab_cloud.client("lambda").list_event_source_mappings(
        FunctionName=workshop.names.function(FunctionId.REDUCE)
    )["EventSourceMappings"]
    assert mappings == []
