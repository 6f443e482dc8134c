"""Every resource kind exports to CloudFormation, and the export passes cfn-lint."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import cfnlint.api

from labkit.deploy.cloudformation import template
from labkit.deploy.resources import Stack, Target

from .conftest import small_stack
from .test_planner_mappings import hardened
from .test_planner_tables import COUNTERS, LOGFILE


def lint(document: dict[str, Any]) -> list[str]:
    return [str(match) for match in cfnlint.api.lint(json.dumps(document))]


def resources_of(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in document["Resources"].values() if r["Type"] == kind]


def test_tables_with_indexes_and_capacity() -> None:
    """Indexes, provisioned capacity and sort keys appear as CloudFormation writes them."""
    document = template(Stack(tables=(LOGFILE, COUNTERS)))
    assert lint(document) == []
    logfile, counters = resources_of(document, "AWS::DynamoDB::Table")
    assert logfile["Properties"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 5,
        "WriteCapacityUnits": 5,
    }
    index = logfile["Properties"]["GlobalSecondaryIndexes"][0]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["bytessent"]}
    assert counters["Properties"]["KeySchema"][1] == {"AttributeName": "Date", "KeyType": "RANGE"}
    by_date = counters["Properties"]["GlobalSecondaryIndexes"][0]
    assert by_date["ProvisionedThroughput"] == {"ReadCapacityUnits": 1, "WriteCapacityUnits": 10}


def test_mapping_with_every_option() -> None:
    """A hardened mapping exports its retries, age, bisect, partial responses, window,
    filters and an on-failure destination outside the stack as an ARN."""
    stack = small_stack()
    mapping = hardened(stack.mappings[0])
    document = template(dataclasses.replace(stack, mappings=(mapping,)))
    assert lint(document) == []
    (exported,) = resources_of(document, "AWS::Lambda::EventSourceMapping")
    properties = exported["Properties"]
    assert properties["MaximumRecordAgeInSeconds"] == 60
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["TumblingWindowInSeconds"] == 30
    assert properties["FilterCriteria"]["Filters"][0]["Pattern"] == mapping.filters[0]
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::Sub": Target("sqs", "failures").arn_template()
    }
