"""The lab exported as CloudFormation is complete and passes cfn-lint without findings."""

from __future__ import annotations

import json

import cfnlint.api
import pytest

from labkit.deploy.cloudformation import logical_id, template
from labkit.lab.course import PARTS
from labkit.lab.names import LabSettings
from labkit.lab.stack import lab_stack
from labkit.lab.steps import FINISHED, STEPS

from .conftest import small_stack


def lint(document: dict[str, object]) -> list[str]:
    return [str(match) for match in cfnlint.api.lint(json.dumps(document))]


@pytest.mark.parametrize(("backend", "code"), [("aws", "s3"), ("local", "inline")])
def test_finished_lab_template_is_lint_clean(backend: str, code: str) -> None:
    """The finished lab's template has no cfn-lint errors, warnings or notes."""
    settings = LabSettings.for_backend(backend)
    document = template(lab_stack(FINISHED, settings), code=code)  # type: ignore[arg-type]
    assert lint(document) == []


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_every_step_start_is_lint_clean(step: object) -> None:
    """The template of each step's start state passes cfn-lint too."""
    document = template(lab_stack(step.start, LabSettings.for_backend("aws")))  # type: ignore[attr-defined]
    assert lint(document) == []


@pytest.mark.parametrize("part", PARTS, ids=lambda p: p.key)
def test_every_finished_lab_exports_lint_clean(part: object) -> None:
    """Each lab's finished stack (lab 5 with its replicator and two queues, ...) exports to
    a template without cfn-lint findings."""
    stack = part.stack(LabSettings.for_backend("aws"), None)  # type: ignore[attr-defined]
    assert lint(template(stack)) == []


def test_template_has_every_lab_resource() -> None:
    """Stream, four tables, four policies, roles, log groups, functions and three mappings."""
    document = template(lab_stack(FINISHED, LabSettings.for_backend("aws")))
    types = [r["Type"] for r in document["Resources"].values()]  # type: ignore[union-attr]
    assert types.count("AWS::Kinesis::Stream") == 1
    assert types.count("AWS::DynamoDB::Table") == 4
    assert types.count("AWS::IAM::ManagedPolicy") == 4
    assert types.count("AWS::IAM::Role") == 4
    assert types.count("AWS::Logs::LogGroup") == 4
    assert types.count("AWS::Lambda::Function") == 4
    assert types.count("AWS::Lambda::EventSourceMapping") == 3


def test_policies_use_pseudo_parameters_and_mappings_use_stream_attributes() -> None:
    """ARNs in policies are Fn::Sub with AWS::Region/AccountId; mappings point at the
    table's StreamArn or the stream's Arn; S3 code comes from parameters."""
    document = template(small_stack())
    resources = document["Resources"]
    statement = resources["FnPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/Items"
    }
    mapping = resources["FnItemsMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["Items", "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    code = resources["FnFunction"]["Properties"]["Code"]
    assert code["S3Bucket"] == {"Ref": "CodeBucket"}
    assert set(document["Parameters"]) == {"ShardCount", "CodeBucket", "CodeKeyPrefix"}


def test_parameter_items_are_listed_in_metadata() -> None:
    """Items CloudFormation cannot create are listed under Metadata for labkit to write."""
    document = template(small_stack())
    assert document["Metadata"]["labkit"]["Items"] == [{"parameter": "RATE", "value": 5}]


def test_logical_ids_are_alphanumeric() -> None:
    """Names with prefixes and slashes become valid logical ids."""
    assert logical_id("labkit-StateTable") == "LabkitStateTable"
    assert logical_id("/aws/lambda/X", "LogGroup") == "AwsLambdaXLogGroup"
