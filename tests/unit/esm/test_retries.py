"""Function errors: identical retries, retry limits, record age, bisecting, throttles."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labkit.esm import InvokeOutcome, Throttled
from labkit.esm.testing import FUNCTION_ARN, FakeInvoker, FakeStreamSource

from .conftest import DLQ_ARN, Harness

EVENTS = Path(__file__).resolve().parents[2] / "events" / "esm"
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def fail_always(_event: dict[str, Any]) -> Any:
    raise ValueError("boom")


def shape(value: Any) -> Any:
    """The structure of a JSON document: keys and value types, not values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def test_retries_resend_the_identical_payload(harness: Harness) -> None:
    """A failed batch is retried with byte-identical payloads (md5(str(records)) is stable)."""
    failures = iter([True, True])

    def flaky(event: dict[str, Any]) -> Any:
        if next(failures, False):
            raise RuntimeError("transient")
        return None

    harness.handler = flaky
    harness.put(5)
    harness.create()
    harness.engine.wait_idle(5)
    calls = harness.invoker.calls
    assert len(calls) == 3
    assert calls[0].payload == calls[1].payload == calls[2].payload
    digests = {hashlib.md5(str(call.records).encode()).hexdigest() for call in calls}
    assert len(digests) == 1
    assert all(0 < pause <= 1.0 for pause in harness.clock.sleeps)


def test_retry_limit_discards_to_the_on_failure_destination(harness: Harness) -> None:
    """MaximumRetryAttempts 2 invokes 3 times, then sends AWS's invocation record and moves on."""
    harness.handler = fail_always
    written = harness.put(3)
    uuid = harness.create(
        MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}}
    )
    harness.engine.wait_idle(5)
    assert len(harness.invoker.calls) == 3
    [message] = harness.destinations.messages(DLQ_ARN)
    canonical = json.loads((EVENTS / "ddb_on_failure_record.json").read_text())
    assert shape(message) == shape(canonical)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["requestContext"]["functionArn"] == FUNCTION_ARN
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["version"] == "1.0"
    assert ISO_MILLIS.match(message["timestamp"])
    info = message["DDBStreamBatchInfo"]
    assert info["shardId"] == harness.source.shards()[0].shard_id
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (written[0], written[-1])
    assert info["batchSize"] == 3
    assert info["streamArn"] == harness.source.arn
    assert ISO_SECONDS.match(info["approximateArrivalOfFirstRecord"])
    assert ISO_SECONDS.match(info["approximateArrivalOfLastRecord"])
    assert harness.engine.get(uuid)["LastProcessingResult"] == "PROBLEM: Function call failed"
    stats = harness.engine.stats()[uuid]
    assert stats["counters"]["records_discarded"] == 3
    assert stats["recent"][-1]["outcome"] == "discarded"


def test_zero_retries_means_one_invocation(harness: Harness) -> None:
    """MaximumRetryAttempts 0 discards after the first failure (approximateInvokeCount 1)."""
    harness.handler = fail_always
    harness.put(1)
    harness.create(
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}}
    )
    harness.engine.wait_idle(5)
    assert len(harness.invoker.calls) == 1
    [message] = harness.destinations.messages()
    assert message["requestContext"]["approximateInvokeCount"] == 1


def test_kinesis_failure_record_uses_kinesis_batch_info(
    make_harness: Callable[..., Harness],
) -> None:
    """A discarded Kinesis batch is described under KinesisBatchInfo with millisecond arrivals."""
    harness = make_harness(kind="kinesis")
    harness.handler = fail_always
    harness.source.put_data("pk", {"a": 1})
    harness.engine.create(
        {
            "EventSourceArn": harness.source.arn,
            "FunctionName": "fn",
            "StartingPosition": "TRIM_HORIZON",
            "MaximumRetryAttempts": 0,
            "DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}},
        },
        harness.source,
    )
    harness.engine.wait_idle(5)
    [message] = harness.destinations.messages()
    canonical = json.loads((EVENTS / "kinesis_on_failure_record.json").read_text())
    assert shape(message) == shape(canonical)
    assert ISO_MILLIS.match(message["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"])


def test_record_age_limit_discards_old_batches(harness: Harness) -> None:
    """With MaximumRecordAgeInSeconds 60, a failing batch is discarded once it is 60 s old."""
    harness.handler = fail_always
    harness.put(2)
    harness.create(
        MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}}
    )
    harness.engine.wait_idle(10)
    [message] = harness.destinations.messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    calls = harness.invoker.calls
    assert message["requestContext"]["approximateInvokeCount"] == len(calls) > 1
    assert len({call.payload for call in calls}) == 1


