"""Least-privilege policies of the lab's four execution roles.

Every function may write its own logs and read ParameterTable (the failure settings). Beyond
that, each gets exactly what its code and its event source mapping use:

* StateLambda: read IncomingDataStream (what Lambda's Kinesis poller calls), UpdateItem on
  StateTable;
* MapLambda: read StateTable's stream, PutItem on ReduceTable;
* ReduceLambda: nothing more at first; lab1.step2 adds reading ReduceTable's stream and
  UpdateItem on AggregateTable (a transaction's Update is authorised as UpdateItem);
* GeneratorLambda: PutRecords on IncomingDataStream.

``dynamodb:ListStreams`` and ``kinesis:ListStreams`` are left out: they cannot be limited to a
resource, and neither Lambda's pollers nor the functions need them.
"""

from __future__ import annotations

from labkit.deploy.resources import (
    PolicyDocument,
    Statement,
    kinesis_stream_arn_template,
    log_group_arn_template,
    table_arn_template,
    table_stream_arn_template,
)

from .names import FunctionId, Names

DYNAMODB_STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
KINESIS_STREAM_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


def _logs(names: Names, function: FunctionId) -> Statement:
    group = log_group_arn_template(names.log_group(function))
    return Statement(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def _parameters(names: Names) -> Statement:
    return Statement(
        "ReadParameterTable", ("dynamodb:GetItem",), (table_arn_template(names.parameter_table),)
    )


def reduce_stream_statements(names: Names) -> tuple[Statement, ...]:
    """What lab1.step2 adds to ReduceLambdaPolicy."""
    return (
        Statement(
            "ReadReduceTableStream",
            DYNAMODB_STREAM_READ,
            (table_stream_arn_template(names.reduce_table),),
        ),
        Statement(
            "UpdateAggregateTable",
            ("dynamodb:UpdateItem",),
            (table_arn_template(names.aggregate_table),),
        ),
    )


def policy_document(
    names: Names, function: FunctionId, *, reduce_complete: bool = True
) -> PolicyDocument:
    """The policy of ``function``'s role (ReduceLambda's at its start if not complete)."""
    base = (_logs(names, function), _parameters(names))
    if function is FunctionId.STATE:
        extra: tuple[Statement, ...] = (
            Statement(
                "ReadIncomingDataStream",
                KINESIS_STREAM_READ,
                (kinesis_stream_arn_template(names.incoming_stream),),
            ),
            Statement(
                "WriteStateTable",
                ("dynamodb:UpdateItem",),
                (table_arn_template(names.state_table),),
            ),
        )
    elif function is FunctionId.MAP:
        extra = (
            Statement(
                "ReadStateTableStream",
                DYNAMODB_STREAM_READ,
                (table_stream_arn_template(names.state_table),),
            ),
            Statement(
                "WriteReduceTable", ("dynamodb:PutItem",), (table_arn_template(names.reduce_table),)
            ),
        )
    elif function is FunctionId.REDUCE:
        extra = reduce_stream_statements(names) if reduce_complete else ()
    else:
        extra = (
            Statement(
                "SendToIncomingDataStream",
                ("kinesis:PutRecords",),
                (kinesis_stream_arn_template(names.incoming_stream),),
            ),
        )
    return PolicyDocument(base + extra)
