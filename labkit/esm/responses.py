"""Judging an invocation: success, partial batch failure, or failure of the whole batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from labkit.esm.ports import InvokeOutcome


class BatchItemFailure(TypedDict):
    """One entry of ``batchItemFailures``."""

    itemIdentifier: str


class StreamsEventResponse(TypedDict, total=False):
    """What a stream function may return: partial failures and/or tumbling-window state."""

    batchItemFailures: list[BatchItemFailure] | None
    state: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """How one invocation went.

    ``kind`` is ``ok`` (every record done), ``partial`` (records before ``failed_index`` done,
    the rest to retry) or ``failed`` (the whole batch to retry).
    """

    kind: Literal["ok", "partial", "failed"]
    failed_index: int = 0
    error_type: str | None = None
    error_message: str | None = None
    response: Any = None
    failures: tuple[BatchItemFailure, ...] = ()

    @property
    def state(self) -> dict[str, Any] | None:
        """The tumbling-window state the function returned, if it returned one."""
        if isinstance(self.response, dict) and isinstance(self.response.get("state"), dict):
            state: dict[str, Any] = self.response["state"]
            return state
        return None


def _failed(error_type: str, message: str, response: Any = None) -> Verdict:
    return Verdict("failed", error_type=error_type, error_message=message, response=response)


def _function_error(outcome: InvokeOutcome) -> Verdict:
    error_type = outcome.function_error or f"HTTP {outcome.status_code}"
    message = ""
    try:
        body = json.loads(outcome.payload or b"null")
    except ValueError:
        body = None
    if isinstance(body, dict):
        error_type = str(body.get("errorType") or error_type)
        message = str(body.get("errorMessage") or "")
    return _failed(error_type, message)


def parse_item_failures(response: Any, sequence_numbers: Sequence[str]) -> Verdict:
    """Apply the ReportBatchItemFailures rules to a parsed response.

    Success: ``None``, ``{}``, no/null/empty ``batchItemFailures``. Whole-batch failure: an
    entry whose ``itemIdentifier`` is missing (wrong key), null, empty, not a string or not a
    sequence number of this batch. Otherwise a partial failure at the lowest failed record.
    """
    if response is None:
        return Verdict("ok", response=response)
    if not isinstance(response, dict):
        return _failed("InvalidResponse", "the response is not a JSON object", response)
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return Verdict("ok", response=response)
    if not isinstance(failures, list):
        return _failed("InvalidResponse", "batchItemFailures is not a list", response)
    positions = {sequence: index for index, sequence in enumerate(sequence_numbers)}
    parsed: list[BatchItemFailure] = []
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or not identifier:
            return _failed(
                "InvalidResponse",
                f"batchItemFailures entry {entry!r} has no valid itemIdentifier",
                response,
            )
        if identifier not in positions:
            return _failed(
                "InvalidResponse",
                f"itemIdentifier {identifier!r} is not a sequence number of this batch",
                response,
            )
        parsed.append(BatchItemFailure(itemIdentifier=identifier))
    lowest = min(positions[failure["itemIdentifier"]] for failure in parsed)
    return Verdict(
        "partial",
        failed_index=lowest,
        error_type="BatchItemFailure",
        error_message=f"{len(parsed)} record(s) reported failed, first at "
        f"{sequence_numbers[lowest]}",
        response=response,
        failures=tuple(parsed),
    )


def judge(
    outcome: InvokeOutcome,
    sequence_numbers: Sequence[str],
    *,
    report_item_failures: bool,
    needs_state: bool,
) -> Verdict:
    """Decide what an invocation outcome means for the batch it carried."""
    if outcome.function_error or not 200 <= outcome.status_code < 300:
        return _function_error(outcome)
    if not report_item_failures and not needs_state:
        return Verdict("ok")
    text = outcome.payload.strip()
    if not text:
        response: Any = None
    else:
        try:
            response = json.loads(text)
        except ValueError:
            return _failed("InvalidResponse", "the function response is not valid JSON")
    has_state = isinstance(response, dict) and isinstance(response.get("state"), dict)
    if needs_state and not has_state:
        return _failed(
            "InvalidResponse",
            "a tumbling-window function must return an object with a 'state' object",
            response,
        )
    if not report_item_failures:
        return Verdict("ok", response=response)
    return parse_item_failures(response, sequence_numbers)
