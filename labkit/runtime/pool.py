"""Warm workers: which are idle, which are busy, and which must go.

Workers are keyed by (function name, code sha, config digest). Idle workers are reused newest
first. A worker is retired (killed once idle) when its function gets another key for the same
version, when ``retire`` is called for its function, or after ``idle_ttl`` seconds unused.
Killing and reaping happen outside the pool's lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from labkit.runtime.process import WorkerProcess

log = logging.getLogger("labkit.runtime")

WorkerKey = tuple[str, str, str]


def _close_all(workers: Iterable[WorkerProcess]) -> None:
    for worker in workers:
        try:
            worker.close()
        except Exception:
            log.exception("could not stop worker %s of %s", worker.pid, worker.function_name)


class WorkerPool:
    """Idle and busy workers of all functions."""

    def __init__(self, *, clock: Callable[[], float], idle_ttl: float, max_idle: int = 16) -> None:
        self._clock = clock
        self._idle_ttl = idle_ttl
        self._max_idle = max_idle
        self._cond = threading.Condition()
        self._idle: dict[WorkerKey, list[WorkerProcess]] = {}
        self._busy: set[WorkerProcess] = set()
        self._latest: dict[tuple[str, str], WorkerKey] = {}
        self._generation: dict[str, int] = {}
        self._closed = False

    # -- taking and giving back ----------------------------------------------------------------

    def use_key(self, function_name: str, version: str, key: WorkerKey) -> None:
        """Record the current key of a function version; idle workers of older keys go now."""
        with self._cond:
            previous = self._latest.get((function_name, version))
            self._latest[(function_name, version)] = key
            if previous is None or previous == key:
                return
            stale = [
                worker
                for other, workers in self._idle.items()
                if other != key and other[0] == function_name
                for worker in workers
                if worker.version == version
            ]
            self._remove_idle(stale)
        _close_all(stale)

    def checkout(self, key: WorkerKey) -> WorkerProcess | None:
        """A warm idle worker for ``key`` (now busy), or None."""
        dead: list[WorkerProcess] = []
        try:
            with self._cond:
                workers = self._idle.get(key)
                while workers:
                    worker = workers.pop()
                    if not workers:
                        del self._idle[key]
                    if worker.alive():
                        self._busy.add(worker)
                        return worker
                    dead.append(worker)
                return None
        finally:
            _close_all(dead)

    def register(self, worker: WorkerProcess) -> bool:
        """Track a newly started (busy) worker; False if the pool is closed."""
        with self._cond:
            if self._closed:
                return False
            worker.generation = self._generation.get(worker.function_name, 0)
            self._busy.add(worker)
            return True

    def checkin(self, worker: WorkerProcess, *, reusable: bool) -> None:
        """A worker's invocation ended: keep it warm, or stop it if it is broken or stale."""
        victims: list[WorkerProcess] = []
        with self._cond:
            self._busy.discard(worker)
            keep = (
                reusable
                and not self._closed
                and worker.generation == self._generation.get(worker.function_name, 0)
                and self._latest.get((worker.function_name, worker.version)) == worker.key
            )
            if keep:
                worker.last_used = self._clock()
                self._idle.setdefault(worker.key, []).append(worker)
                victims = self._over_capacity()
            else:
                victims = [worker]
            self._cond.notify_all()
        _close_all(victims)

    def _over_capacity(self) -> list[WorkerProcess]:
        idle = [worker for workers in self._idle.values() for worker in workers]
        surplus = len(idle) - self._max_idle
        if surplus <= 0:
            return []
        oldest = sorted(idle, key=lambda worker: worker.last_used)[:surplus]
        self._remove_idle(oldest)
        return oldest

    def _remove_idle(self, workers: Iterable[WorkerProcess]) -> None:
        for worker in workers:
            stack = self._idle.get(worker.key)
            if stack and worker in stack:
                stack.remove(worker)
                if not stack:
                    del self._idle[worker.key]

    # -- retiring ------------------------------------------------------------------------------

    def retire(self, function_name: str) -> None:
        """Stop the function's idle workers now and its busy ones when they finish."""
        with self._cond:
            self._generation[function_name] = self._generation.get(function_name, 0) + 1
            stale = [
                worker
                for key, workers in self._idle.items()
                if key[0] == function_name
                for worker in workers
            ]
            self._remove_idle(stale)
            for version_key in [k for k in self._latest if k[0] == function_name]:
                del self._latest[version_key]
        _close_all(stale)

    def reap_idle(self, now: float | None = None) -> int:
        """Stop workers idle for longer than the TTL; how many were stopped."""
        moment = self._clock() if now is None else now
        with self._cond:
            expired = [
                worker
                for workers in self._idle.values()
                for worker in workers
                if moment - worker.last_used >= self._idle_ttl
            ]
            self._remove_idle(expired)
        _close_all(expired)
        return len(expired)

    def close(self, wait: float = 5.0) -> None:
        """Stop every worker: idle ones at once, busy ones are killed and their owners clean
        up; waits up to ``wait`` seconds for that."""
        with self._cond:
            self._closed = True
            idle = [worker for workers in self._idle.values() for worker in workers]
            self._idle.clear()
            busy = list(self._busy)
        _close_all(idle)
        for worker in busy:
            worker.kill()
        with self._cond:
            self._cond.wait_for(lambda: not self._busy, timeout=wait)

    # -- looking -------------------------------------------------------------------------------

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per function: (idle workers, busy workers)."""
        result: dict[str, tuple[int, int]] = {}
        with self._cond:
            for workers in self._idle.values():
                for worker in workers:
                    idle, busy = result.get(worker.function_name, (0, 0))
                    result[worker.function_name] = (idle + 1, busy)
            for worker in self._busy:
                idle, busy = result.get(worker.function_name, (0, 0))
                result[worker.function_name] = (idle, busy + 1)
        return result

    def pids_by_function(self) -> dict[str, list[int]]:
        """Process ids of the live workers, per function."""
        with self._cond:
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
        result: dict[str, list[int]] = {}
        for worker in workers:
            result.setdefault(worker.function_name, []).append(worker.pid)
        return result

    def pids(self) -> list[int]:
        """Process ids of all live workers (for diagnostics and tests)."""
        with self._cond:
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
        return [worker.pid for worker in workers]
