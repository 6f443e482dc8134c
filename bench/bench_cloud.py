"""How fast the local cloud starts, its DynamoDB write rates next to stock moto's server, and
what checking every request (Host, origin, size, SigV4 signature, shape) costs.

Writes bench/results/cloud.json. Goals: ready in 2 s or less; no slower than stock moto; the
checks cost at most 10 % of put_item and update_item rates. The checks are measured side by
side: a guarded and an unguarded cloud run at once, and short rounds alternate between them
(in alternating order), so that load from elsewhere on the machine hits both alike. Besides
requests per second of wall-clock time, each round counts the CPU time the cloud process used,
which load from other processes hardly changes.
Run: .venv/bin/python bench/bench_cloud.py            (everything, into cloud.json)
     .venv/bin/python bench/bench_cloud.py --checks   (only the checks, into security.json)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, rss_mb, stock_moto_server, write_results

from labkit.cloud import control
from labkit.testing import free_port

OPERATIONS = 400
STARTS = 3
#: Rounds of the guarded/unguarded comparison, and requests per round and operation.
SECURITY_ROUNDS = 24
SECURITY_OPERATIONS = 200


def client(endpoint: str) -> Any:
    # The clouds started here know their credentials; stock moto takes any.
    credentials = control.credentials_for(endpoint)
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key if credentials else "testing",
        aws_secret_access_key=credentials.secret_key if credentials else "testing",
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


def create_tables(ddb: Any) -> None:
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


def put_item(ddb: Any, n: int) -> None:
    ddb.put_item(TableName="Bench", Item={"id": {"S": f"i{n}"}, "v": {"N": str(n)}})


def update_item(ddb: Any, n: int) -> None:
    ddb.update_item(
        TableName="Bench",
        Key={"id": {"S": f"i{n % 50}"}},
        UpdateExpression="ADD v :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def write_rates(endpoint: str) -> dict[str, float]:
    ddb = client(endpoint)
    create_tables(ddb)
    rates: dict[str, float] = {}

    def measure(name: str, call: Any) -> None:
        started = time.perf_counter()
        for n in range(OPERATIONS):
            call(n)
        rates[name] = round(OPERATIONS / (time.perf_counter() - started), 1)

    measure("put_item_per_s", lambda n: put_item(ddb, n))
    measure("update_item_per_s", lambda n: update_item(ddb, n))
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


def door_cpu_us(operation: str, body: dict[str, Any], repeats: int = 7) -> float:
    """CPU microseconds the door spends on one signed request (best of ``repeats`` runs of
    1,000), measured in this process: what the checks add to each request, free of load."""
    import io

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    from labkit.cloud.auth import Door
    from labkit.cloud.auth_host import Origins
    from labkit.cloud.auth_keys import Credentials
    from labkit.cloud.awsrequest import request_headers

    keys = Credentials("LKIABENCHBENCHBENCH0", "s" * 40)
    door = Door(lambda key: keys if key == keys.access_key else None, Origins(4599))
    data = json.dumps(body).encode()
    signed = AWSRequest(
        "POST",
        "http://127.0.0.1:4599/",
        data=data,
        headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    SigV4Auth(
        ReadOnlyCredentials(keys.access_key, keys.secret_key, None), "dynamodb", "us-east-1"
    ).add_auth(signed)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "REQUEST_URI": "/",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "HTTP_HOST": "127.0.0.1:4599",
    }
    for name, value in signed.headers.items():
        if name.lower() != "content-type":
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(1000):
            request = {**environ, "wsgi.input": io.BytesIO(data)}
            door.admit(request, request_headers(request))
        best = min(best, time.process_time() - started)
    return round(best / 1000 * 1e6, 1)


def checks_cost() -> dict[str, Any]:
    """put_item and update_item per second with the request checks on and off, side by side."""
    with tempfile.TemporaryDirectory() as on_dir, tempfile.TemporaryDirectory() as off_dir:
        on = control.start(free_port(), Path(on_dir))
        off = control.start(free_port(), Path(off_dir), guarded=False)
        try:
            clients = {"on": client(on.endpoint), "off": client(off.endpoint)}
            for ddb in clients.values():
                create_tables(ddb)
                for n in range(50):  # warm up both
                    put_item(ddb, n)
            pids = {"on": on.pid, "off": off.pid}
            runs: dict[str, dict[str, list[float]]] = {
                op: {"on": [], "off": []} for op in ("put_item_per_s", "update_item_per_s")
            }
            cpu: dict[str, dict[str, list[float]]] = {op: {"on": [], "off": []} for op in runs}
            calls = {"put_item_per_s": put_item, "update_item_per_s": update_item}
            for round_number in range(SECURITY_ROUNDS):
                order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
                for operation, call in calls.items():
                    for mode in order:
                        ddb = clients[mode]
                        cpu_before = cpu_seconds(pids[mode])
                        started = time.perf_counter()
                        for n in range(SECURITY_OPERATIONS):
                            call(ddb, n)
                        elapsed = time.perf_counter() - started
                        used = cpu_seconds(pids[mode]) - cpu_before
                        runs[operation][mode].append(SECURITY_OPERATIONS / elapsed)
                        cpu[operation][mode].append(used / SECURITY_OPERATIONS * 1e6)
        finally:
            control.stop(Path(on_dir))
            control.stop(Path(off_dir))
    result: dict[str, Any] = {
        "rounds": SECURITY_ROUNDS,
        "operations_per_round": SECURITY_OPERATIONS,
    }
    for operation, modes in runs.items():
        checked, unchecked = statistics.median(modes["on"]), statistics.median(modes["off"])
        cpu_on = statistics.median(cpu[operation]["on"])
        cpu_off = statistics.median(cpu[operation]["off"])
        result[operation] = {
            "checks_on": round(checked, 1),
            "checks_off": round(unchecked, 1),
            "on_vs_off": round(checked / unchecked, 3),
            "cloud_cpu_us_per_request_on": round(cpu_on, 1),
            "cloud_cpu_us_per_request_off": round(cpu_off, 1),
            "cloud_cpu_cost_us_per_request": round(cpu_on - cpu_off, 1),
            "per_cpu_second_on_vs_off": round(cpu_off / cpu_on, 3),
            # Each round's on and off runs are neighbours in time: their ratio cancels most
            # of the load that changes from round to round.
            "paired_on_vs_off_median": round(
                statistics.median(a / b for a, b in zip(modes["on"], modes["off"], strict=True)),
                3,
            ),
        }
    result["door_cpu_us_per_request"] = {
        "put_item": door_cpu_us(
            "PutItem", {"TableName": "Bench", "Item": {"id": {"S": "i1"}, "v": {"N": "1"}}}
        ),
        "update_item": door_cpu_us(
            "UpdateItem",
            {
                "TableName": "Bench",
                "Key": {"id": {"S": "i1"}},
                "UpdateExpression": "ADD v :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            },
        ),
    }
    result["load_average_during"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    if "--checks" in sys.argv:
        path = write_results("security", {"request_checks": checks_cost()})
        print(path.read_text())
        return
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
        "request_checks": checks_cost(),
        "goals": {
            "ready_seconds_max": 2.0,
            "labkit_vs_moto_min": 1.0,
            "request_checks_on_vs_off_min": 0.9,
        },
    }
    path = write_results("cloud", results)
    print(path.read_text())


if __name__ == "__main__":
    main()
