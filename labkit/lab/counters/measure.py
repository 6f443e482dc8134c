"""Beyond the material: what the counter pipeline costs and how quickly it reacts, measured.

* :func:`request_counts` reads what the pipeline did: locally from the cloud's status
  (requests by caller, service and operation, and what S3 and SNS did for each other); on AWS
  from CloudWatch metrics (Lambda invocations and duration, DynamoDB capacity, SNS publishes).
* :data:`PRICES` is a small, dated price table to edit; :func:`monthly_cost` turns the counts
  per upload into a monthly bill at the material's load (100 instances × 100 counters every
  60 s), beside the material's own 2015 estimate (:data:`MATERIAL_2015`).
* :func:`upload_round` uploads one round of counter files and measures how long the totals
  take to follow (the upload → aggregate latency).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .names import BY_DATE, CounterNames, upload_key

#: List prices in us-east-1 (USD), as published in 2025; edit them for your region and today.
PRICES: dict[str, float] = {
    "lambda_per_million_requests": 0.20,
    "lambda_per_gb_second": 0.0000166667,
    "dynamodb_per_million_writes": 0.625,  # on-demand write request units
    "dynamodb_per_million_reads": 0.125,  # on-demand read request units
    "sns_per_million_publishes": 0.50,  # deliveries to Lambda are free
    "s3_per_thousand_puts": 0.005,
    "s3_per_thousand_gets": 0.0004,
}
PRICES_DATED = "2025 list prices, us-east-1"

#: The material's estimate (2015, provisioned capacity), in USD per year.
MATERIAL_2015 = {"DynamoDB": 2279.0, "Lambda": 2192.0, "reaction time": "0.1 to 51 s"}
#: The material's load: 100 instances upload 100 counters each every 60 seconds.
MATERIAL_UPLOADS_PER_MONTH = 100 * 60 * 24 * 30

Counts = dict[str, float]


def _local_counts(status: Mapping[str, Any], names: CounterNames) -> Counts:
    counts: Counts = {}
    for caller, services in status.get("requests", {}).items():
        for service, operations in services.items():
            for operation, n in operations.items():
                key = f"{service}.{operation}"
                counts[key] = counts.get(key, 0) + n
                if caller != "learner":
                    counts[f"{caller}:{key}"] = counts.get(f"{caller}:{key}", 0) + n
    for name, n in status.get("events", {}).items():
        counts[name] = float(n)
    for function in (names.processor, names.aggregator):
        figures = status.get("functions", {}).get(function, {})
        counts[f"lambda.invocations:{function}"] = float(figures.get("invocations", 0))
        counts[f"lambda.duration_ms:{function}"] = float(figures.get("total_duration_ms", 0.0))
    return counts


def _aws_counts(cloudwatch: Any, names: CounterNames, since: datetime) -> Counts:
    end = datetime.now(UTC) + timedelta(minutes=1)

    def total(namespace: str, metric: str, dimension: str, value: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": dimension, "Value": value}],
            StartTime=since,
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return float(sum(p["Sum"] for p in points))

    counts: Counts = {}
    for function in (names.processor, names.aggregator):
        counts[f"lambda.invocations:{function}"] = total(
            "AWS/Lambda", "Invocations", "FunctionName", function
        )
        counts[f"lambda.duration_ms:{function}"] = total(
            "AWS/Lambda", "Duration", "FunctionName", function
        )
    for table in (names.state_table, names.aggregate_table):
        counts[f"dynamodb.writes:{table}"] = total(
            "AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table
        )
    counts["sns.publishes"] = total(
        "AWS/SNS", "NumberOfMessagesPublished", "TopicName", names.topic
    )
    return counts


@dataclass
class Meter:
    """Reads the pipeline's counts now and later; :meth:`since` gives the difference."""

    read: Callable[[], Counts]
    start: Counts = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start = self.read()

    def since(self) -> Counts:
        now = self.read()
        return {k: v - self.start.get(k, 0) for k, v in now.items() if v - self.start.get(k, 0)}


def request_counts(lab: Any, names: CounterNames) -> Meter:
    """A meter of the pipeline's requests: the local cloud's counts, or CloudWatch on AWS
    (whose metrics arrive a few minutes late)."""
    if lab.backend.is_local:
        return Meter(lambda: _local_counts(lab.status(), names))
    since = datetime.now(UTC)
    cloudwatch = lab.workshop.client("cloudwatch")
    return Meter(lambda: _aws_counts(cloudwatch, names, since))


