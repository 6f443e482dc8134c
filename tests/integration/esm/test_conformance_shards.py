"""Multi-shard behaviour of event source mappings: ordering, concurrency, isolation, restarts."""

from __future__ import annotations

import json
import uuid
from itertools import pairwise
from typing import Any

from labkit.testing import RunningCloud, make_zip

from .conftest import ALLOW_ALL, Pipeline, build_pipeline, create_role, wait_idle

TIMED_HANDLER = """
import base64, json, time
def lambda_handler(event, context):
    records = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
    started = time.time()
    time.sleep(0.05)
    poisoned = any(r.get("poison") for r in records)
    print("SEEN " + json.dumps({"ids": [r["id"] for r in records], "event": {
        "start": started, "end": time.time(), "keys": [r["key"] for r in records],
        "shard": event["Records"][0]["eventID"].split(":")[0], "poisoned": poisoned}}))
    if poisoned:
        raise ValueError("poison")
"""


def kinesis_pipeline(cloud: RunningCloud, shards: int, source: str = TIMED_HANDLER) -> Pipeline:
    suffix = uuid.uuid4().hex[:8]
    kinesis = cloud.client("kinesis")
    stream = f"incoming-{suffix}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    role = create_role(cloud, ALLOW_ALL)
    function = f"kreader-{suffix}"
    cloud.client("lambda").create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Timeout=30,
        Code={"ZipFile": make_zip({"lambda_function.py": source})},
    )
    return Pipeline(cloud, stream, arn, function, role)


def send(pipeline: Pipeline, records: list[dict[str, Any]]) -> None:
    kinesis = pipeline.cloud.client("kinesis")
    for start in range(0, len(records), 500):
        kinesis.put_records(
            StreamName=pipeline.table,
            Records=[
                {"Data": json.dumps(r).encode(), "PartitionKey": r["key"]}
                for r in records[start : start + 500]
            ],
        )


def test_kinesis_records_from_every_shard_are_delivered(cloud: RunningCloud) -> None:
    """A mapping on a 4-shard stream delivers every record of every shard."""
    pipeline = kinesis_pipeline(cloud, shards=4)
    pipeline.map(BatchSize=100)
    records = [{"id": f"r{n}", "key": f"k{n % 13}"} for n in range(200)]
    send(pipeline, records)
    wait_idle(cloud)
    seen = [i for batch in pipeline.seen_ids() for i in batch]
    assert sorted(seen) == sorted(r["id"] for r in records)
    assert len({i["event"]["shard"] for i in pipeline.invocations()}) > 1


def test_parallelization_factor_keeps_per_key_order(cloud: RunningCloud) -> None:
    """With ParallelizationFactor 10, records of one partition key arrive in write order."""
    pipeline = kinesis_pipeline(cloud, shards=2)
    pipeline.map(BatchSize=5, ParallelizationFactor=10)
    records = [{"id": f"{n:04d}", "key": f"k{n % 7}"} for n in range(140)]
    send(pipeline, records)
    wait_idle(cloud)
    order: dict[str, list[str]] = {}
    for invocation in sorted(pipeline.invocations(), key=lambda i: i["event"]["start"]):
        for record_id, key in zip(invocation["ids"], invocation["event"]["keys"], strict=True):
            order.setdefault(key, []).append(record_id)
    assert sum(len(v) for v in order.values()) == 140
    for ids in order.values():
        assert ids == sorted(ids)


def test_reserved_concurrency_one_serialises_all_shards(cloud: RunningCloud) -> None:
    """With reserved concurrency 1, invocations for different shards never overlap."""
    pipeline = kinesis_pipeline(cloud, shards=4)
    cloud.client("lambda").put_function_concurrency(
        FunctionName=pipeline.function, ReservedConcurrentExecutions=1
    )
    pipeline.map(BatchSize=10)
    send(pipeline, [{"id": f"r{n}", "key": f"k{n}"} for n in range(80)])
    wait_idle(cloud)
    spans = sorted((i["event"]["start"], i["event"]["end"]) for i in pipeline.invocations())
    assert len({i["event"]["shard"] for i in pipeline.invocations()}) > 1
    assert all(previous[1] <= following[0] for previous, following in pairwise(spans))


def test_poisoned_shard_does_not_block_the_others(cloud: RunningCloud) -> None:
    """While one shard retries a failing batch, the other shards keep delivering."""
    pipeline = kinesis_pipeline(cloud, shards=3)
    pipeline.map(BatchSize=10, MaximumRetryAttempts=3)
    send(pipeline, [{"id": "bad", "key": "k0", "poison": True}])
    send(pipeline, [{"id": f"good{n}", "key": f"k{n}"} for n in range(1, 60)])
    wait_idle(cloud)
    invocations = sorted(pipeline.invocations(), key=lambda i: i["event"]["start"])
    poisoned = [i for i in invocations if i["event"]["poisoned"]]
    good_shards = {i["event"]["shard"] for i in invocations if not i["event"]["poisoned"]}
    assert len(poisoned) == 4  # first try + 3 retries
    assert good_shards - {poisoned[0]["event"]["shard"]}
    last_poison_try = poisoned[-1]["event"]["start"]
    other_shard = [i for i in invocations if i["event"]["shard"] != poisoned[0]["event"]["shard"]]
    assert other_shard and other_shard[0]["event"]["start"] < last_poison_try
    delivered = {i for inv in invocations if not inv["event"]["poisoned"] for i in inv["ids"]}
    assert {f"good{n}" for n in range(1, 60)} <= delivered


def test_checkpoints_survive_down_and_up(own_cloud: RunningCloud) -> None:
    """After labkit down/up the mapping resumes after its checkpoint, without repeats."""
    pipeline = build_pipeline(own_cloud)
    pipeline.map()
    pipeline.put("before-restart")
    wait_idle(own_cloud)
    own_cloud.restart()
    pipeline.put("after-restart")
    wait_idle(own_cloud)
    assert pipeline.seen_ids() == [["before-restart"], ["after-restart"]]
    listed = own_cloud.client("lambda").list_event_source_mappings(FunctionName=pipeline.function)[
        "EventSourceMappings"
    ]
    assert len(listed) == 1 and listed[0]["State"] == "Enabled"
