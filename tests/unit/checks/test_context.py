"""The check context: settling the pipeline without waiting on a stuck one."""

from __future__ import annotations

from typing import Any

from labkit.checks.context import QUICK_SETTLE, error_code

from .conftest import ClientError, FakeClients, context


class Waits:
    """A wait_idle that times out ``busy`` times, recording the timeouts asked for."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.asked: list[float] = []

    def __call__(self, timeout: float) -> None:
        self.asked.append(timeout)
        if len(self.asked) <= self.busy:
            raise TimeoutError("still busy")


def test_idle_pipeline_settles_at_once() -> None:
    """An idle pipeline costs one short wait."""
    waits = Waits(0)
    assert context(FakeClients(), wait_idle=waits).settle(30)
    assert waits.asked == [QUICK_SETTLE]


def test_stuck_pipeline_is_not_waited_for() -> None:
    """If a function's last mapping invocation failed, settle gives up after the short wait."""
    waits = Waits(5)

    def invocations(function: str) -> list[dict[str, Any]]:
        return [{"outcome": "error"}] if function == "ReduceLambda" else []

    ctx = context(FakeClients(), wait_idle=waits, invocations=invocations)
    assert not ctx.settle(30)
    assert waits.asked == [QUICK_SETTLE]


def test_busy_pipeline_gets_the_whole_timeout() -> None:
    """A pipeline that is merely busy is waited for up to the timeout."""
    waits = Waits(1)
    ctx = context(FakeClients(), wait_idle=waits, invocations=lambda _f: [{"outcome": "ok"}])
    assert ctx.settle(30)
    assert waits.asked == [QUICK_SETTLE, 30]


def test_no_wait_on_aws() -> None:
    """Without a local cloud to ask (AWS), settle returns at once."""
    assert context(FakeClients()).settle(30)


def test_error_code() -> None:
    """error_code reads botocore's error shape and is empty for other exceptions."""
    assert error_code(ClientError("ResourceNotFoundException")) == "ResourceNotFoundException"
    assert error_code(ValueError("x")) == ""
