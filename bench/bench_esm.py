"""Event source mapping latency and throughput: DynamoDB stream write -> handler start.

Latency is the handler's start time minus the record's ApproximateCreationDateTime (both on this
machine's clock), over 1,000 single writes. Throughput is records delivered per second for a
burst written with BatchWriteItem. Stock moto's server is tried in the same run with the same
steps. Writes bench/results/esm.json. Goals: p50 <= 20 ms, p99 <= 100 ms.
Run: .venv/bin/python bench/bench_esm.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, stock_moto_server, write_results

from labkit.cloud import control
from labkit.testing import ALLOW_ALL_POLICY, LAMBDA_TRUST_POLICY, free_port, make_zip

WRITES = 1000
BURST = 5000
HANDLER = """
import json, time
def lambda_handler(event, context):
    started = time.time()
    delays = [started - float(r["dynamodb"]["ApproximateCreationDateTime"])
              for r in event["Records"]]
    print("LAT " + json.dumps(delays))
"""


def client(endpoint: str, service: str) -> Any:
    credentials = control.credentials_for(endpoint)
    assert credentials is not None, "start the cloud with control.start first"
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        config=Config(retries={"max_attempts": 0}, read_timeout=300),
    )


def set_up(endpoint: str, table: str, function: str) -> str:
    ddb, lam, iam = (client(endpoint, s) for s in ("dynamodb", "lambda", "iam"))
    stream: str = ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    role_name = f"{function}-role"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY)[
        "Role"
    ]["Arn"]
    iam.put_role_policy(RoleName=role_name, PolicyName="all", PolicyDocument=ALLOW_ALL_POLICY)
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Timeout=60,
        Code={"ZipFile": make_zip({"lambda_function.py": HANDLER})},
    )
    lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST", BatchSize=1000
    )
    return stream


def wait_idle(endpoint: str) -> None:
    control.wait_idle(endpoint, timeout=300)


def delays_logged(endpoint: str, function: str) -> list[float]:
    logs = client(endpoint, "logs")
    group = f"/aws/lambda/{function}"
    delays: list[float] = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        token = None
        while True:
            kwargs: dict[str, Any] = {
                "logGroupName": group,
                "startFromHead": True,
                "logStreamName": stream["logStreamName"],
            }
            if token:
                kwargs["nextToken"] = token
            page = logs.get_log_events(**kwargs)
            for event in page["events"]:
                if event["message"].startswith("LAT "):
                    delays.extend(json.loads(event["message"][4:]))
            if page["nextForwardToken"] == token or not page["events"]:
                break
            token = page["nextForwardToken"]
    return delays


def measure_labkit() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data:
        info = control.start(free_port(), Path(data))
        try:
            endpoint = info.endpoint
            set_up(endpoint, "Latency", "LatencyProbe")
            ddb = client(endpoint, "dynamodb")
            for n in range(WRITES):
                ddb.put_item(TableName="Latency", Item={"id": {"S": f"w{n}"}})
            wait_idle(endpoint)
            delays_ms = [d * 1000 for d in delays_logged(endpoint, "LatencyProbe")]

            set_up(endpoint, "Burst", "BurstReader")
            started = time.perf_counter()
            for first in range(0, BURST, 25):
                ddb.batch_write_item(
                    RequestItems={
                        "Burst": [
                            {"PutRequest": {"Item": {"id": {"S": f"b{n}"}}}}
                            for n in range(first, first + 25)
                        ]
                    }
                )
            wait_idle(endpoint)
            elapsed = time.perf_counter() - started
            delivered = len(delays_logged(endpoint, "BurstReader"))
        finally:
            control.stop(Path(data))
    return {
        "latency_ms": {
            "writes": WRITES,
            "records_seen": len(delays_ms),
            "p50": round(statistics.median(delays_ms), 2),
            "p99": round(percentile(delays_ms, 0.99), 2),
            "max": round(max(delays_ms), 2),
        },
        "throughput": {
            "records": BURST,
            "delivered": delivered,
            "seconds_write_to_all_delivered": round(elapsed, 2),
            "records_per_second": round(delivered / elapsed, 1),
        },
    }


def measure_stock_moto() -> dict[str, Any]:
    with stock_moto_server(free_port()) as (endpoint, _pid):
        try:
            set_up(endpoint, "Latency", "LatencyProbe")
        except Exception as error:  # stock moto may refuse parts of the setup
            return {"handler_runs": 0, "setup_error": str(error)}
        ddb = client(endpoint, "dynamodb")
        started = time.perf_counter()
        errors = 0
        for n in range(50):
            try:
                ddb.put_item(TableName="Latency", Item={"id": {"S": f"w{n}"}})
            except Exception:
                errors += 1
        per_write_ms = (time.perf_counter() - started) / 50 * 1000
        try:
            runs = len(delays_logged(endpoint, "LatencyProbe"))
        except Exception:
            runs = 0
        return {
            "handler_runs": runs,
            "put_item_ms_with_mapping": round(per_write_ms, 2),
            "put_item_errors": errors,
            "note": "stock moto delivers inline during put_item and needs Docker to run "
            "Lambda code; with no Docker engine no handler runs, so no latency exists to "
            "measure",
        }


def main() -> None:
    results = {
        "labkit": measure_labkit(),
        "stock_moto": measure_stock_moto(),
        "goals": {"p50_ms": 20, "p99_ms": 100},
    }
    print(write_results("esm", results).read_text())


if __name__ == "__main__":
    main()
