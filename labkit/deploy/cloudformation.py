"""A :class:`~labkit.deploy.resources.Stack` as a CloudFormation template (a JSON document).

The template creates the same resources the planner would: the Kinesis stream, the tables and
their streams, one managed policy and one role per function, log groups, the functions and
their event source mappings. Function code comes from S3 (parameters ``CodeBucket`` and
``CodeKeyPrefix``; upload ``<prefix><FunctionName>.zip`` first) or, with ``code="inline"``, is
a placeholder that labkit replaces when it provisions the lab. ParameterTable's items cannot
be expressed in CloudFormation; they are listed under ``Metadata`` and written by labkit.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from .resources import EventSourceMapping, Function, ManagedPolicy, Stack, Tags

PLACEHOLDER_HANDLER = (
    "def lambda_handler(event, context):\n"
    "    raise RuntimeError(\n"
    '        "This function still has the placeholder code of the CloudFormation template: "\n'
    '        "deploy the lab code with labkit (Workshop.provision) or upload the zips to S3."\n'
    "    )\n"
)


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id (letters and digits only) from name parts."""
    text = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", "-".join(parts)))
    return text or "Resource"


def _tags(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _sub(value: str) -> Any:
    return {"Fn::Sub": value} if "${" in value else value


def _policy_document(policy: ManagedPolicy) -> dict[str, Any]:
    document = policy.document.to_dict()
    for statement in document["Statement"]:
        resource = statement["Resource"]
        statement["Resource"] = (
            [_sub(r) for r in resource] if isinstance(resource, list) else _sub(resource)
        )
    return document


def _function(
    function: Function, ids: dict[str, str], code: Literal["s3", "inline"]
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "FunctionName": function.name,
        "Runtime": function.runtime,
        "Timeout": function.timeout,
        "MemorySize": function.memory_size,
        "Role": {"Fn::GetAtt": [ids[f"role:{function.role}"], "Arn"]},
    }
    if code == "inline":
        # CloudFormation stores inline Python code as index.py.
        properties["Handler"] = "index.lambda_handler"
        properties["Code"] = {"ZipFile": PLACEHOLDER_HANDLER}
    else:
        properties["Handler"] = function.handler
        properties["Code"] = {
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Fn::Sub": "${CodeKeyPrefix}" + function.name + ".zip"},
        }
    if function.description:
        properties["Description"] = function.description
    if function.environment:
        properties["Environment"] = {"Variables": dict(function.environment)}
    if function.reserved_concurrency is not None:
        properties["ReservedConcurrentExecutions"] = function.reserved_concurrency
    if function.tags:
        properties["Tags"] = _tags(function.tags)
    resource: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": properties}
    group = ids.get(f"log:/aws/lambda/{function.name}")
    if group is not None:
        resource["DependsOn"] = [group]
    return resource


def _mapping(mapping: EventSourceMapping, ids: dict[str, str]) -> dict[str, Any]:
    if mapping.source.kind == "kinesis":
        source: Any = {"Fn::GetAtt": [ids[f"stream:{mapping.source.name}"], "Arn"]}
    else:
        source = {"Fn::GetAtt": [ids[f"table:{mapping.source.name}"], "StreamArn"]}
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": ids[f"function:{mapping.function}"]},
            "EventSourceArn": source,
            "StartingPosition": mapping.starting_position,
            "BatchSize": mapping.batch_size,
            "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
            "ParallelizationFactor": mapping.parallelization_factor,
            "MaximumRetryAttempts": mapping.maximum_retry_attempts,
            "BisectBatchOnFunctionError": mapping.bisect_on_error,
            "Enabled": True,
        },
    }