def test_records_already_too_old_are_never_sent(harness: Harness) -> None:
    """Records older than MaximumRecordAgeInSeconds when first read are discarded unsent
    (approximateInvokeCount 0); the younger rest of the batch is invoked."""
    old = harness.put(2, arrival=harness.clock() - 120)
    fresh = harness.put(1)
    harness.create(
        MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}}
    )
    harness.engine.wait_idle(5)
    [message] = harness.destinations.messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 0
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (old[0], old[-1])
    [call] = harness.invoker.calls
    assert [r["dynamodb"]["SequenceNumber"] for r in call.records] == fresh


def test_infinite_age_means_the_stream_retention(harness: Harness) -> None:
    """With -1, a DynamoDB record older than the 24 h retention is discarded after failing."""
    harness.handler = fail_always
    harness.put(1, arrival=harness.clock() - 25 * 3600)
    harness.create(DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}})
    harness.engine.wait_idle(5)
    assert len(harness.invoker.calls) == 1
    [message] = harness.destinations.messages()
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"


def test_bisect_isolates_one_poison_record(harness: Harness) -> None:
    """Bisecting a batch of 100 processes the 99 good records and discards only the poison one."""
    written = harness.put(100)
    poison = written[37]

    def handler(event: dict[str, Any]) -> Any:
        if any(r["dynamodb"]["SequenceNumber"] == poison for r in event["Records"]):
            raise ValueError("poison")
        return None

    harness.handler = handler
    uuid = harness.create(
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
    )
    harness.engine.wait_idle(10)
    succeeded = [
        seq
        for call in harness.invoker.calls
        if poison not in call.sequence_numbers
        for seq in call.sequence_numbers
    ]
    assert succeeded == [seq for seq in written if seq != poison]
    [message] = harness.destinations.messages()
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["batchSize"]) == (poison, 1)
    # Splits are free; the lone poison record gets 1 invocation + 2 retries.
    assert message["requestContext"]["approximateInvokeCount"] == 3
    poisoned_calls = [c for c in harness.invoker.calls if poison in c.sequence_numbers]
    assert [len(c.records) for c in poisoned_calls] == [100, 50, 25, 13, 6, 3, 1, 1, 1]
    assert any(entry["bisected"] for entry in harness.engine.stats()[uuid]["recent"])


class ThrottlingInvoker(FakeInvoker):
    """Throttles the first few invocations before running the handler."""

    def __init__(self, throttles: int) -> None:
        super().__init__(lambda event: None)
        self.remaining = throttles

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        if self.remaining > 0:
            self.remaining -= 1
            self.throttles += 1
            raise Throttled("Rate Exceeded.")
        return super().invoke(function_arn, payload)


def test_throttles_are_retried_without_using_retry_attempts(
    make_harness: Callable[..., Harness],
) -> None:
    """A throttled batch is retried after short pauses and is not discarded with 0 retries."""
    harness = make_harness(invoker=ThrottlingInvoker(throttles=5))
    harness.put(2)
    uuid = harness.create(
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}}
    )
    harness.engine.wait_idle(5)
    assert len(harness.invoker.calls) == 1
    assert harness.destinations.messages() == []
    assert all(pause <= 0.25 for pause in harness.clock.sleeps)
    assert harness.engine.stats()[uuid]["counters"]["throttles"] == 1


class BrokenInvoker(FakeInvoker):
    """Fails the first invocation in the transport, the second with HTTP 500."""

    def __init__(self) -> None:
        super().__init__(lambda event: None)
        self.attempt = 0

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.attempt += 1
        if self.attempt == 1:
            raise ConnectionResetError("runtime went away")
        if self.attempt == 2:
            return InvokeOutcome(500, b"", None, "$LATEST", "r-2", 1.0)
        return super().invoke(function_arn, payload)


def test_invoker_errors_and_non_2xx_are_function_errors(
    make_harness: Callable[..., Harness],
) -> None:
    """An invoker exception or a non-2xx status is retried like a function error."""
    harness = make_harness(invoker=BrokenInvoker())
    harness.put(1)
    uuid = harness.create()
    harness.engine.wait_idle(5)
    recent = harness.engine.stats()[uuid]["recent"]
    assert [entry["outcome"] for entry in recent] == ["error", "error", "ok"]
    assert recent[0]["error_type"] == "ConnectionResetError"
    assert harness.engine.get(uuid)["LastProcessingResult"] == "OK"


def test_source_is_retried_after_read_errors(harness: Harness) -> None:
    """A failing read is logged and retried; no record is lost."""
    harness.source.fail_reads = 2
    written = harness.put(3)
    harness.create()
    harness.engine.wait_idle(5)
    assert harness.delivered() == written


__all__ = ["FakeStreamSource"]
