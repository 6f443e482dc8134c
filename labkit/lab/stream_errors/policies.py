"""Least-privilege policies of lab 5's two execution roles.

* ErrorsProcessor: its logs; read ErrorsSource's stream (what Lambda's poller calls); write the
  invocation log (PutItem, and UpdateItem for its counters); PutItem on ErrorsWindows. From
  lab5.step2 on, also ``sqs:SendMessage`` on ErrorsFailures: Lambda sends a discarded batch's
  failure record with the function's role, and refuses a destination the role cannot reach.
* ErrorsQuarantiner: its logs; find, receive and delete messages of ErrorsFailures; read
  ErrorsSource's stream (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords); PutItem on
  ErrorsQuarantine.
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

from .names import Function, StreamErrorsNames


def _logs(names: StreamErrorsNames, function: Function) -> Statement:
    group = log_group_arn_template(names.log_group(function))
    return Statement(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def send_statement(names: StreamErrorsNames) -> Statement:
    """What lab5.step2 adds to ErrorsProcessorPolicy."""
    return Statement("SendFailureRecords", ("sqs:SendMessage",), (queue_arn_template(names.queue),))


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