def per_upload(counts: Counts, uploads: int) -> dict[str, float]:
    """The counts that matter for the bill, per upload."""

    def total(*suffixes: str) -> float:
        return sum(v for k, v in counts.items() if ":" not in k and k.endswith(suffixes))

    invocations = sum(v for k, v in counts.items() if k.startswith("lambda.invocations:"))
    duration = sum(v for k, v in counts.items() if k.startswith("lambda.duration_ms:"))
    writes = sum(
        v
        for k, v in counts.items()
        if ":" in k and not k.startswith("lambda.") and k.endswith(("UpdateItem", "PutItem"))
    )
    batched = sum(v for k, v in counts.items() if ":" in k and k.endswith("BatchWriteItem"))
    return {
        "lambda invocations": invocations / uploads,
        "lambda ms": duration / uploads,
        "dynamodb writes": (writes + 25 * batched) / uploads,
        "sns publishes": counts.get("s3.notifications_sent", counts.get("sns.publishes", 0))
        / uploads,
        "s3 puts": total("s3.PutObject") / uploads,
        "s3 gets": sum(v for k, v in counts.items() if ":" in k and "s3.GetObject" in k) / uploads,
    }


def monthly_cost(
    per: Mapping[str, float],
    *,
    uploads: int = MATERIAL_UPLOADS_PER_MONTH,
    memory_mb: int = 256,
    prices: Mapping[str, float] = PRICES,
) -> dict[str, float]:
    """USD per month for ``uploads`` uploads, from the counts per upload."""
    gb_seconds = per["lambda ms"] / 1000 * memory_mb / 1024
    costs = {
        "Lambda requests": per["lambda invocations"] * prices["lambda_per_million_requests"] / 1e6,
        "Lambda duration": gb_seconds * prices["lambda_per_gb_second"],
        "DynamoDB writes": per["dynamodb writes"] * prices["dynamodb_per_million_writes"] / 1e6,
        "SNS publishes": per["sns publishes"] * prices["sns_per_million_publishes"] / 1e6,
        "S3 requests": per["s3 puts"] * prices["s3_per_thousand_puts"] / 1e3
        + per["s3 gets"] * prices["s3_per_thousand_gets"] / 1e3,
    }
    return {k: round(v * uploads, 2) for k, v in costs.items()}


@dataclass(frozen=True)
class Round:
    """One round of uploads: how many files, and how long until every total was right."""

    number: int
    uploads: int
    seconds: float


def upload_round(
    lab: Any,
    names: CounterNames,
    bucket: str,
    *,
    number: int,
    instances: int,
    counters: int,
    date: str = "2001-01-01",
    timeout: float = 120.0,
    seed: int = 0,
) -> Round:
    """Every instance uploads ``counters`` new values; returns when every total of ``date``
    matches (polling the ByDate index), with the time that took."""
    rng = random.Random(f"{seed}-{number}")
    s3 = lab.workshop.client("s3")
    dynamodb = lab.workshop.client("dynamodb")
    values = {
        (f"i-load{i:03d}", f"LOAD{c:03d}"): rng.randint(0, 1000)
        for i in range(instances)
        for c in range(counters)
    }
    expected: dict[str, int] = {}
    for (_, counter), value in values.items():
        expected[counter] = expected.get(counter, 0) + value
    started = time.perf_counter()
    for i in range(instances):
        instance = f"i-load{i:03d}"
        body = "".join(
            f"LOAD{c:03d} {values[(instance, f'LOAD{c:03d}')]}\n" for c in range(counters)
        )
        s3.put_object(Bucket=bucket, Key=upload_key(date, instance), Body=body.encode())
    deadline = started + timeout
    while True:
        found = dynamodb.query(
            TableName=names.aggregate_table,
            IndexName=BY_DATE,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "Date"},
            ExpressionAttributeValues={":d": {"S": date}},
        )["Items"]
        totals = {i["Counter"]["S"]: int(i["Value"]["N"]) for i in found if "Value" in i}
        if all(totals.get(k) == v for k, v in expected.items()):
            return Round(number, instances, time.perf_counter() - started)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"round {number}: the totals did not follow within {timeout:.0f} s")
        time.sleep(0.02)
