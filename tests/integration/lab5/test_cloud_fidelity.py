"""Where lab 5's experiments touch the local cloud, it behaves as AWS does (plain boto3)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.cloud import control
from labkit.testing import RunningCloud, make_zip, policy_document

STREAM_READ = {
    "Effect": "Allow",
    "Action": [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ],
    "Resource": "*",
}
LOGS = {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}
SEND = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
PUBLISH = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}

POWERTOOLS_HANDLER = """
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

def record_handler(record):
    if record.dynamodb.new_image.get("poison"):
        raise ValueError("poison")

def lambda_handler(event, context):
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context)
"""


def _setup(cloud: RunningCloud, *statements: dict[str, Any], source: str = "") -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    table = f"fidelity-{suffix}"
    stream = cloud.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    role = cloud.create_role(policy_document(*statements))
    function = f"fidelity-{suffix}"
    cloud.client("lambda").create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={
            "ZipFile": make_zip(
                {"lambda_function.py": source or "def lambda_handler(e, c):\n    return None\n"}
            )
        },
    )
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic_arn = cloud.client("sns").create_topic(Name=f"topic-{suffix}")["TopicArn"]
    return {
        "table": table,
        "stream": stream,
        "function": function,
        "queue_url": url,
        "queue": queue_arn,
        "topic": topic_arn,
    }


def _destination(arn: str) -> dict[str, Any]:
    return {"OnFailure": {"Destination": arn}}


def test_create_refused_when_role_cannot_send_to_the_queue(cloud: RunningCloud) -> None:
    """A mapping whose on-failure queue the role cannot SendMessage to is refused as on AWS."""
    made = _setup(cloud, STREAM_READ, LOGS)
    with pytest.raises(ClientError) as raised:
        cloud.client("lambda").create_event_source_mapping(
            FunctionName=made["function"],
            EventSourceArn=made["stream"],
            StartingPosition="TRIM_HORIZON",
            DestinationConfig=_destination(made["queue"]),
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == (
        "The provided execution role does not have permissions to call SendMessage on SQS"
    )
    assert (
        cloud.client("lambda").list_event_source_mappings(FunctionName=made["function"])[
            "EventSourceMappings"
        ]
        == []
    )


def test_create_refused_when_role_cannot_publish_to_the_topic(cloud: RunningCloud) -> None:
    """An SNS on-failure destination needs sns:Publish; without it AWS's message names Publish."""
    made = _setup(cloud, STREAM_READ, LOGS, SEND)
    with pytest.raises(ClientError) as raised:
        cloud.client("lambda").create_event_source_mapping(
            FunctionName=made["function"],
            EventSourceArn=made["stream"],
            StartingPosition="TRIM_HORIZON",
            DestinationConfig=_destination(made["topic"]),
        )
    assert raised.value.response["Error"]["Message"] == (
        "The provided execution role does not have permissions to call Publish on SNS"
    )


def test_update_refused_and_mapping_unchanged(cloud: RunningCloud) -> None:
    """Adding an unreachable destination by UpdateEventSourceMapping is refused and changes
    nothing; with the permission granted the same update succeeds."""
    made = _setup(cloud, STREAM_READ, LOGS)
    lam = cloud.client("lambda")
    mapping = lam.create_event_source_mapping(
        FunctionName=made["function"],
        EventSourceArn=made["stream"],
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
    )
    with pytest.raises(ClientError) as raised:
        lam.update_event_source_mapping(
            UUID=mapping["UUID"],
            MaximumRetryAttempts=3,
            DestinationConfig=_destination(made["queue"]),
        )
    assert "call SendMessage on SQS" in raised.value.response["Error"]["Message"]
    unchanged = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert unchanged["DestinationConfig"] == {}
    assert unchanged["MaximumRetryAttempts"] == 1
    role = lam.get_function_configuration(FunctionName=made["function"])["Role"]
    cloud.client("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[-1],
        PolicyName="send",
        PolicyDocument=policy_document(SEND),
    )
    updated = lam.update_event_source_mapping(
        UUID=mapping["UUID"], DestinationConfig=_destination(made["queue"])
    )
    assert updated["DestinationConfig"] == _destination(made["queue"])


def test_destination_on_a_permitted_role_is_accepted(cloud: RunningCloud) -> None:
    """With sqs:SendMessage on the queue, the mapping is created with its destination."""
    made = _setup(cloud, STREAM_READ, LOGS, SEND)
    mapping = cloud.client("lambda").create_event_source_mapping(
        FunctionName=made["function"],
        EventSourceArn=made["stream"],
        StartingPosition="TRIM_HORIZON",
        DestinationConfig=_destination(made["queue"]),
    )
    assert mapping["DestinationConfig"] == _destination(made["queue"])


