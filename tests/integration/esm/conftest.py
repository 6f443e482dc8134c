"""Building blocks for event source mapping tests: streams, functions, and what they saw."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from labkit.testing import ALLOW_ALL_POLICY, RunningCloud, make_zip, policy_document

policy = policy_document
ALLOW_ALL = ALLOW_ALL_POLICY

#: A handler that logs each invocation's records as one JSON line, then behaves as the records
#: ask: a record whose item has {"fail": true} makes the whole invocation fail.
RECORDING_HANDLER = """
import json, os

def ids(event):
    found = []
    for record in event.get("Records", []):
        if "dynamodb" in record:
            found.append(record["dynamodb"]["Keys"]["id"]["S"])
        else:
            import base64
            found.append(json.loads(base64.b64decode(record["kinesis"]["data"]))["id"])
    return found

def lambda_handler(event, context):
    print("SEEN " + json.dumps({"ids": ids(event), "event": event}))
    mode = os.environ.get("MODE", "")
    poisoned = [i for i in ids(event) if i.startswith("poison")]
    if mode == "fail-on-poison" and poisoned:
        raise ValueError("poison record " + poisoned[0])
    if mode == "report-poison":
        return {"batchItemFailures": [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event["Records"] if r["dynamodb"]["Keys"]["id"]["S"].startswith("poison")]}
    if mode == "always-fail":
        raise RuntimeError("always failing")
    return None
"""


@dataclass
class Pipeline:
    """A table with a stream, a function reading it, and the means to look inside."""

    cloud: RunningCloud
    table: str
    stream_arn: str
    function: str
    role: str

    def put(self, *ids: str, **attributes: Any) -> None:
        ddb = self.cloud.client("dynamodb")
        for item_id in ids:
            item = {"id": {"S": item_id}}
            item.update({k: {"S": str(v)} for k, v in attributes.items()})
            ddb.put_item(TableName=self.table, Item=item)

    def map(self, **settings: Any) -> dict[str, Any]:
        settings.setdefault("StartingPosition", "TRIM_HORIZON")
        mapping: dict[str, Any] = self.cloud.client("lambda").create_event_source_mapping(
            FunctionName=self.function, EventSourceArn=self.stream_arn, **settings
        )
        return mapping

    def invocations(self) -> list[dict[str, Any]]:
        """Every invocation the function logged, oldest first."""
        return [json.loads(m[len("SEEN ") :]) for m in self.log_lines() if m.startswith("SEEN ")]

    def seen_ids(self) -> list[list[str]]:
        return [invocation["ids"] for invocation in self.invocations()]

    def log_lines(self) -> list[str]:
        logs = self.cloud.client("logs")
        group = f"/aws/lambda/{self.function}"
        try:
            streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        events: list[tuple[int, str]] = []
        for stream in streams:
            found = logs.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
            )["events"]
            events.extend((e["timestamp"], e["message"]) for e in found)
        return [message for _, message in sorted(events, key=lambda pair: pair[0])]


def wait_idle(cloud: RunningCloud, timeout: float = 60) -> None:
    """Block until every mapping has caught up and no invocation is running."""
    cloud.wait_idle(timeout)


def create_role(cloud: RunningCloud, document: str = ALLOW_ALL) -> str:
    return cloud.create_role(document)


MakePipeline = Callable[..., Pipeline]


def build_pipeline(
    cloud: RunningCloud,
    mode: str = "",
    view: str = "NEW_AND_OLD_IMAGES",
    role_policy: str = ALLOW_ALL,
    source: str = RECORDING_HANDLER,
    timeout: int = 30,
) -> Pipeline:
    """A fresh table + stream + recording function (MODE set from ``mode``)."""
    suffix = uuid.uuid4().hex[:8]
    table = f"esm-{suffix}"
    stream = cloud.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )["TableDescription"]["LatestStreamArn"]
    role = create_role(cloud, role_policy)
    function = f"reader-{suffix}"
    cloud.client("lambda").create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Timeout=timeout,
        Environment={"Variables": {"MODE": mode}},
        Code={"ZipFile": make_zip({"lambda_function.py": source})},
    )
    return Pipeline(cloud, table, stream, function, role)


@pytest.fixture
def make_pipeline(cloud: RunningCloud) -> MakePipeline:
    """Build pipelines in the shared cloud."""

    def build(**options: Any) -> Pipeline:
        return build_pipeline(cloud, **options)

    return build
