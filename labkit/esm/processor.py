"""Driving one batch to an end: invoke, retry, bisect, partial failures, discard.

Reading of AWS's rules that this module implements:

- A failed invocation is retried with the *identical* payload bytes, after a short back-off.
- ``MaximumRetryAttempts`` counts retries of one (sub-)batch: with N, a batch is invoked at
  most N + 1 times before it is discarded; ``approximateInvokeCount`` is that number.
- ``BisectBatchOnFunctionError``: a failed batch of two or more records is split in two
  instead of being retried; the split consumes no retry and each half starts its own retry
  count. The first half is finished (processed or discarded) before the second starts. A
  single record that fails is retried and discarded like any batch.
- ``ReportBatchItemFailures``: records before the lowest failed item are checkpointed and the
  rest is retried as a new (smaller) batch; this counts as a retry. A failure reported at the
  first record is a failure of the whole batch (so it may bisect).
- Before each retry, a batch whose oldest record is older than ``MaximumRecordAgeInSeconds``
  (-1: the stream's retention) is discarded with ``RecordAgeExceeded``.
- Records that are already older than a set ``MaximumRecordAgeInSeconds`` when their batch is
  first formed are never sent to the function: AWS documents the setting as "the maximum age
  of a record that Lambda sends to your function" and says it discards older records. They are
  discarded (to the on-failure destination, ``RecordAgeExceeded``, ``approximateInvokeCount``
  0) and the younger rest of the batch is invoked as usual. With -1 nothing is discarded
  before a first attempt (the stream itself drops records past its retention).
- Throttles (the invoker raising :class:`Throttled`) are retried after a brief back-off and are
  not retries. A reserved concurrency of 0 pauses the batch until it is raised.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from labkit.esm.buffered import Buffered
from labkit.esm.config import MappingConfig
from labkit.esm.failure_record import Condition, build_failure_record
from labkit.esm.history import InvocationRecord, Outcome
from labkit.esm.payload import dumps
from labkit.esm.ports import DestinationSender, InvokeOutcome, Invoker, SourceKind, Throttled
from labkit.esm.responses import Verdict, judge
from labkit.esm.timing import Timing

log = logging.getLogger("labkit.esm")

Completion = Literal["processed", "discarded"]


class BatchHost(Protocol):
    """What a processor needs from the shard it works for."""

    config: MappingConfig
    shard_id: str
    source_arn: str
    kind: SourceKind
    invoker: Invoker
    destinations: DestinationSender
    timing: Timing
    retention_seconds: float

    def stopped(self) -> bool: ...

    def pause_wait(self) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def complete(self, records: Sequence[Buffered], how: Completion) -> None: ...

    def observe(self, entry: InvocationRecord) -> None: ...


@dataclass
class _Work:
    records: list[Buffered]
    attempts: int = 0
    bisected: bool = False
    payload: bytes | None = None


_OUTCOMES: dict[str, Outcome] = {"ok": "ok", "partial": "partial", "failed": "error"}

BuildPayload = Callable[[Sequence[Buffered]], bytes]
OnResponse = Callable[[Verdict], None]


class BatchProcessor:
    """Processes batches for one lane of one shard, one batch at a time."""

    def __init__(self, host: BatchHost) -> None:
        self._host = host

    def run(
        self,
        records: Sequence[Buffered],
        build: BuildPayload,
        *,
        on_response: OnResponse | None = None,
        needs_state: bool = False,
    ) -> bool:
        """Process ``records`` until each is done or discarded; False if stopped first."""
        queue: deque[_Work] = deque([_Work(list(records))])
        config = self._host.config
        while queue:
            work = queue[0]
            if work.attempts == 0 and self._discard_expired(work) and not work.records:
                queue.popleft()
                continue
            outcome = self._attempt(work, build)
            if outcome is None:
                return False
            verdict = judge(
                outcome,
                [item.sequence_number for item in work.records],
                report_item_failures=config.report_batch_item_failures,
                needs_state=needs_state,
            )
            self._observe(work, outcome, verdict)
            if verdict.kind == "ok":
                if on_response is not None:
                    on_response(verdict)
                self._host.complete(work.records, "processed")
                queue.popleft()
                continue
            whole_batch_failed = verdict.kind == "failed" or verdict.failed_index == 0
            if not whole_batch_failed:
                if on_response is not None:
                    on_response(verdict)
                index = verdict.failed_index
                self._host.complete(work.records[:index], "processed")
                work = _Work(work.records[index:], attempts=work.attempts, bisected=work.bisected)
                queue[0] = work
            if self._too_old(work):
                self._discard(work, "RecordAgeExceeded", outcome)
                queue.popleft()
                continue
            splittable = len(work.records) > 1 and config.bisect_batch_on_function_error
            if whole_batch_failed and splittable:
                middle = len(work.records) // 2
                queue.popleft()
                queue.appendleft(_Work(work.records[middle:], bisected=True))
                queue.appendleft(_Work(work.records[:middle], bisected=True))
                continue
            if 0 <= config.maximum_retry_attempts < work.attempts:
                self._discard(work, "RetryAttemptsExhausted", outcome)
                queue.popleft()
                continue
            self._host.timing.sleep(self._host.timing.retry_delay(work.attempts))
        return True

    # -- one invocation ------------------------------------------------------------------
    def _attempt(self, work: _Work, build: BuildPayload) -> InvokeOutcome | None:
        host = self._host
        throttles = 0
        while True:
            if host.stopped() or not self._await_capacity():
                return None
            if work.payload is None:
                work.payload = build(work.records)
            started = host.timing.clock()
            try:
                outcome = host.invoker.invoke(host.config.function_arn, work.payload)
            except Throttled as exc:
                throttles += 1
                if throttles == 1:
                    self._record(work, "throttled", 0.0, "Throttled", str(exc) or "throttled")
                host.timing.sleep(host.timing.throttle_delay(throttles))
                continue
            except Exception as exc:
                log.warning("invoking %s failed: %r", host.config.function_arn, exc)
                outcome = InvokeOutcome(
                    status_code=500,
                    payload=dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}),
                    function_error="Unhandled",
                    executed_version="$LATEST",
                    request_id=str(uuid.uuid4()),
                    duration_ms=(host.timing.clock() - started) * 1000.0,
                )
            work.attempts += 1
            return outcome

    def _await_capacity(self) -> bool:
        host = self._host
        while not host.stopped():
            try:
                limit = host.invoker.reserved_concurrency(host.config.function_arn)
            except Exception:
                log.exception("reading reserved concurrency failed")
                limit = None
            if limit != 0:
                host.set_paused(False)
                return True
            host.set_paused(True)
            host.pause_wait()
        return False

    # -- decisions -----------------------------------------------------------------------
    def _too_old(self, work: _Work) -> bool:
        if not work.records:
            return False
        limit = self._host.config.maximum_record_age_in_seconds
        max_age = self._host.retention_seconds if limit == -1 else float(limit)
        oldest = min(item.arrival for item in work.records)
        return self._host.timing.clock() - oldest > max_age

    def _discard_expired(self, work: _Work) -> bool:
        """Discard the records already past MaximumRecordAgeInSeconds before any invocation
        (a prefix, since records arrive in order); True if there were any."""
        limit = self._host.config.maximum_record_age_in_seconds
        if limit < 0:
            return False
        now = self._host.timing.clock()
        count = 0
        while count < len(work.records) and now - work.records[count].arrival > limit:
            count += 1
        if count == 0:
            return False
        expired = _Work(work.records[:count], bisected=work.bisected)
        never_sent = InvokeOutcome(
            status_code=200,
            payload=b"",
            function_error=None,
            executed_version="$LATEST",
            request_id=str(uuid.uuid4()),
            duration_ms=0.0,
        )
        self._discard(expired, "RecordAgeExceeded", never_sent)
        del work.records[:count]
        work.payload = None
        return True

    def _discard(self, work: _Work, condition: Condition, last: InvokeOutcome) -> None:
        host = self._host
        destination = host.config.on_failure_destination
        if destination and work.records:
            message = build_failure_record(
                kind=host.kind,
                function_arn=host.config.function_arn,
                stream_arn=host.source_arn,
                shard_id=host.shard_id,
                records=[item.record for item in work.records],
                condition=condition,
                invoke_count=work.attempts,
                last_outcome=last,
                now=host.timing.clock(),
            )
            try:
                host.destinations.send(destination, message, function_arn=host.config.function_arn)
            except Exception:
                log.exception("sending the on-failure record to %s failed", destination)
        log.info(
            "discarding %d record(s) of shard %s after %d attempt(s): %s",
            len(work.records),
            host.shard_id,
            work.attempts,
            condition,
        )
        host.complete(work.records, "discarded")
        self._record(work, "discarded", 0.0, None, None, condition=condition)

    # -- observability -------------------------------------------------------------------
    def _observe(self, work: _Work, outcome: InvokeOutcome, verdict: Verdict) -> None:
        kind = _OUTCOMES[verdict.kind]
        self._record(
            work,
            kind,
            outcome.duration_ms,
            verdict.error_type,
            verdict.error_message,
            request_id=outcome.request_id,
        )

    def _record(
        self,
        work: _Work,
        outcome: Outcome,
        duration_ms: float,
        error_type: str | None,
        error_message: str | None,
        *,
        request_id: str | None = None,
        condition: str | None = None,
    ) -> None:
        records = work.records
        self._host.observe(
            InvocationRecord(
                time=self._host.timing.clock(),
                shard_id=self._host.shard_id,
                batch_size=len(records),
                first_sequence=records[0].sequence_number if records else None,
                last_sequence=records[-1].sequence_number if records else None,
                duration_ms=duration_ms,
                outcome=outcome,
                retry_count=max(work.attempts - 1, 0),
                bisected=work.bisected,
                error_type=error_type,
                error_message=error_message,
                request_id=request_id,
                condition=condition,
            )
        )
