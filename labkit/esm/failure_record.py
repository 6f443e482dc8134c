"""The invocation record an on-failure destination receives for a discarded batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from labkit.esm.ports import InvokeOutcome, SourceKind, SourceRecord
from labkit.esm.timefmt import iso_millis, iso_seconds

Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]


def build_failure_record(
    *,
    kind: SourceKind,
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    records: Sequence[SourceRecord],
    condition: Condition,
    invoke_count: int,
    last_outcome: InvokeOutcome,
    now: float,
) -> dict[str, Any]:
    """Describe a discarded batch; the records themselves are not included (as in AWS)."""
    arrival = iso_seconds if kind == "dynamodb" else iso_millis
    first, last = records[0], records[-1]
    batch_info = {
        "shardId": shard_id,
        "startSequenceNumber": first.sequence_number,
        "endSequenceNumber": last.sequence_number,
        "approximateArrivalOfFirstRecord": arrival(first.approximate_arrival),
        "approximateArrivalOfLastRecord": arrival(last.approximate_arrival),
        "batchSize": len(records),
        "streamArn": stream_arn,
    }
    return {
        "requestContext": {
            "requestId": last_outcome.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": last_outcome.status_code,
            "executedVersion": last_outcome.executed_version,
            "functionError": last_outcome.function_error,
        },
        "version": "1.0",
        "timestamp": iso_millis(now),
        ("DDBStreamBatchInfo" if kind == "dynamodb" else "KinesisBatchInfo"): batch_info,
    }
