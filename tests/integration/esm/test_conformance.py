"""Event source mappings behave as AWS Lambda's do, over HTTP with real boto3."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from labkit.cloud import control
from labkit.testing import RunningCloud, make_zip

from .conftest import MakePipeline, create_role, policy, wait_idle


def sqs_queue(cloud: RunningCloud) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(cloud: RunningCloud, url: str) -> list[dict[str, Any]]:
    messages = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


# ----- API ------------------------------------------------------------------------------------


def test_create_returns_aws_defaults(make_pipeline: MakePipeline) -> None:
    """A new mapping reports AWS's defaults and the Creating state."""
    pipeline = make_pipeline()
    mapping = pipeline.map()
    assert mapping["State"] == "Creating"
    assert mapping["BatchSize"] == 100
    assert mapping["MaximumBatchingWindowInSeconds"] == 0
    assert mapping["ParallelizationFactor"] == 1
    assert mapping["MaximumRetryAttempts"] == -1
    assert mapping["MaximumRecordAgeInSeconds"] == -1
    assert mapping["BisectBatchOnFunctionError"] is False
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionArn"].endswith(f":function:{pipeline.function}")
    assert mapping["LastProcessingResult"] == "No records processed"
    got = pipeline.cloud.client("lambda").get_event_source_mapping(UUID=mapping["UUID"])
    assert got["State"] == "Enabled"


@pytest.mark.parametrize(
    ("settings", "code", "fragment"),
    [
        ({"BatchSize": 0}, "ValidationException", "batchSize"),
        ({"BatchSize": 10001}, "ValidationException", "batchSize"),
        ({"ParallelizationFactor": 11}, "ValidationException", "parallelizationFactor"),
        ({"MaximumRecordAgeInSeconds": 30}, "InvalidParameterValueException", ""),
        ({"MaximumRetryAttempts": 10001}, "ValidationException", "maximumRetryAttempts"),
        ({"TumblingWindowInSeconds": 901}, "ValidationException", "tumblingWindowInSeconds"),
        ({"MaximumBatchingWindowInSeconds": 301}, "ValidationException", "maximumBatching"),
    ],
    ids=[
        "batch-0",
        "batch-10001",
        "pf-11",
        "age-30",
        "retries-10001",
        "window-901",
        "batching-301",
    ],
)
def test_out_of_range_values_get_aws_errors(
    make_pipeline: MakePipeline, settings: dict[str, Any], code: str, fragment: str
) -> None:
    """Out-of-range settings are refused with AWS's error code."""
    pipeline = make_pipeline()
    unchecked = pipeline.cloud.client(
        "lambda", config=Config(parameter_validation=False, retries={"max_attempts": 0})
    )
    with pytest.raises(ClientError) as raised:
        unchecked.create_event_source_mapping(
            FunctionName=pipeline.function,
            EventSourceArn=pipeline.stream_arn,
            StartingPosition="TRIM_HORIZON",
            **settings,
        )
    assert raised.value.response["Error"]["Code"] == code
    assert fragment in raised.value.response["Error"]["Message"]


