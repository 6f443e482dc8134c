"""DDBReplicationPolicy: what the replication function's role may do.

At the start of lab3.step3 the policy lets the function write its own logs and nothing else.
The finished policy adds exactly what the replicator and its mapping use:

* ``DescribeStream``, ``GetRecords``, ``GetShardIterator`` on logfile's stream (Lambda's poller
  reads the stream with the function's role);
* ``PutItem`` and ``DeleteItem`` on the replica (inserts and changes, and deletions).

The material grants all of that on ``*`` (and misspells ``Resource`` as ``Resources`` in one
statement, which IAM refuses as a malformed document); the check warns about every grant on
``*``.
"""

from __future__ import annotations

from typing import Any

from labkit.deploy.resources import (
    PolicyDocument,
    Statement,
    log_group_arn_template,
    table_arn_template,
    table_stream_arn_template,
)
from labkit.lab.policies import DYNAMODB_STREAM_READ

from .names import ReplicationNames

REPLICA_WRITES = ("dynamodb:DeleteItem", "dynamodb:PutItem")


def _logs(names: ReplicationNames) -> Statement:
    group = log_group_arn_template(names.log_group)
    return Statement(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def replication_statements(names: ReplicationNames) -> tuple[Statement, ...]:
    """What lab3.step3 adds: read logfile's stream, put and delete in the replica."""
    return (
        Statement(
            "ReadLogfileStream",
            DYNAMODB_STREAM_READ,
            (table_stream_arn_template(names.logfile),),
        ),
        Statement("WriteReplica", REPLICA_WRITES, (table_arn_template(names.replica),)),
    )


def replication_policy(names: ReplicationNames, *, complete: bool = True) -> PolicyDocument:
    """The role's policy: logs only at first, everything the replicator needs when complete."""
    extra = replication_statements(names) if complete else ()
    return PolicyDocument((_logs(names), *extra))


def material_policy() -> dict[str, Any]:
    """The policy as the material prints it, typo and ``*`` grants included (for the notebook,
    so the learner meets AWS's refusal first-hand)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": ["*"],
            },
            {
                "Effect": "Allow",
                "Action": list(REPLICA_WRITES),
                "Resources": ["*"],
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            },
        ],
    }
