"""IAM policies and roles, log groups, functions, permissions and event source mappings as
CloudFormation resources."""

from __future__ import annotations

from typing import Any, Literal

from ..resources import (
    EventSourceMapping,
    Function,
    LogGroup,
    ManagedPolicy,
    Permission,
    Role,
    trust_policy,
)
from .common import Ids, logical_id, policy_document, sub, tags

PLACEHOLDER_HANDLER = (
    "def lambda_handler(event, context):\n"
    "    raise RuntimeError(\n"
    '        "This function still has the placeholder code of the CloudFormation template: "\n'
    '        "deploy the lab code with labkit (Workshop.provision) or upload the zips to S3."\n'
    "    )\n"
)


def managed_policy(p: ManagedPolicy) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ManagedPolicyName": p.name,
        "PolicyDocument": policy_document(p.document),
    }
    if p.description:
        properties["Description"] = p.description
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}


def role(r: Role, ids: Ids) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "RoleName": r.name,
        "AssumeRolePolicyDocument": trust_policy(r.service),
        "ManagedPolicyArns": [
            *({"Ref": ids[f"policy:{name}"]} for name in r.policies),
            *(sub(arn) for arn in r.managed_arns),
        ],
    }
    if r.inline:
        properties["Policies"] = [
            {"PolicyName": p.name, "PolicyDocument": policy_document(p.document)} for p in r.inline
        ]
    if r.description:
        properties["Description"] = r.description
    if r.tags:
        properties["Tags"] = tags(r.tags)
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def log_group(g: LogGroup) -> dict[str, Any]:
    properties: dict[str, Any] = {"LogGroupName": g.name}
    if g.retention_days is not None:
        properties["RetentionInDays"] = g.retention_days
    if g.tags:
        properties["Tags"] = tags(g.tags)
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": properties,
    }


def function(f: Function, ids: Ids, code: Literal["s3", "inline"]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "FunctionName": f.name,
        "Runtime": f.runtime,
        "Timeout": f.timeout,
        "MemorySize": f.memory_size,
        "Role": {"Fn::GetAtt": [ids[f"role:{f.role}"], "Arn"]},
    }
    if code == "inline":
        # CloudFormation stores inline Python code as index.py.
        properties["Handler"] = "index.lambda_handler"
        properties["Code"] = {"ZipFile": PLACEHOLDER_HANDLER}
    else:
        properties["Handler"] = f.handler
        properties["Code"] = {
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Fn::Sub": "${CodeKeyPrefix}" + f.name + ".zip"},
        }
    if f.description:
        properties["Description"] = f.description
    if f.environment:
        properties["Environment"] = {"Variables": {k: sub(v) for k, v in f.environment}}
    if f.layers:
        properties["Layers"] = [sub(layer) for layer in f.layers]
    if f.reserved_concurrency is not None:
        properties["ReservedConcurrentExecutions"] = f.reserved_concurrency
    if f.tags:
        properties["Tags"] = tags(f.tags)
    resource: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": properties}
    group = ids.get(f"log:/aws/lambda/{f.name}")
    if group is not None:
        resource["DependsOn"] = [group]
    return resource


def permission(p: Permission, ids: Ids) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "FunctionName": ids.function_ref(p.function),
        "Action": p.action,
        "Principal": p.principal,
    }
    if p.source_arn is not None:
        properties["SourceArn"] = sub(p.source_arn)
    if p.source_account is not None:
        properties["SourceAccount"] = sub(p.source_account)
    return {"Type": "AWS::Lambda::Permission", "Properties": properties}


def permission_id(p: Permission) -> str:
    return logical_id(p.function, p.statement_id, "Permission")


def mapping(m: EventSourceMapping, ids: Ids) -> dict[str, Any]:
    if m.source.kind == "kinesis":
        source: Any = {"Fn::GetAtt": [ids[f"stream:{m.source.name}"], "Arn"]}
    else:
        source = {"Fn::GetAtt": [ids[f"table:{m.source.name}"], "StreamArn"]}
    properties: dict[str, Any] = {
        "FunctionName": ids.function_ref(m.function),
        "EventSourceArn": source,
        "StartingPosition": m.starting_position,
        "BatchSize": m.batch_size,
        "MaximumBatchingWindowInSeconds": m.maximum_batching_window,
        "ParallelizationFactor": m.parallelization_factor,
        "MaximumRetryAttempts": m.maximum_retry_attempts,
        "BisectBatchOnFunctionError": m.bisect_on_error,
        "Enabled": m.enabled,
    }
    if m.maximum_record_age != -1:
        properties["MaximumRecordAgeInSeconds"] = m.maximum_record_age
    if m.tumbling_window:
        properties["TumblingWindowInSeconds"] = m.tumbling_window
    if m.report_batch_item_failures:
        properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    if m.on_failure is not None:
        properties["DestinationConfig"] = {
            "OnFailure": {"Destination": ids.target_arn(m.on_failure)}
        }
    if m.filters:
        properties["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in m.filters]}
    return {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}
