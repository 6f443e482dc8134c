"""The least-privilege policies of lab 4's two execution roles, and what each step needs.

* counter-upload-processor: write its logs, read the uploaded objects under ``path/to/data/``
  (``s3:GetObjectVersion`` too, since it reads the version an event names) and UpdateItem on
  the state table;
* counter-upload-aggregator: write its logs, read the state table's stream (what Lambda's
  poller calls: DescribeStream, GetRecords, GetShardIterator) and UpdateItem on the aggregate
  table (BatchWriteItem as well, for the batched version of the last experiment).

There is no ``dynamodb:DescribeStreams`` action, whatever the material says: IAM would refuse
the policy (or, for ``Resource: "*"``, the statement simply never applies).
"""

from __future__ import annotations

from labkit.deploy.resources import (
    PolicyDocument,
    Statement,
    log_group_arn_template,
    table_arn_template,
    table_stream_arn_template,
)
from labkit.iam import Requirement, lambda_log_requirements

from .names import DATA_PREFIX, CounterFunction, CounterNames

STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


def _logs(names: CounterNames, function: CounterFunction) -> Statement:
    group = log_group_arn_template(names.log_group(function))
    return Statement(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def objects_arn(bucket: str) -> str:
    return f"arn:${{AWS::Partition}}:s3:::{bucket}/{DATA_PREFIX}*"


def policy_document(
    names: CounterNames, function: CounterFunction, bucket: str, *, batch: bool = False
) -> PolicyDocument:
    """The policy of ``function``'s role (``bucket``: the lab's bucket name)."""
    if function is CounterFunction.PROCESSOR:
        return PolicyDocument(
            (
                _logs(names, function),
                Statement(
                    "ReadUploads", ("s3:GetObject", "s3:GetObjectVersion"), (objects_arn(bucket),)
                ),
                Statement(
                    "UpdateState",
                    ("dynamodb:UpdateItem",),
                    (table_arn_template(names.state_table),),
                ),
            )
        )
    writes = (
        ("dynamodb:UpdateItem", "dynamodb:BatchWriteItem") if batch else ("dynamodb:UpdateItem",)
    )
    return PolicyDocument(
        (
            _logs(names, function),
            Statement(
                "ReadStateStream", STREAM_READ, (table_stream_arn_template(names.state_table),)
            ),
            Statement("UpdateTotals", writes, (table_arn_template(names.aggregate_table),)),
        )
    )


def requirements(
    names: CounterNames, function: CounterFunction, bucket: str, region: str, account: str
) -> tuple[Requirement, ...]:
    """What ``function``'s role must allow (for :func:`labkit.iam.check_least_privilege`)."""
    logs = lambda_log_requirements(names.function(function), region, account)
    if function is CounterFunction.PROCESSOR:
        key = f"arn:aws:s3:::{bucket}/{DATA_PREFIX}2015-11-16/values_i-deadbeef"
        return (
            *logs,
            Requirement("s3:GetObject", key),
            Requirement("s3:GetObjectVersion", key),
            Requirement(
                "dynamodb:UpdateItem",
                f"arn:aws:dynamodb:{region}:{account}:table/{names.state_table}",
            ),
        )
    table = f"arn:aws:dynamodb:{region}:{account}:table/{names.state_table}"
    stream = f"{table}/stream/2015-11-16T00:00:00.000"
    return (
        *logs,
        *(Requirement(action, stream) for action in STREAM_READ),
        Requirement(
            "dynamodb:UpdateItem",
            f"arn:aws:dynamodb:{region}:{account}:table/{names.aggregate_table}",
        ),
    )
