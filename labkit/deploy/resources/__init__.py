"""Resources as plain data: what should exist, independent of how it is created.

These frozen dataclasses know nothing of boto3. The planner compares them with what exists and
produces API calls; :mod:`labkit.deploy.cloudformation` turns the same objects into a template.

ARNs inside policies are written as templates with CloudFormation's pseudo parameters
(``arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/StateTable``), so one
policy serves both: the planner fills them in for the account at hand, the template keeps them
as ``Fn::Sub``.

By kind: :mod:`.dynamodb` (tables, indexes, capacity, items), :mod:`.compute` (Kinesis
streams, log groups, functions, permissions, mappings), :mod:`.iam` (policies, roles),
:mod:`.messaging` (queues, topics, subscriptions, buckets, notifications), :mod:`.policy`
(policy documents), :mod:`.base` (names, tags, ARN templates, :class:`Target`).
"""

from __future__ import annotations

from .base import (
    ACCOUNT_ID,
    LAMBDA_SERVICE,
    Environment,
    Pairs,
    Tags,
    Target,
    TargetKind,
    aws_managed_policy_arn_template,
    bucket_arn_template,
    function_arn_template,
    kinesis_stream_arn_template,
    log_group_arn_template,
    queue_arn_template,
    table_arn_template,
    table_index_arn_template,
    table_stream_arn_template,
    tags_of,
    topic_arn_template,
)
from .compute import (
    EventSourceMapping,
    Function,
    KinesisStream,
    LogGroup,
    Permission,
    StreamSource,
    filter_pattern,
)
from .dynamodb import (
    AttributeType,
    GlobalIndex,
    ProjectionType,
    StreamView,
    Table,
    TableItem,
    Throughput,
)
from .iam import InlinePolicy, ManagedPolicy, Role
from .messaging import Bucket, Notification, Queue, Subscription, Topic
from .policy import Condition, PolicyDocument, Principal, Statement, trust_policy
from .stack import Stack, merge

__all__ = [
    "ACCOUNT_ID",
    "LAMBDA_SERVICE",
    "AttributeType",
    "Bucket",
    "Condition",
    "Environment",
    "EventSourceMapping",
    "Function",
    "GlobalIndex",
    "InlinePolicy",
    "KinesisStream",
    "LogGroup",
    "ManagedPolicy",
    "Notification",
    "Pairs",
    "Permission",
    "PolicyDocument",
    "Principal",
    "ProjectionType",
    "Queue",
    "Role",
    "Stack",
    "Statement",
    "StreamSource",
    "StreamView",
    "Subscription",
    "Table",
    "TableItem",
    "Tags",
    "Target",
    "TargetKind",
    "Throughput",
    "Topic",
    "aws_managed_policy_arn_template",
    "bucket_arn_template",
    "filter_pattern",
    "function_arn_template",
    "kinesis_stream_arn_template",
    "log_group_arn_template",
    "merge",
    "queue_arn_template",
    "table_arn_template",
    "table_index_arn_template",
    "table_stream_arn_template",
    "tags_of",
    "topic_arn_template",
    "trust_policy",
]
