"""Handlers that hang, exit, crash or flood their output never take the runtime down."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from labkit.runtime import Runtime

from .conftest import MakeSpec, gone, messages, payload

MISBEHAVING = """
import ctypes, os, subprocess, sys, threading, time

def lambda_handler(event, context):
    how = event.get("how")
    if how == "sleep":
        child = subprocess.Popen(["sleep", "30"])
        with open(event["pidfile"], "w") as f:
            f.write(str(child.pid))
        time.sleep(30)
    if how == "exit":
        sys.exit(3)
    if how == "exit0":
        sys.exit()
    if how == "exit-with-thread":
        threading.Thread(target=time.sleep, args=(30,)).start()
        sys.exit(1)
    if how == "os_exit":
        os._exit(9)
    if how == "segfault":
        ctypes.string_at(0)
    if how == "kill":
        os.kill(os.getpid(), 9)
    return os.getpid()
"""


def test_timeout_kills_worker_and_its_children(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """Past its timeout the worker's whole process group is killed; the next call cold-starts."""
    spec = make_spec(MISBEHAVING, timeout=1)
    worker_pid = payload(runtime.invoke(spec, b"{}"))
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    result = runtime.invoke(spec, f'{{"how": "sleep", "pidfile": "{pidfile}"}}'.encode())
    assert time.monotonic() - started < 5
    body = payload(result)
    assert result.timed_out and result.function_error == "Unhandled"
    assert body == {
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    lines = messages(result.log_lines)
    assert lines[-3].endswith(f"{result.request_id} Task timed out after 1.00 seconds")
    assert lines[-1].endswith("\tStatus: timeout")
    assert result.duration_ms == 1000.0
    assert gone(worker_pid)
    assert gone(int(pidfile.read_text()))
    after = runtime.invoke(spec, b"{}")
    assert after.function_error is None and after.init_duration_ms is not None
    assert runtime.stats()["fn"]["timeouts"] == 1


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("exit", "exit status 3"),
        ("exit-with-thread", "exit status 1"),
        ("os_exit", "exit status 9"),
        ("segfault", "signal: segmentation fault"),
        ("kill", "signal: killed"),
    ],
)
def test_dying_worker_is_an_exit_error(
    runtime: Runtime, make_spec: MakeSpec, how: str, reason: str
) -> None:
    """sys.exit, os._exit, a segfault or a kill give Runtime.ExitError; the next call works."""
    spec = make_spec(MISBEHAVING)
    worker_pid = payload(runtime.invoke(spec, b"{}"))
    result = runtime.invoke(spec, f'{{"how": "{how}"}}'.encode())
    assert result.function_error == "Unhandled"
    message = f"RequestId: {result.request_id} Error: Runtime exited with error: {reason}"
    assert payload(result) == {"errorMessage": message, "errorType": "Runtime.ExitError"}
    assert gone(worker_pid)
    after = runtime.invoke(spec, b"{}")
    assert after.function_error is None and after.init_duration_ms is not None


def test_exit_without_status(runtime: Runtime, make_spec: MakeSpec) -> None:
    """sys.exit() with no status says the runtime exited without a reason."""
    result = runtime.invoke(make_spec(MISBEHAVING), b'{"how": "exit0"}')
    assert payload(result)["errorMessage"] == (
        f"RequestId: {result.request_id} Error: Runtime exited without providing a reason"
    )


def test_segfault_trace_is_logged(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A crash's Python-level trace shows in the invocation's log lines."""
    result = runtime.invoke(make_spec(MISBEHAVING), b'{"how": "segfault"}')
    lines = messages(result.log_lines)
    assert any("Segmentation fault" in line for line in lines)
    assert any("Runtime exited with error: signal: segmentation fault" in line for line in lines)


def test_huge_output_is_truncated(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Output past 1 MB per invocation is dropped with a note; the invocation still succeeds."""
    spec = make_spec(
        "import sys\n"
        "def lambda_handler(event, context):\n"
        "    line = 'x' * 99 + '\\n'\n"
        "    for _ in range(30000):\n"
        "        sys.stdout.write(line)\n"
        "    print('last words')\n"
        "    return 'done'\n"
    )
    result = runtime.invoke(spec, b"{}")
    assert payload(result) == "done"
    lines = messages(result.log_lines)
    kept = sum(len(line) for line in lines if line.startswith("xxx"))
    assert 1_000_000 < kept <= 1024 * 1024
    assert "last words" not in lines
    assert any(line.startswith("[labkit] output truncated") for line in lines)
    assert lines[-2] == f"END RequestId: {result.request_id}"
    again = runtime.invoke(spec, b"{}")
    assert payload(again) == "done"


def test_background_output_goes_to_a_later_invocation(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """Output a thread writes after the handler returned shows up in the next invocation."""
    spec = make_spec(
        """
        import os, threading, time

        def late(folder):
            while not os.path.exists(os.path.join(folder, "go")):
                time.sleep(0.01)
            print("late line", flush=True)
            open(os.path.join(folder, "printed"), "w").close()

        def lambda_handler(event, context):
            if "folder" in event:
                threading.Thread(target=late, args=(event["folder"],)).start()
            return 1
        """
    )
    first = runtime.invoke(spec, f'{{"folder": "{tmp_path}"}}'.encode())
    assert "late line" not in messages(first.log_lines)
    (tmp_path / "go").touch()
    deadline = time.monotonic() + 10
    while not (tmp_path / "printed").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    second = runtime.invoke(spec, b"{}")
    assert "late line" in messages(second.log_lines)


def test_worker_dying_while_idle_is_replaced(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """A warm worker that died between invocations is not used; the next call cold-starts."""
    spec = make_spec(
        """
        import os, threading, time

        def die_later(flag):
            while not os.path.exists(flag):
                time.sleep(0.005)
            os._exit(1)

        def lambda_handler(event, context):
            if "flag" in event:
                threading.Thread(target=die_later, args=(event["flag"],), daemon=True).start()
            return os.getpid()
        """
    )
    pid = payload(runtime.invoke(spec, f'{{"flag": "{tmp_path / "die"}"}}'.encode()))
    (tmp_path / "die").touch()
    deadline = time.monotonic() + 10
    # Wait until the worker has fully exited (waitable), without reaping it ourselves.
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    result = runtime.invoke(spec, b"{}")
    assert result.function_error is None and result.init_duration_ms is not None
