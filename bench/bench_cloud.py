"""How fast the local cloud starts, and its DynamoDB write rates next to stock moto's server.

Writes bench/results/cloud.json. Goals: ready in 2 s or less; no slower than stock moto.
Run: .venv/bin/python bench/bench_cloud.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import rss_mb, stock_moto_server, write_results

from labkit.cloud import control
from labkit.testing import free_port

OPERATIONS = 400
STARTS = 3


def client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}),
    )


def time_to_ready() -> list[float]:
    timings = []
    for _ in range(STARTS):
        with tempfile.TemporaryDirectory() as data:
            started = time.perf_counter()
            control.start(free_port(), Path(data))
            timings.append(time.perf_counter() - started)
            control.stop(Path(data))
    return timings


def write_rates(endpoint: str) -> dict[str, float]:
    ddb = client(endpoint)
    ddb.create_table(
        TableName="Bench",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    # Like the lab's AggregateTable: 19 counters, no stream, updated by transactions.
    ddb.create_table(
        TableName="Aggregates",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    rates: dict[str, float] = {}

    def measure(name: str, call: Any) -> None:
        started = time.perf_counter()
        for n in range(OPERATIONS):
            call(n)
        rates[name] = round(OPERATIONS / (time.perf_counter() - started), 1)

    measure(
        "put_item_per_s",
        lambda n: ddb.put_item(TableName="Bench", Item={"id": {"S": f"i{n}"}, "v": {"N": str(n)}}),
    )
    measure(
        "update_item_per_s",
        lambda n: ddb.update_item(
            TableName="Bench",
            Key={"id": {"S": f"i{n % 50}"}},
            UpdateExpression="ADD v :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
    )
    # The pipeline's hot request: StateLambda keeping the newest version of a trade.
    measure(
        "state_lambda_update_item_per_s",
        lambda n: ddb.update_item(
            TableName="Bench",
            Key={"id": {"S": f"trade-{n}"}},
            UpdateExpression="SET #value = :value, #version = :version, "
            "#hierarchy = :hierarchy, #timestamp = :timestamp",
            ConditionExpression="attribute_not_exists(id) OR #version < :version",
            ExpressionAttributeNames={
                "#value": "Value",
                "#version": "Version",
                "#hierarchy": "Hierarchy",
                "#timestamp": "Timestamp",
            },
            ExpressionAttributeValues={
                ":value": {"N": f"{n}.25"},
                ":version": {"N": "1"},
                ":hierarchy": {
                    "M": {
                        "RiskType": {"S": "PV"},
                        "Region": {"S": "EMEA"},
                        "TradeDesk": {"S": "FX"},
                    }
                },
                ":timestamp": {"N": "1700000000.5"},
            },
        ),
    )
    measure(
        "transact_write_items_per_s",
        lambda n: ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "Aggregates",
                        "Key": {"id": {"S": f"agg{k}"}},
                        "UpdateExpression": "ADD v :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
                for k in range(19)
            ]
        ),
    )
    return rates


def main() -> None:
    ready = time_to_ready()
    with tempfile.TemporaryDirectory() as data:
        info = control.start(free_port(), Path(data))
        try:
            labkit_rates = write_rates(info.endpoint)
            labkit_rates["rss_mb_after"] = rss_mb(info.pid)
        finally:
            control.stop(Path(data))
    with stock_moto_server(free_port()) as (endpoint, pid):
        moto_rates = write_rates(endpoint)
        moto_rates["rss_mb_after"] = rss_mb(pid)
    results = {
        "ready_seconds": {
            "median": round(statistics.median(ready), 3),
            "max": round(max(ready), 3),
            "runs": [round(t, 3) for t in ready],
        },
        "operations_per_measure": OPERATIONS,
        "labkit": labkit_rates,
        "stock_moto": moto_rates,
        "labkit_vs_moto": {
            k: round(labkit_rates[k] / moto_rates[k], 2) for k in labkit_rates if k.endswith("_s")
        },
        "goals": {"ready_seconds_max": 2.0, "labkit_vs_moto_min": 1.0},
    }
    path = write_results("cloud", results)
    print(path.read_text())


if __name__ == "__main__":
    main()
