"""lab1.step2 mistakes in ReduceLambdaPolicy, made with plain boto3 IAM calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.checks import Status
from labkit.lab.names import FunctionId
from labkit.testing import RunningCloud

from .conftest import LabUnderTest, make_lab, reduce_policy

STEP = "lab1.step2"


@pytest.fixture(scope="module")
def module_lab(cloud: RunningCloud) -> Iterator[LabUnderTest]:
    """One lab at the start of lab1.step2 for the whole module."""
    lab = make_lab(cloud)
    lab.provision(STEP)
    yield lab
    lab.workshop.teardown()


@pytest.fixture
def lab(module_lab: LabUnderTest) -> Iterator[LabUnderTest]:
    """The module's lab, put back to the start of the step after each test."""
    yield module_lab
    module_lab.provision(STEP)
    iam = module_lab.client("iam")
    arn = module_lab.policy_arn()
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])


def test_starting_policy_is_not_done(lab: LabUnderTest) -> None:
    """The policy as provisioned lacks stream reads and UpdateItem: both are named."""
    report = lab.check(STEP)
    assert not report.passed
    hints = " ".join(i.hint for i in report.failures)
    assert "dynamodb:GetRecords" in hints and "dynamodb:UpdateItem" in hints
    assert set(report.codes) == {"permission-missing"}


def test_correct_policy_passes(lab: LabUnderTest) -> None:
    """The learner's complete policy as a new default version passes."""
    lab.attach_policy_version(reduce_policy(lab))
    report = lab.check(STEP)
    assert report.passed, str(report)


def test_list_streams_from_the_error_message_is_accepted(lab: LabUnderTest) -> None:
    """Adding dynamodb:ListStreams (which AWS's error message names) still passes."""
    stream = reduce_policy(lab)["Statement"][2]
    stream["Action"].append("dynamodb:ListStreams")
    lab.attach_policy_version(reduce_policy(lab, stream=stream))
    assert lab.check(STEP).passed


def test_region_placeholder_left_in(lab: LabUnderTest) -> None:
    """{Region} and {Account} copied with their braces are named, with the fixed ARN."""
    arn = f"arn:aws:dynamodb:{{Region}}:{{Account}}:table/{lab.names.reduce_table}/stream/*"
    lab.attach_policy_version(reduce_policy(lab, stream={"Resource": arn}))
    item = lab.check(STEP).item("placeholder-left")
    assert "{Region}" in item.detail
    assert "curly braces" in item.hint and "/stream/*" in item.hint


def test_stream_actions_on_table_arn(lab: LabUnderTest) -> None:
    """GetRecords granted on ReduceTable's ARN instead of its stream's."""
    arn = f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}"
    lab.attach_policy_version(reduce_policy(lab, stream={"Resource": arn}))
    item = lab.check(STEP).item("table-arn-for-stream")
    assert "GetRecords" in item.label
    assert "/stream/" in item.hint


def test_put_item_instead_of_update_item(lab: LabUnderTest) -> None:
    """PutItem on AggregateTable does not authorise the transaction's Update."""
    lab.attach_policy_version(reduce_policy(lab, write={"Action": "dynamodb:PutItem"}))
    report = lab.check(STEP)
    item = report.item("putitem-instead-of-updateitem")
    assert "dynamodb:UpdateItem" in item.hint
    assert "too-broad" in report.codes  # PutItem itself is not needed either


def test_update_item_on_the_wrong_table(lab: LabUnderTest) -> None:
    """UpdateItem on ReduceTable instead of AggregateTable names both tables."""
    arn = f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}"
    lab.attach_policy_version(reduce_policy(lab, write={"Resource": arn}))
    item = lab.check(STEP).item("wrong-table")
    assert lab.names.aggregate_table in item.hint


def test_stream_label_copied_from_an_old_stream(lab: LabUnderTest) -> None:
    """A stream ARN with a fixed old label stops matching; the hint says to use *."""
    old = f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}/stream/2020-01-01T00:00:00.000"
    lab.attach_policy_version(reduce_policy(lab, stream={"Resource": old}))
    item = lab.check(STEP).item("old-stream-label")
    assert "label" in item.hint and "stream/*" in item.hint


