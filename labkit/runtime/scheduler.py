"""Concurrency slots and the queue of asynchronous invocations.

A function with reserved concurrency may run that many invocations at once, counted only against
itself. Every other function draws from one shared pool of ``account_concurrency`` slots.
Synchronous callers either fail at once (``TooManyRequests``) or wait; asynchronous jobs queue,
first in first out per function, and start as soon as a slot frees.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from labkit.runtime.errors import RuntimeClosed, TooManyRequests

RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"

J = TypeVar("J")


@dataclass(frozen=True)
class Ticket:
    """A held concurrency slot."""

    function_name: str
    pooled: bool
    is_async: bool


class Scheduler(Generic[J]):
    """Slot accounting and async queues behind one condition variable.

    ``start`` is called (outside the lock) with each queued job that got a slot.
    """

    def __init__(self, account_concurrency: int, start: Callable[[J, Ticket], None]) -> None:
        if account_concurrency < 1:
            raise ValueError("account_concurrency must be at least 1")
        self._account = account_concurrency
        self._start = start
        self._cond = threading.Condition()
        self._running: dict[str, int] = {}
        self._pool_running = 0
        self._reserved: dict[str, int | None] = {}
        self._queues: dict[str, deque[J]] = {}
        self._sync_running: dict[str, int] = {}
        self._outstanding: dict[str, int] = {}
        self._closed = False

    # -- slots ---------------------------------------------------------------------------------

    def _try_take(self, name: str, is_async: bool) -> Ticket | str:
        limit = self._reserved.get(name)
        running = self._running.get(name, 0)
        if limit is not None:
            if running >= limit:
                return RESERVED_LIMIT
            pooled = False
        else:
            if self._pool_running >= self._account:
                return ACCOUNT_LIMIT
            self._pool_running += 1
            pooled = True
        self._running[name] = running + 1
        if not is_async:
            self._sync_running[name] = self._sync_running.get(name, 0) + 1
        return Ticket(name, pooled, is_async)

    def acquire(
        self,
        name: str,
        reserved: int | None,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> Ticket:
        """Take a slot for a synchronous invocation, or raise ``TooManyRequests``.

        ``reserved`` is the function's current reserved concurrency (None: the shared pool) and
        is remembered for its queued async jobs."""
        with self._cond:
            self._check_open()
            self._reserved[name] = reserved
            if reserved == 0:
                raise TooManyRequests(RESERVED_LIMIT, name)
            taken = self._try_take(name, is_async=False)
            if isinstance(taken, Ticket):
                return taken
            if not wait:
                raise TooManyRequests(taken, name)
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TooManyRequests(taken, name)
                self._cond.wait(remaining)
                self._check_open()
                if self._reserved.get(name) == 0:
                    raise TooManyRequests(RESERVED_LIMIT, name)
                taken = self._try_take(name, is_async=False)
                if isinstance(taken, Ticket):
                    return taken

    def release(self, ticket: Ticket) -> None:
        """Give a slot back; queued jobs that can now run are started."""
        with self._cond:
            name = ticket.function_name
            self._running[name] -= 1
            if ticket.pooled:
                self._pool_running -= 1
            if not ticket.is_async:
                self._sync_running[name] -= 1
            runnable = self._runnable()
            self._cond.notify_all()
        self._start_all(runnable)

    # -- async queue ---------------------------------------------------------------------------

    def enqueue(self, name: str, job: J, *, reserved: int | None, new: bool = True) -> bool:
        """Queue a job (``new``: a first attempt, counted as outstanding until ``done``).
        Returns False, dropping the job, when the scheduler is closed."""
        with self._cond:
            if self._closed:
                if not new:
                    self._finish(name)
                return False
            if new:
                self._reserved[name] = reserved
                self._outstanding[name] = self._outstanding.get(name, 0) + 1
            self._queues.setdefault(name, deque()).append(job)
            runnable = self._runnable()
            self._cond.notify_all()
        self._start_all(runnable)
        return True

    def done(self, name: str) -> None:
        """An async job finished for good (no more retries)."""
        with self._cond:
            self._finish(name)

    def _finish(self, name: str) -> None:
        self._outstanding[name] -= 1
        self._cond.notify_all()

    def set_reserved(self, name: str, value: int | None) -> None:
        """Change a function's reserved concurrency; wakes waiters and queued jobs."""
        with self._cond:
            self._reserved[name] = value
            runnable = self._runnable()
            self._cond.notify_all()
        self._start_all(runnable)

    def _runnable(self) -> list[tuple[J, Ticket]]:
        started: list[tuple[J, Ticket]] = []
        if self._closed:
            return started
        for name, queue in list(self._queues.items()):
            while queue:
                taken = self._try_take(name, is_async=True)
                if not isinstance(taken, Ticket):
                    break
                started.append((queue.popleft(), taken))
            if not queue:
                del self._queues[name]
        return started

    def _start_all(self, runnable: list[tuple[J, Ticket]]) -> None:
        for job, ticket in runnable:
            self._start(job, ticket)

    # -- looking and waiting -------------------------------------------------------------------

    def in_flight(self, name: str | None = None) -> int:
        """Synchronous invocations running plus async jobs queued, running or awaiting a retry."""
        with self._cond:
            return self._in_flight(name)

    def _in_flight(self, name: str | None) -> int:
        if name is None:
            return sum(self._sync_running.values()) + sum(self._outstanding.values())
        return self._sync_running.get(name, 0) + self._outstanding.get(name, 0)

    def names(self) -> set[str]:
        """Functions with anything running or queued."""
        with self._cond:
            busy = {name for name, count in self._running.items() if count}
            return busy | {name for name, count in self._outstanding.items() if count}

    def queued(self, name: str) -> int:
        with self._cond:
            return len(self._queues.get(name, ()))

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is in flight; False if ``timeout`` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight(None) == 0, timeout=timeout)

    # -- closing -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeClosed("the Lambda runtime has been shut down")

    def close(self) -> None:
        """Refuse new work, drop queued jobs and wake every waiter."""
        with self._cond:
            self._closed = True
            for name, queue in self._queues.items():
                self._outstanding[name] -= len(queue)
            self._queues.clear()
            self._cond.notify_all()
