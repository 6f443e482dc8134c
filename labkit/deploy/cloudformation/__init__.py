"""A :class:`~labkit.deploy.resources.Stack` as a CloudFormation template (a JSON document).

The template creates the same resources the planner would: Kinesis streams, tables (with
their indexes, capacity and streams), managed policies and roles (with inline and AWS managed
policies), log groups, functions, Lambda permissions and event source mappings, queues and
topics with their policies, subscriptions, and buckets with their notifications (which depend
on the policies and permissions S3 checks). Function code comes from S3 (parameters
``CodeBucket`` and ``CodeKeyPrefix``; upload ``<prefix><FunctionName>.zip`` first) or, with
``code="inline"``, is a placeholder that labkit replaces when it provisions the lab.
ParameterTable's items cannot be expressed in CloudFormation; they are listed under
``Metadata`` and written by labkit.
"""

from __future__ import annotations

from typing import Any, Literal

from ..resources import Stack
from . import compute, data, messaging
from .common import Ids, logical_id
from .compute import PLACEHOLDER_HANDLER

__all__ = ["PLACEHOLDER_HANDLER", "logical_id", "template"]


def _resources(stack: Stack, ids: Ids, code: Literal["s3", "inline"]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for s in stack.streams:
        resources[ids[f"stream:{s.name}"]] = data.stream(s)
    for t in stack.tables:
        resources[ids[f"table:{t.name}"]] = data.table(t)
    for p in stack.policies:
        resources[ids[f"policy:{p.name}"]] = compute.managed_policy(p)
    for r in stack.roles:
        resources[ids[f"role:{r.name}"]] = compute.role(r, ids)
    for g in stack.log_groups:
        resources[ids[f"log:{g.name}"]] = compute.log_group(g)
    for f in stack.functions:
        resources[ids[f"function:{f.name}"]] = compute.function(f, ids, code)
    for m in stack.mappings:
        resources[logical_id(m.function, m.source.name, "Mapping")] = compute.mapping(m, ids)
    for q in stack.queues:
        resources[ids[f"sqs:{q.name}"]] = messaging.queue(q)
        if q.policy is not None:
            resources[ids[f"sqs:{q.name}"] + "Policy"] = messaging.queue_policy(q, ids)
    for topic in stack.topics:
        resources[ids[f"sns:{topic.name}"]] = messaging.topic(topic)
        if topic.policy is not None:
            resources[ids[f"sns:{topic.name}"] + "Policy"] = messaging.topic_policy(topic, ids)
    permissions: dict[str, list[tuple[str, str]]] = {}
    for grant in stack.permissions:
        resources[compute.permission_id(grant)] = compute.permission(grant, ids)
        permissions.setdefault(grant.function, []).append(
            (grant.principal, compute.permission_id(grant))
        )
    for sub in stack.subscriptions:
        resource = messaging.subscription(sub, ids)
        needed = [i for who, i in permissions.get(sub.target.name, []) if who.startswith("sns.")]
        if sub.target.kind == "lambda" and needed:
            resource["DependsOn"] = needed
        resources[messaging.subscription_id(sub)] = resource
    for b in stack.buckets:
        depends: list[str] = []
        for n in b.notifications:
            if n.target.kind == "lambda":
                depends.extend(
                    i for who, i in permissions.get(n.target.name, []) if who.startswith("s3.")
                )
            elif (policy := ids.get(f"{n.target.kind}:{n.target.name}")) and (
                policy + "Policy" in resources
            ):
                depends.append(policy + "Policy")
        resources[ids[f"bucket:{b.name}"]] = messaging.bucket(b, ids, depends)
    return resources


def template(
    stack: Stack,
    *,
    description: str = "labkit lab resources",
    code: Literal["s3", "inline"] = "s3",
) -> dict[str, Any]:
    """The CloudFormation template of ``stack``."""
    ids = Ids(stack)
    parameters: dict[str, Any] = {}
    for stream in stack.streams:
        parameters["ShardCount"] = data.shard_parameter(stream)
    resources = _resources(stack, ids, code)
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
