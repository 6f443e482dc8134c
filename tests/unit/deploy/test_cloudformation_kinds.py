"""Every resource kind exports to CloudFormation, and the export passes cfn-lint."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import cfnlint.api

from labkit.deploy.cloudformation import template
from labkit.deploy.resources import (
    ACCOUNT_ID,
    InlinePolicy,
    Notification,
    Permission,
    Stack,
    Target,
    aws_managed_policy_arn_template,
    bucket_arn_template,
)

from .conftest import small_stack
from .test_planner_mappings import hardened
from .test_planner_messaging import BUCKET, FN, messaging_stack
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


def test_messaging_kinds_with_their_dependencies() -> None:
    """Queues, topics with policies, subscriptions, permissions and a bucket with
    notifications export lint-clean; the bucket waits for the topic policy S3 checks, the
    subscription for the function's permission."""
    stack = messaging_stack()
    permission = Permission(FN, "s3", "s3.amazonaws.com", bucket_arn_template(BUCKET), ACCOUNT_ID)
    bucket = dataclasses.replace(
        stack.buckets[0],
        notifications=(
            *stack.buckets[0].notifications,
            Notification("direct", Target("lambda", FN), ("s3:ObjectRemoved:*",), suffix=".csv"),
        ),
    )
    stack = dataclasses.replace(
        stack, permissions=(*stack.permissions, permission), buckets=(bucket,)
    )
    document = template(stack)
    assert lint(document) == []
    resources = document["Resources"]
    (exported,) = resources_of(document, "AWS::S3::Bucket")
    assert exported["DependsOn"] == ["ProcessorS3Permission", "UploadsTopicTopicPolicy"]
    configuration = exported["Properties"]["NotificationConfiguration"]
    assert configuration["TopicConfigurations"][0]["Topic"] == {"Ref": "UploadsTopicTopic"}
    assert configuration["LambdaConfigurations"][0]["Function"] == {
        "Fn::GetAtt": ["ProcessorFunction", "Arn"]
    }
    assert configuration["LambdaConfigurations"][0]["Filter"] == {
        "S3Key": {"Rules": [{"Name": "suffix", "Value": ".csv"}]}
    }
    assert exported["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    (subscription,) = resources_of(document, "AWS::SNS::Subscription")
    assert subscription["DependsOn"] == ["ProcessorSnsPermission"]
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": ["ProcessorFunction", "Arn"]}
    policy = resources["UploadsTopicTopicPolicy"]["Properties"]["PolicyDocument"]
    condition = policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert condition == {"Fn::Sub": "arn:${AWS::Partition}:s3:::uploads"}
    (queue,) = resources_of(document, "AWS::SQS::Queue")
    assert queue["Properties"]["VisibilityTimeout"] == 30


def test_role_with_inline_and_aws_managed_policies_and_function_layers() -> None:
    """Inline policies, AWS managed policy ARNs and layers export with Fn::Sub."""
    stack = small_stack()
    role = dataclasses.replace(
        stack.roles[0],
        inline=(InlinePolicy("logs", stack.policies[0].document),),
        managed_arns=(aws_managed_policy_arn_template("service-role/AWSLambdaBasicExecutionRole"),),
    )
    layer = "arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:Powertools:1"
    function = dataclasses.replace(stack.functions[0], layers=(layer,))
    document = template(dataclasses.replace(stack, roles=(role,), functions=(function,)))
    assert lint(document) == []
    (exported,) = resources_of(document, "AWS::IAM::Role")
    assert exported["Properties"]["Policies"][0]["PolicyName"] == "logs"
    assert exported["Properties"]["ManagedPolicyArns"][1] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    }
    (fn,) = resources_of(document, "AWS::Lambda::Function")
    assert fn["Properties"]["Layers"] == [{"Fn::Sub": layer}]
