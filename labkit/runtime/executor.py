"""Run one invocation attempt on a warm or new worker and describe it as Lambda would."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from labkit.runtime import errors, logformat, protocol
from labkit.runtime.bootstrap import interpreter_command, package_dir
from labkit.runtime.capture import DEFAULT_OUTPUT_LIMIT
from labkit.runtime.codecache import CodeCache
from labkit.runtime.environment import config_digest, template_env, worker_env
from labkit.runtime.errors import InvokeError, RuntimeClosed
from labkit.runtime.forkserver import ForkServer
from labkit.runtime.pool import WorkerKey, WorkerPool
from labkit.runtime.process import Exchange, WorkerProcess
from labkit.runtime.spec import FunctionSpec, InvocationResult, LogLine

DEFAULT_INIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ExecutorConfig:
    work_dir: Path
    base_env: Mapping[str, str]
    clock: Callable[[], float]
    init_timeout: float = DEFAULT_INIT_TIMEOUT
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    fork_workers: bool = True


def _mb(kib: int) -> int:
    return max(1, math.ceil(kib / 1024)) if kib else 0


class _Attempt:
    """Collects log lines and the facts the REPORT line and the result need."""

    def __init__(self, spec: FunctionSpec, request_id: str, clock: Callable[[], float]) -> None:
        self.spec = spec
        self.request_id = request_id
        self.clock = clock
        self.lines: list[LogLine] = []
        self.init_ms: float | None = None

    def say(self, message: str) -> None:
        self.lines.append(LogLine(int(self.clock() * 1000), message))

    def finish(
        self,
        worker: WorkerProcess,
        *,
        payload: bytes,
        error_type: str | None,
        duration_ms: float,
        max_rss_kb: int,
        timed_out: bool = False,
        status: str | None = None,
    ) -> InvocationResult:
        self.say(logformat.end(self.request_id))
        memory = _mb(max_rss_kb)
        self.say(
            logformat.report(
                self.request_id,
                duration_ms=duration_ms,
                memory_size=self.spec.memory_size,
                max_memory_mb=memory,
                init_ms=self.init_ms,
                status=status,
                error_type=error_type if status == "error" else None,
            )
        )
        return InvocationResult(
            request_id=self.request_id,
            payload=payload,
            function_error=errors.UNHANDLED if error_type else None,
            duration_ms=round(duration_ms, 2),
            billed_duration_ms=logformat.billed_ms(duration_ms),
            max_memory_used_mb=memory,
            log_stream=worker.log_stream,
            log_lines=tuple(self.lines),
            timed_out=timed_out,
            executed_version=self.spec.version,
            init_duration_ms=None if self.init_ms is None else round(self.init_ms, 2),
        )


class Executor:
    """Finds or starts the worker for an invocation, runs it, and returns its result."""

    def __init__(self, config: ExecutorConfig, pool: WorkerPool) -> None:
        self._config = config
        self._pool = pool
        self._code = CodeCache(config.work_dir / "code")
        self._runtime_dir = Path(__file__).resolve().parent
        self._forkserver = (
            ForkServer(
                package_dir=package_dir(),
                command=interpreter_command(),
                env=template_env(),
            )
            if config.fork_workers
            else None
        )

    def template_pids(self) -> list[int]:
        """The fork server's running template processes."""
        return [] if self._forkserver is None else self._forkserver.pids()

    def close(self) -> None:
        """Stop the fork server (after the workers)."""
        if self._forkserver is not None:
            self._forkserver.close()

    @staticmethod
    def key_for(spec: FunctionSpec, extra_env: Mapping[str, str] | None) -> WorkerKey:
        return (spec.name, spec.code_sha256, config_digest(spec, extra_env))

    def run(
        self,
        spec: FunctionSpec,
        payload: bytes,
        *,
        request_id: str,
        extra_env: Mapping[str, str] | None = None,
        client_context: str | None = None,
    ) -> tuple[InvocationResult, bool]:
        """One attempt; returns the result and whether it was a cold start."""
        key = self.key_for(spec, extra_env)
        self._pool.use_key(spec.name, spec.version, key)
        attempt = _Attempt(spec, request_id, self._config.clock)
        worker = self._pool.checkout(key)
        cold = worker is None
        if worker is None:
            worker = self._start(spec, key, extra_env)
            try:
                failed = self._init(worker, spec, attempt)
            except BaseException:
                self._pool.checkin(worker, reusable=False)
                raise
            if failed is not None:
                return failed, cold
        reusable = False
        try:
            result, reusable = self._invoke(worker, spec, payload, attempt, client_context)
            worker.invocations += 1
            return result, cold
        finally:
            self._pool.checkin(worker, reusable=reusable)

    # -- starting ------------------------------------------------------------------------------

    def _start(
        self, spec: FunctionSpec, key: WorkerKey, extra_env: Mapping[str, str] | None
    ) -> WorkerProcess:
        task_root = self._code.ensure(spec.code_sha256, spec.code_zip)
        log_stream = logformat.log_stream_name(self._config.clock(), spec.version)
        env = worker_env(
            spec,
            task_root=task_root,
            runtime_dir=self._runtime_dir,
            log_stream=log_stream,
            base_env=self._config.base_env,
            extra_env=extra_env,
        )
        try:
            worker = WorkerProcess(
                key=key,
                function_name=spec.name,
                version=spec.version,
                log_stream=log_stream,
                env=env,
                cwd=self._config.work_dir,
                clock=self._config.clock,
                output_limit=self._config.output_limit,
                task_root=task_root,
                forkserver=self._forkserver,
            )
        except OSError as exc:
            raise InvokeError(f"could not start a worker for {spec.name}: {exc}") from exc
        if not self._pool.register(worker):
            worker.close()
            raise RuntimeClosed("the Lambda runtime has been shut down")
        return worker

    def _init(
        self, worker: WorkerProcess, spec: FunctionSpec, attempt: _Attempt
    ) -> InvocationResult | None:
        """Run the init phase; a finished (failed) result if it did not succeed."""
        attempt.say(logformat.init_start(spec.runtime))
        frame = protocol.encode(
            {
                "kind": "init",
                "token": worker.token,
                "task_root": str(worker.task_root),
                "handler": spec.handler,
            }
        )
        started = time.monotonic()
        exchange = worker.exchange(frame, started + self._config.init_timeout)
        attempt.lines.extend(exchange.lines)
        attempt.init_ms = (time.monotonic() - started) * 1000
        error_type = exchange.header.get("error") if exchange.header else None
        if exchange.header is not None and not error_type and not exchange.exited:
            return None
        try:
            return self._init_failure(worker, attempt, exchange, error_type)
        finally:
            self._pool.checkin(worker, reusable=False)

    def _init_failure(
        self,
        worker: WorkerProcess,
        attempt: _Attempt,
        exchange: Exchange,
        error_type: str | None,
    ) -> InvocationResult:
        request_id = attempt.request_id
        init_ms = attempt.init_ms or 0.0
        returncode = worker.close()
        if exchange.timed_out:
            limit = self._config.init_timeout
            attempt.say(logformat.init_report(init_ms, "timeout"))
            attempt.say(logformat.start(request_id, attempt.spec.version))
            attempt.say(logformat.timed_out(self._config.clock(), request_id, limit))
            payload = errors.platform_error(
                errors.SANDBOX_TIMEDOUT, errors.timeout_message(request_id, limit)
            )
            return attempt.finish(
                worker,
                payload=payload,
                error_type=errors.SANDBOX_TIMEDOUT,
                duration_ms=0.0,
                max_rss_kb=worker.max_rss_kb,
                timed_out=True,
                status="timeout",
            )
        if exchange.header is not None and error_type:
            payload = exchange.body
        else:
            error_type = errors.EXIT_ERROR
            reason = errors.exit_reason(returncode)
            attempt.say(logformat.exit_line(request_id, reason, error_type))
            payload = errors.platform_error(error_type, errors.exit_message(request_id, returncode))
        attempt.say(logformat.init_report(init_ms, "error", error_type))
        attempt.say(logformat.start(request_id, attempt.spec.version))
        return attempt.finish(
            worker,
            payload=payload,
            error_type=error_type,
            duration_ms=0.0,
            max_rss_kb=worker.max_rss_kb,
            status="error",
        )

    # -- invoking ------------------------------------------------------------------------------

    def _invoke(
        self,
        worker: WorkerProcess,
        spec: FunctionSpec,
        payload: bytes,
        attempt: _Attempt,
        client_context: str | None,
    ) -> tuple[InvocationResult, bool]:
        request_id = attempt.request_id
        attempt.say(logformat.start(request_id, spec.version))
        frame = protocol.encode(
            {
                "kind": "invoke",
                "id": request_id,
                "timeout_ms": spec.timeout * 1000,
                "arn": spec.invoked_arn,
                "client_context": client_context,
            },
            payload,
        )
        exchange = worker.exchange(frame, time.monotonic() + spec.timeout)
        attempt.lines.extend(exchange.lines)
        header = exchange.header
        if exchange.timed_out:
            worker.close()
            attempt.say(logformat.timed_out(self._config.clock(), request_id, spec.timeout))
            result = attempt.finish(
                worker,
                payload=errors.platform_error(
                    errors.SANDBOX_TIMEDOUT, errors.timeout_message(request_id, spec.timeout)
                ),
                error_type=errors.SANDBOX_TIMEDOUT,
                duration_ms=float(spec.timeout * 1000),
                max_rss_kb=worker.max_rss_kb,
                timed_out=True,
                status="timeout",
            )
            return result, False
        if header is None:
            returncode = worker.close()
            reason = errors.exit_reason(returncode)
            attempt.say(logformat.exit_line(request_id, reason, errors.EXIT_ERROR))
            result = attempt.finish(
                worker,
                payload=errors.platform_error(
                    errors.EXIT_ERROR, errors.exit_message(request_id, returncode)
                ),
                error_type=errors.EXIT_ERROR,
                duration_ms=exchange.elapsed_ms,
                max_rss_kb=worker.max_rss_kb,
                status="error",
            )
            return result, False
        error_type = header.get("error")
        result = attempt.finish(
            worker,
            payload=exchange.body,
            error_type=str(error_type) if error_type else None,
            duration_ms=float(header.get("duration_ms", exchange.elapsed_ms)),
            max_rss_kb=int(header.get("max_rss_kb", 0)),
        )
        return result, not exchange.exited
