"""Least-privilege policies of lab 5's two execution roles.

* ErrorsProcessor: its logs; read ErrorsSource's stream (what Lambda's poller calls); write the
  invocation log (PutItem, and UpdateItem for its counters); PutItem on ErrorsWindows. From
  lab5.step2 on, also ``sqs:SendMessage`` on ErrorsFailures: Lambda sends a discarded batch's
  failure record with the function's role, and refuses a destination the role cannot reach.
* ErrorsQuarantiner: its logs; find, receive and delete messages of ErrorsFailures; read
  ErrorsSource's stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords); PutItem on
  ErrorsQuarantine.
* lab5.step6's replicator: lab 05's DDBReplicationPolicy (under lab 5's names) and, once
  hardened, ``sqs:SendMessage`` on ErrorsReplicaFailures.
"""

from __future__ import annotations

from labkit.deploy.resources import (
    PolicyDocument,
    Statement,
    log_group_arn_template,
    queue_arn_template,
    table_arn_template,
    table_stream_arn_template,
)
from labkit.lab.policies import DYNAMODB_STREAM_READ
from labkit.lab.replication.policy import replication_policy

from .names import Function, StreamErrorsNames


def _logs(names: StreamErrorsNames, function: Function) -> Statement:
    group = log_group_arn_template(names.log_group(function))
    return Statement(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def send_statement(names: StreamErrorsNames, queue: str | None = None) -> Statement:
    """What lab5.step2 adds to ErrorsProcessorPolicy (and lab5.step6 to the replicator's
    policy, with its own ``queue``)."""
    target = queue_arn_template(names.queue if queue is None else queue)
    return Statement("SendFailureRecords", ("sqs:SendMessage",), (target,))


def processor_policy(names: StreamErrorsNames, *, can_send: bool) -> PolicyDocument:
    statements = [
        _logs(names, Function.PROCESSOR),
        Statement(
            "ReadSourceStream", DYNAMODB_STREAM_READ, (table_stream_arn_template(names.source),)
        ),
        Statement(
            "WriteInvocationLog",
            ("dynamodb:PutItem", "dynamodb:UpdateItem"),
            (table_arn_template(names.invocations),),
        ),
        Statement("WriteWindowTotals", ("dynamodb:PutItem",), (table_arn_template(names.windows),)),
    ]
    if can_send:
        statements.append(send_statement(names))
    return PolicyDocument(tuple(statements))


def quarantiner_policy(names: StreamErrorsNames) -> PolicyDocument:
    return PolicyDocument(
        (
            _logs(names, Function.QUARANTINER),
            Statement(
                "TakeFailureRecords",
                ("sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"),
                (queue_arn_template(names.queue),),
            ),
            Statement(
                "RereadSourceStream",
                ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
                (table_stream_arn_template(names.source),),
            ),
            Statement(
                "WriteQuarantine", ("dynamodb:PutItem",), (table_arn_template(names.quarantine),)
            ),
        )
    )


def replicator_policy(names: StreamErrorsNames, *, can_send: bool) -> PolicyDocument:
    """lab5.step6's replicator: what lab 05 grants, plus sending to its on-failure queue."""
    granted = replication_policy(names.replication).statements
    if can_send:
        granted = (*granted, send_statement(names, names.replica_queue))
    return PolicyDocument(granted)
