"""ReportBatchItemFailures: which responses succeed, fail, or checkpoint part of a batch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labkit.esm import InvokeOutcome
from labkit.esm.responses import judge
from labkit.esm.testing import RawResponse

from .conftest import DLQ_ARN, Harness

SEQUENCES = ["100", "200", "300", "400"]


def outcome(body: bytes, function_error: str | None = None) -> InvokeOutcome:
    return InvokeOutcome(200, body, function_error, "$LATEST", "req", 1.0)


def failures(*identifiers: Any, key: str = "itemIdentifier") -> bytes:
    return json.dumps({"batchItemFailures": [{key: i} for i in identifiers]}).encode()


def verdict_of(body: bytes, **kwargs: Any) -> tuple[str, int]:
    verdict = judge(
        outcome(body, **kwargs), SEQUENCES, report_item_failures=True, needs_state=False
    )
    return verdict.kind, verdict.failed_index


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}'],
    ids=["empty body", "null", "empty object", "empty list", "null list"],
)
def test_these_responses_mean_the_whole_batch_succeeded(body: bytes) -> None:
    """Empty, null, {}, an empty or a null batchItemFailures list are complete successes."""
    assert verdict_of(body)[0] == "ok"


@pytest.mark.parametrize(
    "body",
    [
        failures(None),
        failures(""),
        failures("999"),
        failures("200", key="itemId"),
        b"{not json",
        failures(200),
    ],
    ids=[
        "null identifier",
        "empty identifier",
        "unknown identifier",
        "wrong key",
        "invalid JSON",
        "number identifier",
    ],
)
def test_these_responses_fail_the_whole_batch(body: bytes) -> None:
    """A null, empty, unknown or misnamed itemIdentifier, or invalid JSON, fails the batch."""
    assert verdict_of(body)[0] == "failed"


def test_checkpoint_is_at_the_lowest_failed_item() -> None:
    """Several reported failures make a partial failure at the lowest sequence number."""
    assert verdict_of(failures("400", "200", "300")) == ("partial", 1)


def test_function_error_fails_the_batch_whatever_the_body() -> None:
    """A function error fails the batch even if its payload looks like a success."""
    assert verdict_of(b"{}", function_error="Unhandled")[0] == "failed"


def test_responses_are_ignored_without_report_batch_item_failures() -> None:
    """Without ReportBatchItemFailures, any response of a successful call is a success."""
    verdict = judge(outcome(b"{not json"), SEQUENCES, report_item_failures=False, needs_state=False)
    assert verdict.kind == "ok"


def test_partial_failure_checkpoints_and_retries_from_the_failed_record(
    harness: Harness,
) -> None:
    """Records before the lowest failure are checkpointed; the retry starts at that record."""
    written = harness.put(5)
    responses = iter(
        [{"batchItemFailures": [{"itemIdentifier": written[3]}, {"itemIdentifier": written[1]}]}]
    )

    def handler(_event: dict[str, Any]) -> Any:
        return next(responses, {"batchItemFailures": []})

    harness.handler = handler
    uuid = harness.create(FunctionResponseTypes=["ReportBatchItemFailures"])
    harness.engine.wait_idle(5)
    calls = harness.invoker.calls
    assert [call.sequence_numbers for call in calls] == [written, written[1:]]
    stats = harness.engine.stats()[uuid]
    assert stats["shards"][harness.source.shards()[0].shard_id]["checkpoint"] == written[-1]
    assert [entry["outcome"] for entry in stats["recent"]] == ["partial", "ok"]


def test_partial_failures_count_as_retries(harness: Harness) -> None:
    """A record that keeps being reported failed is discarded when retries run out."""
    written = harness.put(3)

    def handler(event: dict[str, Any]) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": written[2]}]}

    harness.handler = handler
    harness.create(
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
    )
    harness.engine.wait_idle(5)
    assert [call.sequence_numbers for call in harness.invoker.calls] == [written, written[2:]]
    [message] = harness.destinations.messages()
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == written[2]
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_invalid_response_retries_the_identical_batch(harness: Harness) -> None:
    """A response that is not JSON fails the whole batch, which is retried byte for byte."""
    responses = iter([RawResponse(b"<html>oops</html>")])
    harness.handler = lambda event: next(responses, None)
    harness.put(3)
    harness.create(FunctionResponseTypes=["ReportBatchItemFailures"])
    harness.engine.wait_idle(5)
    first, second = harness.invoker.calls
    assert first.payload == second.payload


def test_partial_failure_with_bisect_splits_at_the_failed_record(harness: Harness) -> None:
    """With both settings on, the batch is cut at the reported record, not in halves."""
    written = harness.put(6)
    responses = iter([{"batchItemFailures": [{"itemIdentifier": written[4]}]}])
    harness.handler = lambda event: next(responses, None)
    harness.create(
        FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=True
    )
    harness.engine.wait_idle(5)
    assert [call.sequence_numbers for call in harness.invoker.calls] == [written, written[4:]]