def test_missing_function_and_missing_stream(make_pipeline: MakePipeline) -> None:
    """A missing function is ResourceNotFound; a missing stream is InvalidParameterValue."""
    pipeline = make_pipeline()
    client = pipeline.cloud.client("lambda")
    with pytest.raises(ClientError) as raised:
        client.create_event_source_mapping(
            FunctionName="NoSuchFunction",
            EventSourceArn=pipeline.stream_arn,
            StartingPosition="LATEST",
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    missing = pipeline.stream_arn.replace(pipeline.table, "NoSuchTable")
    with pytest.raises(ClientError) as raised:
        client.create_event_source_mapping(
            FunctionName=pipeline.function, EventSourceArn=missing, StartingPosition="LATEST"
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Stream not found" in raised.value.response["Error"]["Message"]


def test_role_without_stream_read_cannot_create_mapping(make_pipeline: MakePipeline) -> None:
    """Creating a mapping whose role cannot read the stream fails with AWS's IAM message."""
    logs_only = policy({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})
    pipeline = make_pipeline(role_policy=logs_only)
    with pytest.raises(ClientError) as raised:
        pipeline.map(BatchSize=1000)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == (
        f"Cannot access stream {pipeline.stream_arn}. Please ensure the role can perform the "
        "GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream "
        "in IAM."
    )
    role_name = pipeline.role.rsplit("/", 1)[-1]
    pipeline.cloud.client("iam").put_role_policy(
        RoleName=role_name,
        PolicyName="stream",
        PolicyDocument=policy(
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": pipeline.stream_arn,
            }
        ),
    )
    assert pipeline.map(BatchSize=1000)["BatchSize"] == 1000


def test_list_filters_by_function_name_or_arn(make_pipeline: MakePipeline) -> None:
    """ListEventSourceMappings filters by function name, function ARN or source."""
    first, second = make_pipeline(), make_pipeline()
    first_uuid = first.map()["UUID"]
    second.map()
    client = first.cloud.client("lambda")
    arn = client.get_function(FunctionName=first.function)["Configuration"]["FunctionArn"]
    for name in (first.function, arn):
        listed = client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        assert [m["UUID"] for m in listed] == [first_uuid]
    by_source = client.list_event_source_mappings(EventSourceArn=first.stream_arn)
    assert [m["UUID"] for m in by_source["EventSourceMappings"]] == [first_uuid]


def test_update_and_delete(make_pipeline: MakePipeline) -> None:
    """UpdateEventSourceMapping changes settings; Delete removes the mapping."""
    pipeline = make_pipeline()
    client = pipeline.cloud.client("lambda")
    uuid_ = pipeline.map()["UUID"]
    updated = client.update_event_source_mapping(UUID=uuid_, BatchSize=1000)
    assert updated["BatchSize"] == 1000
    assert client.delete_event_source_mapping(UUID=uuid_)["State"] == "Deleting"
    with pytest.raises(ClientError) as raised:
        client.get_event_source_mapping(UUID=uuid_)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ----- delivery -------------------------------------------------------------------------------


def test_records_arrive_in_order_in_batches(make_pipeline: MakePipeline) -> None:
    """Every record is delivered once, in order, in batches no larger than BatchSize."""
    pipeline = make_pipeline()
    pipeline.map(BatchSize=7)
    ids = [f"item-{n:03d}" for n in range(30)]
    pipeline.put(*ids)
    wait_idle(pipeline.cloud)
    batches = pipeline.seen_ids()
    assert [i for batch in batches for i in batch] == ids
    assert max(len(batch) for batch in batches) <= 7
    record = pipeline.invocations()[0]["event"]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == pipeline.stream_arn
    assert record["dynamodb"]["NewImage"]["id"] == {"S": "item-000"}


def test_latest_skips_records_written_before_the_mapping(make_pipeline: MakePipeline) -> None:
    """StartingPosition LATEST delivers only records written after the mapping was created."""
    pipeline = make_pipeline()
    pipeline.put("before")
    pipeline.map(StartingPosition="LATEST")
    pipeline.put("after")
    wait_idle(pipeline.cloud)
    assert pipeline.seen_ids() == [["after"]]


def test_failed_batch_is_retried_identically_then_sent_to_destination(
    make_pipeline: MakePipeline,
) -> None:
    """A failing batch is retried with identical records, then its record goes to the DLQ."""
    pipeline = make_pipeline(mode="always-fail")
    url, queue_arn = sqs_queue(pipeline.cloud)
    pipeline.put("a", "b", "c")
    pipeline.map(
        BatchSize=10,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_idle(pipeline.cloud)
    invocations = pipeline.invocations()
    assert len(invocations) == 3
    assert all(
        json.dumps(i["event"], sort_keys=True)
        == json.dumps(invocations[0]["event"], sort_keys=True)
        for i in invocations
    )
    [record] = drain(pipeline.cloud, url)
    assert set(record) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    }
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(f":function:{pipeline.function}")
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responseContext"]["statusCode"] == 200
    info = record["DDBStreamBatchInfo"]
    assert set(info) == {
        "shardId",
        "startSequenceNumber",
        "endSequenceNumber",
        "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord",
        "batchSize",
        "streamArn",
    }
    assert info["batchSize"] == 3 and info["streamArn"] == pipeline.stream_arn
    assert "Records" not in json.dumps(record)


def test_bisect_isolates_one_poison_record_in_a_hundred(make_pipeline: MakePipeline) -> None:
    """Bisecting on error processes the 99 good records and discards only the poison one."""
    pipeline = make_pipeline(mode="fail-on-poison")
    url, queue_arn = sqs_queue(pipeline.cloud)
    ids = [f"good-{n:03d}" for n in range(100)]
    ids[57] = "poison-057"
    pipeline.put(*ids)
    pipeline.map(
        BatchSize=100,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_idle(pipeline.cloud)
    succeeded = {
        i
        for batch in pipeline.seen_ids()
        if not any(x.startswith("poison") for x in batch)
        for i in batch
    }
    assert succeeded == {i for i in ids if i.startswith("good")}
    [record] = drain(pipeline.cloud, url)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1


@pytest.mark.parametrize(
    ("response", "whole_batch_retried"),
    [
        ("'not an object'", True),
        ("None", False),
        ("{}", False),
        ('{"batchItemFailures": []}', False),
        ('{"batchItemFailures": None}', False),
        ('{"batchItemFailures": [{"itemIdentifier": None}]}', True),
        ('{"batchItemFailures": [{"itemIdentifier": ""}]}', True),
        ('{"batchItemFailures": [{"itemIdentifier": "999999999999"}]}', True),
        ('{"batchItemFailures": [{"sequenceNumber": first}]}', True),
    ],
    ids=[
        "json-string",
        "null",
        "empty-object",
        "empty-list",
        "null-list",
        "null-id",
        "empty-id",
        "unknown-id",
        "wrong-key",
    ],
)
def test_partial_batch_response_rules(
    make_pipeline: MakePipeline, response: str, whole_batch_retried: bool
) -> None:
    """Each partial-batch response form means success or a failed whole batch, as on AWS."""
    source = (
        "import json\n"
        "def lambda_handler(event, context):\n"
        "    print('SEEN ' + json.dumps({'ids': [r['dynamodb']['Keys']['id']['S'] "
        "for r in event['Records']], 'event': {}}))\n"
        "    first = event['Records'][0]['dynamodb']['SequenceNumber']\n"
        f"    return {response}\n"
    )
    pipeline = make_pipeline(source=source)
    pipeline.put("a", "b", "c")
    pipeline.map(
        BatchSize=10, MaximumRetryAttempts=1, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    wait_idle(pipeline.cloud)
    expected = [["a", "b", "c"]] * (2 if whole_batch_retried else 1)
    assert pipeline.seen_ids() == expected


def test_partial_batch_checkpoints_at_lowest_failure(make_pipeline: MakePipeline) -> None:
    """A reported failure retries from that record on, keeping the records before it."""
    pipeline = make_pipeline(mode="report-poison")
    pipeline.put("a", "b", "poison-c", "d")
    pipeline.map(
        BatchSize=10, MaximumRetryAttempts=1, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    wait_idle(pipeline.cloud)
    assert pipeline.seen_ids() == [["a", "b", "poison-c", "d"], ["poison-c", "d"]]


def test_tumbling_window_carries_state(make_pipeline: MakePipeline) -> None:
    """With a tumbling window, each invocation receives the state the previous one returned."""
    source = """
import json
def lambda_handler(event, context):
    state = event.get("state") or {}
    total = state.get("count", 0) + len(event["Records"])
    print("SEEN " + json.dumps({"ids": [], "event": {"state": state,
          "final": event.get("isFinalInvokeForWindow"), "window": event.get("window"),
          "early": event.get("isWindowTerminatedEarly")}}))
    return {"state": {"count": total}}
"""
    pipeline = make_pipeline(source=source)
    pipeline.put("a", "b", "c", "d", "e")
    pipeline.map(BatchSize=2, TumblingWindowInSeconds=900)
    wait_idle(pipeline.cloud)
    events = [i["event"] for i in pipeline.invocations()]
    states = [e["state"].get("count", 0) for e in events]
    assert states[:3] == [0, 2, 4]
    assert all(e["window"]["start"] and e["window"]["end"] for e in events)
    assert all(e["early"] is False for e in events)


def test_filters_skip_records_and_advance(make_pipeline: MakePipeline) -> None:
    """Records matching no filter are skipped; matching ones are delivered."""
    pipeline = make_pipeline()
    pattern = json.dumps({"dynamodb": {"NewImage": {"kind": {"S": ["trade"]}}}})
    pipeline.map(FilterCriteria={"Filters": [{"Pattern": pattern}]})
    pipeline.put("t1", kind="trade")
    pipeline.put("n1", kind="noise")
    pipeline.put("t2", kind="trade")
    wait_idle(pipeline.cloud)
    assert [i for batch in pipeline.seen_ids() for i in batch] == ["t1", "t2"]


def test_concurrency_zero_pauses_and_resumes_with_nothing_lost(
    make_pipeline: MakePipeline,
) -> None:
    """Reserved concurrency 0 pauses delivery; raising it delivers everything."""
    pipeline = make_pipeline()
    client = pipeline.cloud.client("lambda")
    client.put_function_concurrency(FunctionName=pipeline.function, ReservedConcurrentExecutions=0)
    pipeline.map(BatchSize=100)
    pipeline.put(*[f"i{n}" for n in range(10)])
    with pytest.raises(AssertionError, match=pipeline.function):
        wait_idle(pipeline.cloud, timeout=1)
    assert pipeline.seen_ids() == []
    client.put_function_concurrency(FunctionName=pipeline.function, ReservedConcurrentExecutions=1)
    wait_idle(pipeline.cloud)
    assert sorted(i for batch in pipeline.seen_ids() for i in batch) == sorted(
        f"i{n}" for n in range(10)
    )


def test_disable_then_enable_resumes_from_checkpoint(make_pipeline: MakePipeline) -> None:
    """A disabled mapping keeps its checkpoint; enabling it delivers only the new records."""
    pipeline = make_pipeline()
    client = pipeline.cloud.client("lambda")
    uuid_ = pipeline.map()["UUID"]
    pipeline.put("first")
    wait_idle(pipeline.cloud)
    client.update_event_source_mapping(UUID=uuid_, Enabled=False)
    pipeline.put("while-disabled")
    wait_idle(pipeline.cloud)
    assert pipeline.seen_ids() == [["first"]]
    client.update_event_source_mapping(UUID=uuid_, Enabled=True)
    wait_idle(pipeline.cloud)
    assert pipeline.seen_ids() == [["first"], ["while-disabled"]]


def test_handler_killed_mid_batch_is_retried(make_pipeline: MakePipeline) -> None:
    """A worker that dies mid-batch fails the batch, which is retried and delivered."""
    source = """
import json, os
def lambda_handler(event, context):
    print("SEEN " + json.dumps({"ids": [r["dynamodb"]["Keys"]["id"]["S"]
          for r in event["Records"]], "event": {}}))
    marker = "/tmp/labkit-killed-" + context.function_name
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(137)
"""
    pipeline = make_pipeline(source=source)
    pipeline.put("a", "b")
    pipeline.map(BatchSize=10)
    wait_idle(pipeline.cloud)
    assert pipeline.seen_ids() == [["a", "b"], ["a", "b"]]


def test_missing_update_permission_is_denied_at_run_time(make_pipeline: MakePipeline) -> None:
    """A function whose role lacks UpdateItem gets AccessDeniedException naming both."""
    stream_read = {
        "Effect": "Allow",
        "Action": [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
        "Resource": "*",
    }
    logs = {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}
    source = """
import boto3, json
from botocore.exceptions import ClientError
def lambda_handler(event, context):
    try:
        boto3.client("dynamodb").update_item(
            TableName="AggregateTarget", Key={"id": {"S": "x"}},
            UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": {"N": "1"}})
        print("SEEN " + json.dumps({"ids": ["allowed"], "event": {}}))
    except ClientError as error:
        print("SEEN " + json.dumps({"ids": [error.response["Error"]["Code"],
              error.response["Error"]["Message"]], "event": {}}))
"""
    pipeline = make_pipeline(role_policy=policy(stream_read, logs), source=source)
    pipeline.map(BatchSize=10)
    pipeline.put("a")
    wait_idle(pipeline.cloud)
    [[code, message]] = pipeline.seen_ids()
    assert code == "AccessDeniedException"
    assert "dynamodb:UpdateItem" in message
    assert "table/AggregateTarget" in message
    assert pipeline.function in message


def test_transaction_items_are_checked_as_item_actions(cloud: RunningCloud) -> None:
    """TransactWriteItems needs UpdateItem on the table, not TransactWriteItems."""
    role = create_role(
        cloud,
        policy({"Effect": "Allow", "Action": ["dynamodb:UpdateItem", "logs:*"], "Resource": "*"}),
    )
    cloud.client("dynamodb").create_table(
        TableName="TxTarget",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    source = """
import boto3
def lambda_handler(event, context):
    update = {"Update": {"TableName": "TxTarget", "Key": {"id": {"S": "x"}},
              "UpdateExpression": "ADD v :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    put = {"Put": {"TableName": "TxTarget", "Item": {"id": {"S": "y"}}}}
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=[update])
    try:
        client.transact_write_items(TransactItems=[put])
    except client.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    return "put allowed"
"""
    name = f"tx-{uuid.uuid4().hex[:6]}"
    lam = cloud.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": make_zip({"lambda_function.py": source})},
    )
    result = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert result == "AccessDeniedException"
    item = cloud.client("dynamodb").get_item(TableName="TxTarget", Key={"id": {"S": "x"}})
    assert item["Item"]["v"] == {"N": "1"}


def test_status_reports_each_invocation_and_iterator_age(make_pipeline: MakePipeline) -> None:
    """`labkit status --json` shows each mapping's counters, iterator age and invocations."""
    import subprocess
    import sys

    pipeline = make_pipeline(mode="fail-on-poison")
    pipeline.put("a", "poison-b")
    uuid_ = pipeline.map(BatchSize=10, MaximumRetryAttempts=1)["UUID"]
    wait_idle(pipeline.cloud)
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "labkit.cli",
            "status",
            "--json",
            "--data-dir",
            str(pipeline.cloud.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    mapping = json.loads(shown.stdout)["event_source_mappings"][uuid_]
    assert "iterator_age_ms" in mapping
    recent = mapping["recent"]
    failed = [entry for entry in recent if entry["outcome"] == "error"]
    assert [entry["retry_count"] for entry in failed] == [0, 1]
    assert all(entry["batch_size"] == 2 and entry["duration_ms"] >= 0 for entry in failed)
    assert failed[0]["error_type"] == "ValueError"
    [discarded] = [entry for entry in recent if entry["outcome"] == "discarded"]
    assert discarded["condition"] == "RetryAttemptsExhausted"
    text = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "status", "--data-dir", str(pipeline.cloud.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"→ {pipeline.function}" in text.stdout
    assert any(line.split()[:3] == ["mapping", "state", "age"] for line in text.stdout.splitlines())


@pytest.mark.slow
def test_records_older_than_maximum_age_are_discarded(make_pipeline: MakePipeline) -> None:
    """A batch still failing when its oldest record passes MaximumRecordAgeInSeconds is
    discarded with condition RecordAgeExceeded (ages come from ApproximateCreationDateTime).
    The record is backdated to 56 s old, so that its batch fails a few times before it is 60."""
    pipeline = make_pipeline(mode="always-fail")
    url, queue_arn = sqs_queue(pipeline.cloud)
    pipeline.put("old")
    assert control.backdate_stream(pipeline.cloud.endpoint, pipeline.stream_arn, 56) == 1
    pipeline.map(
        BatchSize=10,
        MaximumRecordAgeInSeconds=60,
        MaximumRetryAttempts=-1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_idle(pipeline.cloud, timeout=120)
    [record] = drain(pipeline.cloud, url)
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == len(pipeline.invocations())
    first = record["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"]
    assert first < record["timestamp"]