def test_misspelt_action(lab: LabUnderTest) -> None:
    """dynamodb:GetRecord (no s) is not an action; the hint spells it right."""
    stream = reduce_policy(lab)["Statement"][2]
    stream["Action"][1] = "dynamodb:GetRecord"
    lab.attach_policy_version(reduce_policy(lab, stream=stream))
    item = lab.check(STEP).item("action-typo")
    assert '"dynamodb:GetRecords"' in item.hint


def test_wildcards_are_too_broad(lab: LabUnderTest) -> None:
    """dynamodb:* on every resource grants everything: reported as too broad."""
    lab.attach_policy_version(
        reduce_policy(lab, drop=["write"], stream={"Action": "dynamodb:*", "Resource": "*"})
    )
    report = lab.check(STEP)
    assert not report.passed
    assert "too-broad" in report.codes
    [broad] = [i for i in report.failures if i.code == "too-broad"]  # one per statement
    assert "replace this statement with" in broad.hint and '"dynamodb:UpdateItem"' in broad.hint


def test_principal_copied_from_the_trust_policy(lab: LabUnderTest) -> None:
    """A Principal (which belongs in the role's trust policy) is reported as a policy error."""
    lab.attach_policy_version(
        reduce_policy(lab, write={"Principal": {"Service": "lambda.amazonaws.com"}})
    )
    item = lab.check(STEP).item("policy-error")
    assert "Principal" in item.detail


def test_misspelt_effect_is_caught_before_attaching(lab: LabUnderTest) -> None:
    """IAM refuses Effect "Alow"; the offline review names it and spells Allow."""
    from botocore.exceptions import ClientError

    from labkit.checks.lab1 import review_policy

    draft = reduce_policy(lab, write={"Effect": "Alow"})
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        lab.attach_policy_version(draft)
    review = review_policy(lab.ctx, {"ReduceLambdaPolicy": draft})
    assert not review.passed
    assert any('"Allow"' in p.fix for p in review.problems)


def test_new_version_not_made_default(lab: LabUnderTest) -> None:
    """A correct version created without SetAsDefault is found, with the call to apply it."""
    version = lab.attach_policy_version(reduce_policy(lab), default=False)
    report = lab.check(STEP)
    item = report.item("version-not-default")
    assert version in item.detail
    assert "set_default_policy_version" in item.hint and version in item.hint


def test_permissions_in_an_unattached_policy(lab: LabUnderTest) -> None:
    """Writing a separate policy and forgetting to attach it is named, with both fixes."""
    iam = lab.client("iam")
    name = f"{lab.names.prefix}MyReducePolicy"
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(reduce_policy(lab)))[
        "Policy"
    ]["Arn"]
    try:
        item = lab.check(STEP).item("policy-not-attached")
        assert name in item.detail
        assert (
            "attach_role_policy" in item.hint and lab.names.policy(FunctionId.REDUCE) in item.hint
        )
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_no_lab_yet(fresh_lab: LabUnderTest) -> None:
    """Without the lab's roles the check says how to set the step up, and does not raise."""
    report = fresh_lab.check(STEP)
    item = report.item("lab-not-provisioned")
    assert item.status is Status.FAIL and 'lab.reset("lab1.step2")' in item.hint


def test_reference_policy_in_solutions_passes(lab: LabUnderTest) -> None:
    """solutions/reduce_lambda_policy.json (names with this lab's prefix) passes the check."""
    text = (
        Path(__file__).resolve().parents[3] / "solutions" / "reduce_lambda_policy.json"
    ).read_text()
    for name in ("ReduceLambda", "ParameterTable", "ReduceTable", "AggregateTable"):
        text = text.replace(f"/{name}", f"/{lab.names.prefix}{name}")
    lab.attach_policy_version(json.loads(text))
    assert lab.check(STEP).passed


def test_a_deny_that_blocks_a_needed_action_is_said_first(lab: LabUnderTest) -> None:
    """A Deny on GetRecords is the first item of the report, named as the reason."""
    policy = reduce_policy(lab)
    policy["Statement"].append(
        {"Sid": "NoStreams", "Effect": "Deny", "Action": "dynamodb:GetRecords", "Resource": "*"}
    )
    lab.attach_policy_version(policy)
    report = lab.check(STEP)
    first = report.failures[0]
    assert first.code == "denied"
    assert "NoStreams" in first.detail and "Deny always wins" in first.hint
    assert report.items[0] == first
