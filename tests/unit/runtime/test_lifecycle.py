"""Workers are retired on code or config changes, after idling, and at shutdown."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psutil
import pytest

from labkit.runtime import (
    InvalidRuntime,
    InvalidZipFile,
    LogLine,
    Runtime,
    RuntimeClosed,
)

from .conftest import MakeSpec, MakeZip, gone, payload

PID_CODE = "import os\ndef lambda_handler(event, context):\n    return os.getpid()\n"


def test_new_code_retires_old_workers(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A new code sha runs the new code at once, and the old warm worker is stopped."""
    old = make_spec("import os\ndef lambda_handler(e, c):\n    return ['v1', os.getpid()]\n")
    version, old_pid = payload(runtime.invoke(old, b"{}"))
    assert version == "v1"
    new = make_spec("def lambda_handler(e, c):\n    return 'v2'\n")
    assert new.code_sha256 != old.code_sha256
    result = runtime.invoke(new, b"{}")
    assert payload(result) == "v2" and result.init_duration_ms is not None
    assert gone(old_pid)
    assert runtime.stats()["fn"]["warm_workers"] == 1


def test_config_or_credentials_change_retires_old_workers(
    runtime: Runtime, make_spec: MakeSpec
) -> None:
    """New environment variables or new role credentials start a fresh worker."""
    spec = make_spec(PID_CODE, environment={"A": "1"})
    first = payload(runtime.invoke(spec, b"{}"))
    assert payload(runtime.invoke(spec, b"{}")) == first
    changed = dataclasses.replace(spec, environment={"A": "2"})
    second = payload(runtime.invoke(changed, b"{}"))
    assert second != first and gone(first)
    third = payload(runtime.invoke(changed, b"{}", extra_env={"AWS_ACCESS_KEY_ID": "other"}))
    assert third != second and gone(second)


def test_retire_stops_idle_workers_now(runtime: Runtime, make_spec: MakeSpec) -> None:
    """retire() kills the function's idle workers; the next call cold-starts."""
    spec = make_spec(PID_CODE)
    pid = payload(runtime.invoke(spec, b"{}"))
    runtime.retire("fn")
    assert gone(pid)
    assert runtime.invoke(spec, b"{}").init_duration_ms is not None


def test_retire_stops_busy_workers_when_they_finish(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """A worker running during retire() finishes its invocation, then is stopped."""
    release = tmp_path / "release"
    spec = make_spec(
        "import os, time\n"
        "def lambda_handler(event, context):\n"
        f"    while event.get('wait') and not os.path.exists({str(release)!r}):\n"
        "        time.sleep(0.005)\n"
        "    return os.getpid()\n",
        timeout=30,
    )
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(payload(runtime.invoke(spec, b'{"wait": true}')))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while runtime.stats().get("fn", {}).get("busy_workers") != 1 or not runtime.worker_pids():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    runtime.retire("fn")
    release.touch()
    thread.join(10)
    assert gone(results[0])
    assert runtime.invoke(spec, b"{}").init_duration_ms is not None


def test_idle_workers_expire_after_the_ttl(tmp_path: Path, make_spec: MakeSpec) -> None:
    """Workers idle longer than idle_worker_ttl (by the injected clock) are stopped."""
    now = [1_800_000_000.0]
    with Runtime(tmp_path / "rt", base_env={}, idle_worker_ttl=60, clock=lambda: now[0]) as runtime:
        pid = payload(runtime.invoke(make_spec(PID_CODE), b"{}"))
        now[0] += 59
        assert runtime.reap_idle() == 0
        now[0] += 2
        assert runtime.reap_idle() == 1
        assert gone(pid)


def test_idle_workers_are_capped(tmp_path: Path, make_spec: MakeSpec) -> None:
    """Beyond max_idle_workers, the least recently used idle worker is stopped."""
    with Runtime(tmp_path / "rt", base_env={}, max_idle_workers=1) as runtime:
        first = payload(runtime.invoke(make_spec(PID_CODE, name="a"), b"{}"))
        payload(runtime.invoke(make_spec(PID_CODE, name="b"), b"{}"))
        assert gone(first)
        assert len(runtime.worker_pids()) == 1


def test_shutdown_leaves_no_processes(
    runtime: Runtime, make_spec: MakeSpec, tmp_path: Path
) -> None:
    """shutdown() kills idle and busy workers and their children; it is idempotent."""
    pidfile = tmp_path / "child.pid"
    hanging = make_spec(
        "import subprocess, time\n"
        "def lambda_handler(event, context):\n"
        "    child = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
        f"    open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "    time.sleep(60)\n",
        name="hang",
        timeout=60,
    )
    unrelated = {child.pid for child in psutil.Process(os.getpid()).children(recursive=True)}
    runtime.invoke(make_spec(PID_CODE, name="idle"), b"{}")
    thread = threading.Thread(target=runtime.invoke, args=(hanging, b"{}"), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    workers = runtime.worker_pids()
    assert len(workers) == 2
    runtime.shutdown()
    runtime.shutdown()
    thread.join(10)
    assert all(gone(pid) for pid in [*workers, int(pidfile.read_text())])
    remaining = {child.pid for child in psutil.Process(os.getpid()).children(recursive=True)}
    assert remaining <= unrelated
    with pytest.raises(RuntimeClosed):
        runtime.invoke(make_spec(), b"{}")
    with pytest.raises(RuntimeClosed):
        runtime.invoke_async(make_spec(), b"{}")


def test_unsupported_runtime_is_refused(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A non-Python runtime raises InvalidRuntime before anything runs."""
    with pytest.raises(InvalidRuntime):
        runtime.invoke(make_spec(runtime="nodejs20.x"), b"{}")


def test_zip_slip_is_refused(runtime: Runtime, make_spec: MakeSpec, tmp_path: Path) -> None:
    """A code zip with an entry escaping the code directory is refused and nothing escapes."""
    spec = make_spec(files={"lambda_function.py": PID_CODE, "../../escaped.py": "x = 1"})
    with pytest.raises(InvalidZipFile):
        runtime.invoke(spec, b"{}")
    assert not list(tmp_path.rglob("escaped.py"))
    assert runtime.in_flight() == 0


def test_code_loader_runs_once_per_sha(
    runtime: Runtime, make_spec: MakeSpec, make_zip: MakeZip
) -> None:
    """A lazy code_zip loader is called only for a sha not unpacked yet."""
    calls: list[int] = []
    data = make_zip({"lambda_function.py": PID_CODE})

    def load() -> bytes:
        calls.append(1)
        return data

    spec = make_spec(PID_CODE, code_zip=load)
    runtime.invoke(spec, b"{}")
    runtime.retire("fn")
    runtime.invoke(spec, b"{}")
    assert calls == [1]


def test_failing_log_sink_and_callback_are_contained(tmp_path: Path, make_spec: MakeSpec) -> None:
    """A log sink or on_done that raises does not break invocations."""

    def bad_sink(group: str, stream: str, lines: Sequence[LogLine]) -> None:
        raise RuntimeError("sink down")

    def bad_callback(result: object) -> None:
        raise RuntimeError("callback down")

    with Runtime(tmp_path / "rt", base_env={}, log_sink=bad_sink) as runtime:
        assert runtime.invoke(make_spec(), b"1").payload == b"1"
        runtime.invoke_async(make_spec(), b"2", on_done=bad_callback)
        assert runtime.wait_idle(30)
        assert runtime.invoke(make_spec(), b"3").payload == b"3"
