"""Reserved and account concurrency, synchronous throttling and the async queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.runtime import FunctionSpec, InvocationResult, Runtime, TooManyRequests

from .conftest import MakeSpec, payload

# A handler that announces it started and blocks until the test releases it.
GATED = """
import os, time

def lambda_handler(event, context):
    folder = os.environ["GATE"]
    if event.get("gate"):
        open(os.path.join(folder, "started"), "w").close()
        while not os.path.exists(os.path.join(folder, "release")):
            time.sleep(0.005)
    return "done"
"""


class Gate:
    """Controls the GATED handler through files in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def wait_started(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not (self.folder / "started").exists():
            assert time.monotonic() < deadline, "the gated handler never started"
            time.sleep(0.005)

    def release(self) -> None:
        (self.folder / "release").touch()


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    """A gate for the GATED handler; always opened at the end of the test."""
    folder = tmp_path / "gate"
    folder.mkdir()
    gate = Gate(folder)
    yield gate
    gate.release()


def gated_spec(make_spec: MakeSpec, gate: Gate, name: str = "fn") -> FunctionSpec:
    return make_spec(GATED, name=name, timeout=30, environment={"GATE": str(gate.folder)})


def hold_slot(
    runtime: Runtime, spec: FunctionSpec, gate: Gate, **kwargs: object
) -> threading.Thread:
    """Start a gated invocation in a thread and wait until it runs."""
    thread = threading.Thread(
        target=runtime.invoke, args=(spec, b'{"gate": true}'), kwargs=kwargs, daemon=True
    )
    thread.start()
    gate.wait_started()
    return thread


def test_reserved_concurrency_one_throttles_a_second_call(
    runtime: Runtime, make_spec: MakeSpec, gate: Gate
) -> None:
    """With reserved concurrency 1, a concurrent second invoke raises TooManyRequests."""
    spec = gated_spec(make_spec, gate)
    runtime.invoke(spec, b"{}", reserved_concurrency=1)
    holder = hold_slot(runtime, spec, gate, reserved_concurrency=1)
    with pytest.raises(TooManyRequests) as raised:
        runtime.invoke(spec, b"{}", reserved_concurrency=1)
    assert raised.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert raised.value.error_code == "TooManyRequestsException"
    assert runtime.in_flight("fn") == 1
    gate.release()
    holder.join(10)
    assert payload(runtime.invoke(spec, b"{}", reserved_concurrency=1)) == "done"
    assert runtime.stats()["fn"]["throttles"] == 1


def test_reserved_concurrency_zero_always_throttles(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Reserved concurrency 0 throttles every synchronous call, even one willing to wait."""
    spec = make_spec()
    for wait in (False, True):
        with pytest.raises(TooManyRequests) as raised:
            runtime.invoke(spec, b"{}", reserved_concurrency=0, wait=wait, wait_timeout=5)
        assert raised.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert runtime.in_flight() == 0


def test_account_pool_is_shared(tmp_path: Path, make_spec: MakeSpec, gate: Gate) -> None:
    """Functions without a reservation share the account pool; a reserved one does not."""
    with Runtime(tmp_path / "rt", base_env={}, account_concurrency=1) as runtime:
        holder = hold_slot(runtime, gated_spec(make_spec, gate, name="a"), gate)
        with pytest.raises(TooManyRequests) as raised:
            runtime.invoke(make_spec(name="b"), b"{}")
        assert raised.value.reason == "ConcurrentInvocationLimitExceeded"
        assert payload(runtime.invoke(make_spec(name="c"), b"1", reserved_concurrency=1)) == 1
        gate.release()
        holder.join(10)


def test_waiting_caller_gets_the_slot_when_it_frees(
    runtime: Runtime, make_spec: MakeSpec, gate: Gate
) -> None:
    """wait=True blocks until a slot frees, then runs; wait_timeout bounds the wait."""
    spec = gated_spec(make_spec, gate)
    holder = hold_slot(runtime, spec, gate, reserved_concurrency=1)
    with pytest.raises(TooManyRequests):
        runtime.invoke(spec, b"{}", reserved_concurrency=1, wait=True, wait_timeout=0.05)
    results: list[InvocationResult] = []
    waiter = threading.Thread(
        target=lambda: results.append(
            runtime.invoke(spec, b"{}", reserved_concurrency=1, wait=True, wait_timeout=30)
        )
    )
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not results
    gate.release()
    waiter.join(10)
    holder.join(10)
    assert payload(results[0]) == "done"


def test_async_invocation_runs_and_reports(runtime: Runtime, make_spec: MakeSpec) -> None:
    """invoke_async returns a request id at once; the job runs and on_done gets the result."""
    done: list[InvocationResult] = []
    request_id = runtime.invoke_async(make_spec(), b'{"k": 1}', on_done=done.append)
    assert runtime.wait_idle(30)
    assert [r.request_id for r in done] == [request_id]
    assert payload(done[0]) == {"k": 1}
    assert runtime.in_flight() == 0


def test_async_errors_are_retried_twice(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path, sleeps: list[float]
) -> None:
    """A failing async invocation runs three times in all, sleeping 1 s then 2 s in between."""
    attempts = tmp_path / "attempts"
    spec = make_spec(
        "def lambda_handler(event, context):\n"
        f"    with open({str(attempts)!r}, 'a') as f:\n"
        "        f.write(context.aws_request_id + '\\n')\n"
        "    raise ValueError('always')\n"
    )
    done: list[InvocationResult] = []
    request_id = runtime.invoke_async(spec, b"{}", on_done=done.append)
    assert runtime.wait_idle(30)
    assert attempts.read_text().split() == [request_id] * 3
    assert sleeps == [1.0, 2.0]
    assert len(done) == 1 and payload(done[0])["errorType"] == "ValueError"
    assert runtime.stats()["fn"]["errors"] == 3


def test_async_retries_can_be_limited(
    runtime: Runtime, make_spec: MakeSpec, sleeps: list[float]
) -> None:
    """max_retry_attempts=0 runs a failing async invocation once."""
    spec = make_spec("def lambda_handler(event, context):\n    raise ValueError('x')\n")
    runtime.invoke_async(spec, b"{}", max_retry_attempts=0)
    assert runtime.wait_idle(30)
    assert sleeps == [] and runtime.stats()["fn"]["invocations"] == 1


def test_async_work_queues_under_zero_until_raised(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """Under reserved concurrency 0 async work waits, never lost, and runs in order once raised."""
    order = tmp_path / "order"
    spec = make_spec(
        "def lambda_handler(event, context):\n"
        f"    with open({str(order)!r}, 'a') as f:\n"
        "        f.write(str(event) + '\\n')\n"
        "    return event\n"
    )
    done: list[InvocationResult] = []
    for n in range(3):
        runtime.invoke_async(spec, str(n).encode(), reserved_concurrency=0, on_done=done.append)
    assert runtime.in_flight("fn") == 3
    assert not runtime.wait_idle(0.1)
    assert runtime.stats()["fn"]["queued"] == 3 and not done and not order.exists()
    runtime.set_reserved_concurrency("fn", 1)
    assert runtime.wait_idle(30)
    assert order.read_text().split() == ["0", "1", "2"]
    assert sorted(payload(r) for r in done) == [0, 1, 2]


def test_async_queue_respects_the_limit(runtime: Runtime, make_spec: MakeSpec, gate: Gate) -> None:
    """Queued async jobs wait for a slot held by a synchronous call, then run in order."""
    spec = gated_spec(make_spec, gate)
    holder = hold_slot(runtime, spec, gate, reserved_concurrency=1)
    done: list[InvocationResult] = []
    runtime.invoke_async(spec, b"{}", reserved_concurrency=1, on_done=done.append)
    assert runtime.in_flight("fn") == 2
    assert not runtime.wait_idle(0.1) and not done
    gate.release()
    assert runtime.wait_idle(30)
    holder.join(10)
    assert payload(done[0]) == "done"


def test_wait_idle_times_out_while_busy(runtime: Runtime, make_spec: MakeSpec, gate: Gate) -> None:
    """wait_idle is False while an invocation runs and True as soon as it ends."""
    assert runtime.wait_idle(0)
    holder = hold_slot(runtime, gated_spec(make_spec, gate), gate)
    assert not runtime.wait_idle(0.05)
    gate.release()
    assert runtime.wait_idle(30)
    holder.join(10)
