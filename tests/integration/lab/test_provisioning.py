"""Provisioning every step's start on the local cloud, over HTTP with plain boto3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit import Lab
from labkit.deploy import DeployError
from labkit.lab.names import CodeVersion, FunctionId, LabSettings
from labkit.lab.packages import package
from labkit.lab.steps import STEP_IDS, get_step
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_PROFILE",
)


def _mappings(cloud: RunningCloud) -> dict[str, dict[str, object]]:
    found = cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    return {m["FunctionArn"].rsplit(":", 1)[-1]: m for m in found}


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_each_step_start_is_provisioned_and_stable(
    workshop: Workshop, lab_cloud: RunningCloud, step_id: str
) -> None:
    """The start of every step is built (from whatever the previous test left) and a second
    plan finds nothing to do."""
    workshop.reset(step_id, confirm=True)
    assert workshop.plan(step_id).empty, workshop.plan(step_id).lines()
    stage = get_step(step_id).start
    tables = set(lab_cloud.client("dynamodb").list_tables()["TableNames"])
    assert tables == {str(t) for t in stage.tables}
    mapped = set(_mappings(lab_cloud))
    assert mapped == {str(m).split("<-")[0] for m in stage.mappings}


def test_lab_resources_have_the_reference_settings(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """Streams, mapping settings, reserved concurrency, code and tags as the lab defines."""
    workshop.reset("lab2.step2", solved=True, confirm=True)
    dynamodb = lab_cloud.client("dynamodb")
    state = dynamodb.describe_table(TableName="StateTable")["Table"]
    reduce = dynamodb.describe_table(TableName="ReduceTable")["Table"]
    assert state["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert reduce["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert reduce["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    tags = dynamodb.list_tags_of_resource(ResourceArn=state["TableArn"])["Tags"]
    assert {"Key": "labkit:lab", "Value": "core"} in tags
    mappings = _mappings(lab_cloud)
    assert mappings["StateLambda"]["BatchSize"] == 100
    assert mappings["StateLambda"]["EventSourceArn"].endswith(":stream/IncomingDataStream")
    assert mappings["MapLambda"]["EventSourceArn"] == state["LatestStreamArn"]
    assert mappings["ReduceLambda"]["BatchSize"] == 1000
    assert mappings["ReduceLambda"]["EventSourceArn"] == reduce["LatestStreamArn"]
    lambda_client = lab_cloud.client("lambda")
    reduce_fn = lambda_client.get_function(FunctionName="ReduceLambda")
    assert reduce_fn["Concurrency"]["ReservedConcurrentExecutions"] == 1
    assert reduce_fn["Configuration"]["CodeSha256"] == (
        package(FunctionId.REDUCE, CodeVersion.SOLUTION).sha256
    )
    assert reduce_fn["Configuration"]["Timeout"] == 30


def test_reduce_policy_gets_its_stream_statements_in_step_2(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """ReduceLambdaPolicy starts with logs and ParameterTable only; its solution can read
    ReduceTable's stream and update AggregateTable."""
    iam = lab_cloud.client("iam")
    arn = "arn:aws:iam::123456789012:policy/ReduceLambdaPolicy"

    def actions() -> set[str]:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        found: set[str] = set()
        for statement in document["PolicyVersion"]["Document"]["Statement"]:
            action = statement["Action"]
            found.update([action] if isinstance(action, str) else action)
        return found

    workshop.reset("lab1.step2", confirm=True)
    assert "dynamodb:GetRecords" not in actions()
    workshop.reset("lab1.step2", solved=True, confirm=True)
    assert {"dynamodb:GetRecords", "dynamodb:UpdateItem"} <= actions()


def test_a_role_that_cannot_read_its_stream_is_a_clear_deploy_error(
    workshop: Workshop,
) -> None:
    """Connecting ReduceLambda before its policy is complete fails with one DeployError
    that names the mapping and tells the learner to fix the role's policy."""
    workshop.reset("lab1.step2", confirm=True)
    plan = workshop.plan("lab1.step3", solved=True)
    policy_calls = [c for c in plan if c.service == "iam"]
    without_policy = type(plan)(plan.title, tuple(c for c in plan if c not in policy_calls))
    with pytest.raises(DeployError) as raised:
        workshop._executor().run(without_policy)
    assert "ReduceLambda" in raised.value.where
    assert "role" in raised.value.todo.lower()


def test_dry_run_lists_the_calls_and_changes_nothing(
    workshop: Workshop, lab_cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """provision(dry_run=True) prints what it would do; the lab stays as it was."""
    workshop.reset("lab1.step1", confirm=True)
    workshop.reset("lab1.step2", dry_run=True)
    out = capsys.readouterr().out
    assert "Create table StateTable" in out
    assert lab_cloud.client("dynamodb").list_tables()["TableNames"] == []


def test_restore_rebuilds_where_the_learner_was(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """After completing lab1.step2 and losing the lab, restore builds lab1.step3's start."""
    workshop.reset("lab1.step2", solved=True, confirm=True)
    workshop.teardown()
    workshop.mark_completed("lab1.step2")
    report = workshop.restore()
    assert report.plan.title.startswith("lab1.step3 (start)")
    assert workshop.plan("lab1.step3").empty
    progress = json.loads((Path(lab_cloud.data_dir) / "progress.json").read_text())
    assert progress["local:us-east-1:"]["completed"] == ["lab1.step1", "lab1.step2"]


def test_workshop_from_a_lab_object(
    lab_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Workshop.from_lab(Lab(...))`` uses the Lab's endpoint and region, and plain boto3
    (configured by Lab) sees what it provisioned."""
    # Lab() configures this process's environment; monkeypatch puts it back afterwards.
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    lab = Lab(port=lab_cloud.port, data_dir=lab_cloud.data_dir)
    workshop = Workshop.from_lab(lab, progress=None)
    workshop.reset("lab1.step2", confirm=True)
    import boto3

    assert "ParameterTable" in boto3.client("dynamodb").list_tables()["TableNames"]


def test_aws_backend_code_path_runs_against_the_endpoint(
    tmp_path: Path, lab_cloud: RunningCloud
) -> None:
    """The aws backend's settings (prefix labkit-, 20 shards, parallelization 10, IAM
    propagation retries) provision, score a round and tear down through the same code."""
    aws = lab_cloud.workshop(backend="aws")
    assert aws.settings == LabSettings.for_backend("aws")
    aws.reset("lab2.step2", solved=True, confirm=True)
    assert aws.plan("lab2.step2", solved=True).empty
    tables = lab_cloud.client("dynamodb").list_tables()["TableNames"]
    assert "labkit-StateTable" in tables
    shards = lab_cloud.client("kinesis").describe_stream_summary(
        StreamName="labkit-IncomingDataStream"
    )["StreamDescriptionSummary"]["OpenShardCount"]
    assert shards == 20
    result = aws.scoreboard().play_round(messages=300, seed=4, special=False, timeout=150)
    assert result.exact, result.lines()
    aws.teardown()
    assert not [
        t
        for t in lab_cloud.client("dynamodb").list_tables()["TableNames"]
        if t.startswith("labkit-")
    ]