def test_failure_record_is_lost_when_the_role_can_no_longer_send(cloud: RunningCloud) -> None:
    """Lambda sends a failure record with the function's role: once the role has lost
    sqs:SendMessage, the discarded batch's record never reaches the queue."""
    failing = "def lambda_handler(e, c):\n    raise ValueError('poison')\n"
    made = _setup(cloud, STREAM_READ, LOGS, SEND, source=failing)
    lam = cloud.client("lambda")
    lam.create_event_source_mapping(
        FunctionName=made["function"],
        EventSourceArn=made["stream"],
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig=_destination(made["queue"]),
    )
    role = lam.get_function_configuration(FunctionName=made["function"])["Role"]
    cloud.client("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[-1],
        PolicyName="main",
        PolicyDocument=policy_document(STREAM_READ, LOGS),
    )
    cloud.client("dynamodb").put_item(TableName=made["table"], Item={"id": {"S": "poison"}})
    cloud.wait_idle(60)
    answer = cloud.client("sqs").receive_message(QueueUrl=made["queue_url"], WaitTimeSeconds=0)
    assert answer.get("Messages", []) == []


def test_powertools_batch_processor_runs_locally(cloud: RunningCloud) -> None:
    """A handler using aws_lambda_powertools' BatchProcessor runs in the local runtime and its
    partial batch response reaches the engine: only the poison record is reported failed."""
    made = _setup(cloud, STREAM_READ, LOGS, SEND, source=POWERTOOLS_HANDLER)
    ddb = cloud.client("dynamodb")
    for index in range(3):
        item = {"id": {"S": f"item-{index}"}}
        if index == 1:
            item["poison"] = {"BOOL": True}
        ddb.put_item(TableName=made["table"], Item=item)
    cloud.client("lambda").create_event_source_mapping(
        FunctionName=made["function"],
        EventSourceArn=made["stream"],
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig=_destination(made["queue"]),
    )
    cloud.wait_idle(60)
    messages = (
        cloud.client("sqs")
        .receive_message(QueueUrl=made["queue_url"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    [record] = [json.loads(m["Body"]) for m in messages]
    info = record["DDBStreamBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # item-0 was checkpointed; the retried rest (item-1, item-2) was discarded together.
    assert info["batchSize"] == 2


def test_public_powertools_layer_is_accepted(cloud: RunningCloud) -> None:
    """A function may name AWS's public Powertools layer (its code is already in the local
    runtime); an unknown layer of another account is still refused."""
    made = _setup(cloud, STREAM_READ, LOGS)
    lam = cloud.client("lambda")
    layer = (
        "arn:aws:lambda:us-east-1:017000801446:layer:"
        "AWSLambdaPowertoolsPythonV3-python312-x86_64:25"
    )
    lam.update_function_configuration(FunctionName=made["function"], Layers=[layer])
    found = lam.get_function_configuration(FunctionName=made["function"])
    assert [entry["Arn"] for entry in found["Layers"]] == [layer]
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(
            FunctionName=made["function"],
            Layers=["arn:aws:lambda:us-east-1:999999999999:layer:other:1"],
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_backdated_records_are_discarded_unsent(cloud: RunningCloud) -> None:
    """Records already older than MaximumRecordAgeInSeconds when first read never reach the
    function: the destination gets RecordAgeExceeded with approximateInvokeCount 0."""
    made = _setup(cloud, STREAM_READ, LOGS, SEND)
    cloud.client("dynamodb").put_item(TableName=made["table"], Item={"id": {"S": "old"}})
    assert control.backdate_stream(cloud.endpoint, made["stream"], 120) == 1
    cloud.client("lambda").create_event_source_mapping(
        FunctionName=made["function"],
        EventSourceArn=made["stream"],
        StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60,
        DestinationConfig=_destination(made["queue"]),
    )
    cloud.wait_idle(60)
    messages = cloud.client("sqs").receive_message(QueueUrl=made["queue_url"])["Messages"]
    [record] = [json.loads(m["Body"]) for m in messages]
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    stream = cloud.client("dynamodbstreams")
    shard = stream.describe_stream(StreamArn=made["stream"])["StreamDescription"]["Shards"][0]
    iterator = stream.get_shard_iterator(
        StreamArn=made["stream"],
        ShardId=shard["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=record["DDBStreamBatchInfo"]["startSequenceNumber"],
    )["ShardIterator"]
    [again] = stream.get_records(ShardIterator=iterator)["Records"]
    assert again["dynamodb"]["Keys"] == {"id": {"S": "old"}}


def test_backdating_a_missing_stream_is_a_clear_error(cloud: RunningCloud) -> None:
    """Backdating a stream that does not exist says so instead of failing silently."""
    with pytest.raises(control.CloudError, match="cannot backdate"):
        control.backdate_stream(
            cloud.endpoint, "arn:aws:dynamodb:us-east-1:123456789012:table/none/stream/x", 60
        )
