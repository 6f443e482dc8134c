"""The local cloud keeps everything across labkit down/up, and survives kill -9."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from labkit.cloud import control
from labkit.testing import ALLOW_ALL_POLICY, LAMBDA_TRUST_POLICY, RunningCloud, make_zip


def snapshot_is_clean(cloud: RunningCloud) -> bool:
    clean: bool = cloud.status()["snapshot_clean"]
    return clean


def build_everything(cloud: RunningCloud) -> dict[str, Any]:
    ddb = cloud.client("dynamodb")
    stream = ddb.create_table(
        TableName="Kept",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    for n in range(5):
        ddb.put_item(TableName="Kept", Item={"id": {"S": f"item-{n}"}, "n": {"N": str(n)}})
    iam = cloud.client("iam")
    role = iam.create_role(RoleName="KeptRole", AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY)[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName="KeptRole", PolicyName="KeptPolicy", PolicyDocument=ALLOW_ALL_POLICY
    )
    lam = cloud.client("lambda")
    lam.create_function(
        FunctionName="KeptFunction",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={
            "ZipFile": make_zip(
                {"lambda_function.py": "def lambda_handler(e, c):\n    return 'kept'\n"}
            )
        },
    )
    lam.put_function_concurrency(FunctionName="KeptFunction", ReservedConcurrentExecutions=1)
    lam.invoke(FunctionName="KeptFunction", Payload=b"{}")
    cloud.client("sqs").create_queue(QueueName="kept-queue")
    cloud.client("sns").create_topic(Name="kept-topic")
    cloud.client("s3").create_bucket(Bucket="kept-bucket")
    cloud.client("s3").put_object(Bucket="kept-bucket", Key="k", Body=b"v")
    return {"stream": stream}


def assert_everything_is_back(cloud: RunningCloud, stream: str) -> None:
    ddb = cloud.client("dynamodb")
    assert ddb.scan(TableName="Kept")["Count"] == 5
    streams = cloud.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(streams.get_records(ShardIterator=iterator)["Records"]) == 5
    iam = cloud.client("iam")
    assert iam.get_role_policy(RoleName="KeptRole", PolicyName="KeptPolicy")["PolicyName"]
    lam = cloud.client("lambda")
    assert (
        lam.get_function_concurrency(FunctionName="KeptFunction")["ReservedConcurrentExecutions"]
        == 1
    )
    assert json.loads(lam.invoke(FunctionName="KeptFunction")["Payload"].read()) == "kept"
    assert cloud.client("sqs").get_queue_url(QueueName="kept-queue")["QueueUrl"]
    assert any(
        t["TopicArn"].endswith(":kept-topic") for t in cloud.client("sns").list_topics()["Topics"]
    )
    assert cloud.client("s3").get_object(Bucket="kept-bucket", Key="k")["Body"].read() == b"v"
    groups = cloud.client("logs").describe_log_groups()["logGroups"]
    assert any(g["logGroupName"] == "/aws/lambda/KeptFunction" for g in groups)


def test_down_then_up_restores_everything(own_cloud: RunningCloud) -> None:
    """Tables, items, stream records, roles, functions, queues, topics, buckets and logs return."""
    built = build_everything(own_cloud)
    own_cloud.restart()
    assert_everything_is_back(own_cloud, built["stream"])


def wait_until_snapshot_is_clean(cloud: RunningCloud, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not snapshot_is_clean(cloud):
        assert time.monotonic() < deadline, "the snapshot did not catch up within the deadline"
        time.sleep(0.05)


def test_kill_minus_nine_loses_at_most_a_second(own_cloud: RunningCloud) -> None:
    """After kill -9 the cloud starts cleanly with what was written a second before."""
    built = build_everything(own_cloud)
    wait_until_snapshot_is_clean(own_cloud)
    os.kill(own_cloud.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while control.find_running(own_cloud.data_dir) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    info = control.start(own_cloud.port, own_cloud.data_dir)
    own_cloud.pid = info.pid
    assert_everything_is_back(own_cloud, built["stream"])