def template(
    stack: Stack,
    *,
    description: str = "labkit lab resources",
    code: Literal["s3", "inline"] = "s3",
) -> dict[str, Any]:
    """The CloudFormation template of ``stack``."""
    ids: dict[str, str] = {}
    for s in stack.streams:
        ids[f"stream:{s.name}"] = logical_id(s.name)
    for t in stack.tables:
        ids[f"table:{t.name}"] = logical_id(t.name)
    for p in stack.policies:
        ids[f"policy:{p.name}"] = logical_id(p.name)
    for r in stack.roles:
        ids[f"role:{r.name}"] = logical_id(r.name)
    for g in stack.log_groups:
        ids[f"log:{g.name}"] = logical_id(g.name.rsplit("/", 1)[-1], "LogGroup")
    for f in stack.functions:
        ids[f"function:{f.name}"] = logical_id(f.name, "Function")

    resources: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    for s in stack.streams:
        parameters["ShardCount"] = {
            "Type": "Number",
            "Default": s.shard_count,
            "MinValue": 1,
            "Description": f"Shards of the Kinesis stream {s.name}.",
        }
        properties: dict[str, Any] = {
            "Name": s.name,
            "ShardCount": {"Ref": "ShardCount"},
            "RetentionPeriodHours": s.retention_hours,
        }
        if s.kms_key is not None:
            properties["StreamEncryption"] = {"EncryptionType": "KMS", "KeyId": s.kms_key}
        if s.tags:
            properties["Tags"] = _tags(s.tags)
        resources[ids[f"stream:{s.name}"]] = {
            "Type": "AWS::Kinesis::Stream",
            "Properties": properties,
        }
    for t in stack.tables:
        properties = {
            "TableName": t.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": t.partition_key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": t.partition_key, "KeyType": "HASH"}],
        }
        if t.stream_view is not None:
            properties["StreamSpecification"] = {"StreamViewType": str(t.stream_view)}
        if t.tags:
            properties["Tags"] = _tags(t.tags)
        resources[ids[f"table:{t.name}"]] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": properties,
        }
    for p in stack.policies:
        properties = {"ManagedPolicyName": p.name, "PolicyDocument": _policy_document(p)}
        if p.description:
            properties["Description"] = p.description
        resources[ids[f"policy:{p.name}"]] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": properties,
        }
    for r in stack.roles:
        properties = {
            "RoleName": r.name,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": r.service},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [{"Ref": ids[f"policy:{name}"]} for name in r.policies],
        }
        if r.description:
            properties["Description"] = r.description
        if r.tags:
            properties["Tags"] = _tags(r.tags)
        resources[ids[f"role:{r.name}"]] = {"Type": "AWS::IAM::Role", "Properties": properties}
    for g in stack.log_groups:
        properties = {"LogGroupName": g.name}
        if g.retention_days is not None:
            properties["RetentionInDays"] = g.retention_days
        if g.tags:
            properties["Tags"] = _tags(g.tags)
        resources[ids[f"log:{g.name}"]] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": properties,
        }
    for f in stack.functions:
        resources[ids[f"function:{f.name}"]] = _function(f, ids, code)
    for m in stack.mappings:
        name = logical_id(m.function, m.source.name, "Mapping")
        resources[name] = _mapping(m, ids)

    if code == "s3" and stack.functions:
        parameters["CodeBucket"] = {
            "Type": "String",
            "Description": "S3 bucket holding the functions' zips (built by labkit).",
            "MinLength": 3,
        }
        parameters["CodeKeyPrefix"] = {
            "Type": "String",
            "Default": "labkit/",
            "Description": "Key prefix of the zips: <prefix><FunctionName>.zip.",
        }
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
    }
    if stack.items:
        document["Metadata"] = {
            "labkit": {
                "Note": "labkit writes these items when it provisions the lab; CloudFormation "
                "cannot create table items.",
                "Items": [item.as_dict() for item in stack.items],
            }
        }
    if parameters:
        document["Parameters"] = parameters
    document["Resources"] = resources
    outputs = {
        f"{ids[f'table:{t.name}']}StreamArn": {
            "Description": f"The stream of {t.name}",
            "Value": {"Fn::GetAtt": [ids[f"table:{t.name}"], "StreamArn"]},
        }
        for t in stack.tables
        if t.stream_view is not None
    }
    if outputs:
        document["Outputs"] = outputs
    return document
