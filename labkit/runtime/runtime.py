"""``Runtime``: the public face of the local Lambda runtime.

It ties together concurrency (``scheduler``), warm workers (``pool``), single attempts
(``executor``), asynchronous retries, statistics and the hand-off of log lines.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.runtime import errors
from labkit.runtime.capture import DEFAULT_OUTPUT_LIMIT
from labkit.runtime.errors import InvalidRuntime, InvokeError, RuntimeClosed, TooManyRequests
from labkit.runtime.executor import DEFAULT_INIT_TIMEOUT, Executor, ExecutorConfig
from labkit.runtime.memory import group_memory
from labkit.runtime.pool import WorkerPool
from labkit.runtime.scheduler import Scheduler, Ticket
from labkit.runtime.spec import SUPPORTED_RUNTIMES, FunctionSpec, InvocationResult, LogLine

log = logging.getLogger("labkit.runtime")

LogSink = Callable[[str, str, Sequence[LogLine]], None]
DEFAULT_RETRY_DELAYS = (1.0, 2.0)


@dataclass
class _AsyncJob:
    spec: FunctionSpec
    payload: bytes
    extra_env: Mapping[str, str] | None
    on_done: Callable[[InvocationResult], None] | None
    request_id: str
    retries_left: int
    attempt: int = 0


@dataclass
class _Stats:
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    cold_starts: int = 0
    last_duration_ms: float | None = None
    total_duration_ms: float = 0.0
    last_error_type: str | None = None


class Runtime:
    """A local AWS Lambda runtime for Python handlers, one warm subprocess per concurrent
    execution. Thread-safe; see the package docstring for the contract."""

    def __init__(
        self,
        work_dir: Path,
        *,
        base_env: Mapping[str, str],
        log_sink: LogSink | None = None,
        account_concurrency: int = 10,
        idle_worker_ttl: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        async_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
        max_idle_workers: int = 16,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        fork_workers: bool = True,
    ) -> None:
        self._work_dir = Path(work_dir)
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self._log_sink = log_sink
        self._clock = clock
        self._sleep = sleep
        self._retry_delays = tuple(async_retry_delays)
        self._pool = WorkerPool(clock=clock, idle_ttl=idle_worker_ttl, max_idle=max_idle_workers)
        self._executor = Executor(
            ExecutorConfig(
                work_dir=self._work_dir,
                base_env=dict(base_env),
                clock=clock,
                init_timeout=init_timeout,
                output_limit=output_limit,
                fork_workers=fork_workers,
            ),
            self._pool,
        )
        self._scheduler: Scheduler[_AsyncJob] = Scheduler(account_concurrency, self._start_job)
        self._stats: dict[str, _Stats] = {}
        self._stats_lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()
        reap_every = min(30.0, max(0.5, idle_worker_ttl / 4))
        self._reaper = threading.Thread(
            target=_reap_loop,
            args=(self._stop, self._pool, reap_every),
            name="labkit-runtime-reaper",
            daemon=True,
        )
        self._reaper.start()
        # If the owner forgets shutdown(), workers still go when the process exits.
        self._finalizer = weakref.finalize(
            self, _stop_everything, self._stop, self._pool, self._executor
        )

    # -- synchronous ---------------------------------------------------------------------------

    def invoke(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        reserved_concurrency: int | None = None,
        extra_env: Mapping[str, str] | None = None,
        wait: bool = False,
        wait_timeout: float | None = None,
        client_context: str | None = None,
    ) -> InvocationResult:
        """Run ``spec``'s handler on ``payload`` (RequestResponse) and return the outcome.

        Raises ``TooManyRequests`` when no concurrency slot is free (after waiting up to
        ``wait_timeout`` seconds if ``wait``), ``InvalidZipFile`` if the code cannot be
        unpacked, ``InvalidRuntime`` for a runtime other than Python, ``RuntimeClosed`` after
        ``shutdown``. Every failure of the function itself is a result, never an exception."""
        _check_runtime(spec)
        try:
            ticket = self._scheduler.acquire(
                spec.name, reserved_concurrency, wait=wait, timeout=wait_timeout
            )
        except TooManyRequests:
            self._count(spec.name, "throttles")
            raise
        try:
            return self._attempt(spec, bytes(payload), str(uuid.uuid4()), extra_env, client_context)
        finally:
            self._scheduler.release(ticket)

    def _attempt(
        self,
        spec: FunctionSpec,
        payload: bytes,
        request_id: str,
        extra_env: Mapping[str, str] | None,
        client_context: str | None,
    ) -> InvocationResult:
        result, cold = self._executor.run(
            spec,
            payload,
            request_id=request_id,
            extra_env=extra_env,
            client_context=client_context,
        )
        self._record(spec.name, result, cold)
        self._emit_logs(spec.log_group_name, result)
        return result

    # -- asynchronous --------------------------------------------------------------------------

    def invoke_async(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        reserved_concurrency: int | None = None,
        extra_env: Mapping[str, str] | None = None,
        on_done: Callable[[InvocationResult], None] | None = None,
        max_retry_attempts: int | None = None,
    ) -> str:
        """Queue an ``Event`` invocation and return its request id at once.

        It runs when a slot is free; it is never throttled (with a reserved concurrency of 0 it
        waits until ``set_reserved_concurrency`` raises the limit). A failed attempt is retried
        after each of ``async_retry_delays`` (``max_retry_attempts`` caps the retries, 0..2 as
        in EventInvokeConfig); ``on_done`` gets the final result."""
        _check_runtime(spec)
        retries = len(self._retry_delays)
        if max_retry_attempts is not None:
            retries = max(0, min(retries, max_retry_attempts))
        job = _AsyncJob(spec, bytes(payload), extra_env, on_done, str(uuid.uuid4()), retries)
        if not self._scheduler.enqueue(spec.name, job, reserved=reserved_concurrency):
            raise RuntimeClosed("the Lambda runtime has been shut down")
        return job.request_id

    def _start_job(self, job: _AsyncJob, ticket: Ticket) -> None:
        thread = threading.Thread(
            target=self._run_job,
            args=(job, ticket),
            name=f"labkit-async-{job.spec.name}",
            daemon=True,
        )
        thread.start()

    def _run_job(self, job: _AsyncJob, ticket: Ticket) -> None:
        try:
            result = self._attempt(job.spec, job.payload, job.request_id, job.extra_env, None)
        except InvokeError as exc:
            result = self._refused(job, exc)
        except Exception as exc:
            log.exception("async invocation of %s failed inside the runtime", job.spec.name)
            result = self._refused(job, exc)
        finally:
            self._scheduler.release(ticket)
        if result.function_error and job.retries_left > 0 and not self._closed:
            delay = self._retry_delays[min(job.attempt, len(self._retry_delays) - 1)]
            job.attempt += 1
            job.retries_left -= 1
            self._sleep(delay)
            self._scheduler.enqueue(job.spec.name, job, reserved=None, new=False)
            return
        try:
            if job.on_done is not None:
                job.on_done(result)
        except Exception:
            log.exception("on_done callback for %s raised", job.spec.name)
        finally:
            self._scheduler.done(job.spec.name)

    def _refused(self, job: _AsyncJob, exc: Exception) -> InvocationResult:
        """A result for an async attempt the runtime could not even start."""
        code = getattr(exc, "error_code", "ServiceException")
        return InvocationResult(
            request_id=job.request_id,
            payload=errors.platform_error(code, str(exc)),
            function_error=errors.UNHANDLED,
            duration_ms=0.0,
            billed_duration_ms=0,
            max_memory_used_mb=0,
            log_stream="",
            log_lines=(),
            timed_out=False,
            executed_version=job.spec.version,
            init_duration_ms=None,
        )

    # -- control -------------------------------------------------------------------------------

    def set_reserved_concurrency(self, function_name: str, value: int | None) -> None:
        """Set (or, with None, remove) a function's reserved concurrency; queued async work and
        waiting callers are woken."""
        self._scheduler.set_reserved(function_name, value)

    def in_flight(self, function_name: str | None = None) -> int:
        """Invocations running plus async invocations queued or waiting to retry."""
        return self._scheduler.in_flight(function_name)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing runs or waits; False if ``timeout`` seconds passed first."""
        return self._scheduler.wait_idle(timeout)

    def retire(self, function_name: str) -> None:
        """The function's code or configuration changed, or it was deleted: stop its idle
        workers now and its running ones as soon as they finish."""
        self._pool.retire(function_name)

    def reap_idle(self) -> int:
        """Stop workers idle for longer than ``idle_worker_ttl`` (measured with ``clock``);
        a background thread also does this periodically. Returns how many were stopped."""
        return self._pool.reap_idle()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return self._pool.pids()

    def memory(self) -> dict[str, Any]:
        """The workers' memory per function and the fork server's templates, each as RSS, PSS
        (shared pages counted once) and USS (unshared) in MB; ``total`` covers all of them."""
        by_function = self._pool.pids_by_function()
        templates = self._executor.template_pids()
        pids = [pid for group in by_function.values() for pid in group]
        return {
            "functions": {name: group_memory(group) for name, group in sorted(by_function.items())},
            "templates": {"pids": templates, **group_memory(templates)},
            "total": group_memory([*pids, *templates]),
        }

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per function: invocations, errors, throttles, timeouts, cold starts, warm (idle) and
        busy workers, queued async invocations, last duration and last error type."""
        counts = self._pool.counts()
        active = self._scheduler.names()
        with self._stats_lock:
            names = set(self._stats) | set(counts) | active
            report: dict[str, dict[str, Any]] = {}
            for name in sorted(names):
                stats = self._stats.get(name, _Stats())
                idle, busy = counts.get(name, (0, 0))
                report[name] = {
                    "invocations": stats.invocations,
                    "errors": stats.errors,
                    "throttles": stats.throttles,
                    "timeouts": stats.timeouts,
                    "cold_starts": stats.cold_starts,
                    "warm_workers": idle,
                    "busy_workers": busy,
                    "queued": self._scheduler.queued(name),
                    "last_duration_ms": stats.last_duration_ms,
                    "total_duration_ms": round(stats.total_duration_ms, 3),
                    "last_error_type": stats.last_error_type,
                }
        return report

    def shutdown(self) -> None:
        """Stop every worker and refuse further work. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        self._stop.set()
        self._scheduler.close()
        self._pool.close()
        self._executor.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # -- bookkeeping ---------------------------------------------------------------------------

    def _count(self, name: str, counter: str) -> None:
        with self._stats_lock:
            stats = self._stats.setdefault(name, _Stats())
            setattr(stats, counter, getattr(stats, counter) + 1)

    def _record(self, name: str, result: InvocationResult, cold: bool) -> None:
        with self._stats_lock:
            stats = self._stats.setdefault(name, _Stats())
            stats.invocations += 1
            stats.cold_starts += int(cold)
            stats.last_duration_ms = result.duration_ms
            stats.total_duration_ms += result.duration_ms
            if result.function_error:
                stats.errors += 1
                stats.last_error_type = _error_type(result.payload)
            if result.timed_out:
                stats.timeouts += 1

    def _emit_logs(self, log_group: str, result: InvocationResult) -> None:
        if self._log_sink is None or not result.log_lines:
            return
        try:
            self._log_sink(log_group, result.log_stream, result.log_lines)
        except Exception:
            log.exception("log sink failed for %s", log_group)


def _check_runtime(spec: FunctionSpec) -> None:
    if spec.runtime not in SUPPORTED_RUNTIMES:
        supported = ", ".join(sorted(SUPPORTED_RUNTIMES))
        raise InvalidRuntime(
            f"The runtime {spec.runtime!r} of {spec.name} is not supported by the local "
            f"runtime (supported: {supported})"
        )


def _error_type(payload: bytes) -> str | None:
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    return body.get("errorType") if isinstance(body, dict) else None


def _stop_everything(stop: threading.Event, pool: WorkerPool, executor: Executor) -> None:
    stop.set()
    pool.close(wait=0.5)
    executor.close()


def _reap_loop(stop: threading.Event, pool: WorkerPool, interval: float) -> None:
    while not stop.wait(interval):
        try:
            pool.reap_idle()
        except Exception:
            log.exception("reaping idle workers failed")
