"""Slot accounting and the async queue, without any worker process."""

from __future__ import annotations

import pytest

from labkit.runtime import RuntimeClosed, TooManyRequests
from labkit.runtime.scheduler import Scheduler, Ticket


class Started:
    """Records the jobs the scheduler starts."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Ticket]] = []

    def __call__(self, job: str, ticket: Ticket) -> None:
        self.jobs.append((job, ticket))


def test_reserved_functions_do_not_use_the_pool() -> None:
    """A reserved function's slots are its own; the pool serves the others."""
    scheduler: Scheduler[str] = Scheduler(1, Started())
    pooled = scheduler.acquire("a", None)
    reserved = scheduler.acquire("b", 2)
    with pytest.raises(TooManyRequests):
        scheduler.acquire("c", None)
    scheduler.release(pooled)
    scheduler.release(scheduler.acquire("c", None))
    scheduler.release(reserved)
    assert scheduler.in_flight() == 0


def test_jobs_start_fifo_as_slots_free() -> None:
    """Queued jobs start in order, one per free slot."""
    started = Started()
    scheduler: Scheduler[str] = Scheduler(10, started)
    held = scheduler.acquire("f", 1)
    scheduler.enqueue("f", "first", reserved=1)
    scheduler.enqueue("f", "second", reserved=1)
    assert started.jobs == [] and scheduler.in_flight("f") == 3
    scheduler.release(held)
    assert [job for job, _ in started.jobs] == ["first"]
    scheduler.release(started.jobs[0][1])
    scheduler.done("f")
    assert [job for job, _ in started.jobs] == ["first", "second"]
    assert scheduler.in_flight("f") == 1


def test_raising_the_limit_starts_queued_jobs() -> None:
    """set_reserved starts jobs that waited under a limit of 0."""
    started = Started()
    scheduler: Scheduler[str] = Scheduler(10, started)
    scheduler.enqueue("f", "job", reserved=0)
    assert started.jobs == []
    scheduler.set_reserved("f", None)
    assert [job for job, _ in started.jobs] == ["job"]
    assert started.jobs[0][1].pooled


def test_close_drops_queued_jobs_and_refuses_work() -> None:
    """After close, nothing is queued or in flight, and acquire raises RuntimeClosed."""
    scheduler: Scheduler[str] = Scheduler(10, Started())
    scheduler.enqueue("f", "job", reserved=0)
    scheduler.close()
    assert scheduler.in_flight() == 0 and scheduler.wait_idle(0)
    with pytest.raises(RuntimeClosed):
        scheduler.acquire("f", None)
    assert not scheduler.enqueue("f", "late", reserved=None)
