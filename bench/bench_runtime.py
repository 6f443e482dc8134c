"""Function start-up and worker memory on the local cloud.

1. **First invocation of a new function**: 50 functions are created one after another and each
   is invoked once (RequestResponse) right away; the time of that first ``Invoke`` call as the
   caller sees it, and the init duration the REPORT line states. The handler imports boto3 and
   makes its DynamoDB client at module level, as the lab's functions do (goal: median ≤ 50 ms).
2. **Worker memory**: with those 50 workers warm, each worker's RSS, PSS (shared pages counted
   once) and USS (what it holds alone), from ``/proc/<pid>/smaps`` via psutil (goal: USS
   ≤ 15 MB each).

Run ``python bench/bench_runtime.py`` (about a minute). Results go to
``bench/results/runtime.json``.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, write_results

from labkit.runtime.memory import process_memory
from labkit.testing import ALLOW_ALL_POLICY, LAMBDA_TRUST_POLICY, local_cloud, make_zip

FIRST_INVOKE_GOAL_MS = 50.0
UNSHARED_GOAL_MB = 15.0
HANDLER = """
import boto3
dynamodb = boto3.client("dynamodb")

def lambda_handler(event, context):
    return {"ok": True}
"""


def stats_of(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "p99": round(percentile(values, 0.99), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def first_invocations(functions: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="labkit-bench-") as directory,
        local_cloud(Path(directory) / "cloud") as cloud,
    ):
        lam, iam = cloud.client("lambda"), cloud.client("iam")
        role = iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=LAMBDA_TRUST_POLICY)
        iam.put_role_policy(
            RoleName="bench-role", PolicyName="all", PolicyDocument=ALLOW_ALL_POLICY
        )
        code = make_zip({"lambda_function.py": HANDLER})
        lam.create_function(  # a first function, so the cloud's own first-call costs are paid
            FunctionName="warm-up",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code},
        )
        lam.invoke(FunctionName="warm-up", Payload=b"{}")
        invoke_ms: list[float] = []
        init_ms: list[float] = []
        for number in range(functions):
            name = f"first-{number}"
            lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="lambda_function.lambda_handler",
                Code={"ZipFile": code},
                Environment={"Variables": {"NUMBER": str(number)}},
            )
            started = time.perf_counter()
            answer = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
            invoke_ms.append((time.perf_counter() - started) * 1000)
            assert "FunctionError" not in answer, answer["Payload"].read()
            report = base64.b64decode(answer["LogResult"]).decode()
            found = re.search(r"Init Duration: ([0-9.]+) ms", report)
            if found:
                init_ms.append(float(found.group(1)))
        status = cloud.status()
        workers = [process_memory(pid) for pid in _worker_pids(cloud.pid, status)]
    uss = [w["uss_mb"] for w in workers]
    return {
        "functions": functions,
        "first_invoke_ms": stats_of(invoke_ms),
        "init_duration_ms": stats_of(init_ms) if init_ms else None,
        "goal_median_ms": FIRST_INVOKE_GOAL_MS,
        "meets_goal": statistics.median(invoke_ms) <= FIRST_INVOKE_GOAL_MS,
        "worker_memory_mb": {
            "workers": len(workers),
            "rss": stats_of([w["rss_mb"] for w in workers]),
            "pss": stats_of([w["pss_mb"] for w in workers]),
            "uss": stats_of(uss),
            "templates": status.get("memory", {}).get("templates"),
            "goal_uss_mb": UNSHARED_GOAL_MB,
            "meets_goal": max(uss) <= UNSHARED_GOAL_MB,
        },
    }


def _worker_pids(cloud_pid: int, status: dict[str, Any]) -> list[int]:
    """The function workers: the cloud's child processes other than the templates and any
    snapshot being written."""
    import psutil

    templates = (status.get("memory") or {}).get("templates") or {}
    skip = set(templates.get("pids") or ())
    pids = []
    for child in psutil.Process(cloud_pid).children():
        cmdline = " ".join(child.cmdline())
        if child.pid in skip or "labkit.cloud.server" in cmdline:
            continue
        pids.append(child.pid)
    return pids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--label", default="runtime", help="results file name")
    args = parser.parse_args(argv)
    one, five, _ = os.getloadavg()
    results = {"load_before": [round(one, 2), round(five, 2)], **first_invocations(args.functions)}
    one, five, _ = os.getloadavg()
    results["load_after"] = [round(one, 2), round(five, 2)]
    path = write_results(args.label, results)
    print(
        f"first invoke: median {results['first_invoke_ms']['median']} ms, p99 "
        f"{results['first_invoke_ms']['p99']} ms; worker USS median "
        f"{results['worker_memory_mb']['uss']['median']} MB; results: {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
