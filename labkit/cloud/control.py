"""Starting, stopping and finding the local cloud process from the learner's side."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .settings import CloudPaths, endpoint_for

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


class CloudError(RuntimeError):
    """The local cloud could not be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class CloudInfo:
    endpoint: str
    port: int
    pid: int
    data_dir: Path
    already_running: bool = False


def _get_json(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document: dict[str, Any] = json.loads(response.read())
            return document
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_running(data_dir: Path) -> CloudInfo | None:
    """The cloud serving ``data_dir``, if one is running and answering."""
    paths = CloudPaths(data_dir)
    if not paths.info_file.exists():
        return None
    try:
        info = json.loads(paths.info_file.read_text())
    except (OSError, ValueError):
        return None
    if not _pid_alive(int(info.get("pid", 0))):
        return None
    health = _get_json(f"{info['endpoint']}/_labkit/health")
    if health is None or health.get("pid") != info["pid"]:
        return None
    return CloudInfo(info["endpoint"], int(info["port"]), int(info["pid"]), data_dir, True)


def _port_answers(port: int) -> dict[str, Any] | None:
    return _get_json(f"{endpoint_for(port)}/_labkit/health", timeout=1.0)


def start(
    port: int,
    data_dir: Path,
    *,
    timeout: float = READY_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> CloudInfo:
    """Start the cloud in the background and return once it answers requests."""
    data_dir = data_dir.expanduser().resolve()
    running = find_running(data_dir)
    if running is not None:
        return running
    other = _port_answers(port)
    if other is not None:
        raise CloudError(
            f"Port {port} is already used by a local cloud with data dir {other.get('data_dir')}."
            f" Stop it with `labkit down --data-dir {other.get('data_dir')}`, or pick another"
            " port with --port."
        )
    paths = CloudPaths(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_offset = paths.log_file.stat().st_size if paths.log_file.exists() else 0
    with paths.log_file.open("ab") as log_handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labkit.cloud.server",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _port_answers(port)
        if health is not None and health.get("pid") == process.pid:
            return CloudInfo(endpoint_for(port), port, process.pid, data_dir)
        if process.poll() is not None:
            raise CloudError(
                f"The local cloud stopped while starting (exit code {process.returncode}).\n"
                + _log_since(paths.log_file, log_offset)
                + f"\nThe full log is {paths.log_file}."
            )
        sleep(0.05)
    process.terminate()
    raise CloudError(
        f"The local cloud did not answer on {endpoint_for(port)} within {timeout:.0f} s. "
        f"Its log is {paths.log_file}."
    )


def _log_since(log_file: Path, offset: int) -> str:
    try:
        with log_file.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")[-2000:]
    except OSError:
        return ""


def stop(
    data_dir: Path, *, timeout: float = STOP_TIMEOUT, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """Stop the cloud of ``data_dir`` cleanly (it writes a final snapshot). False if none ran."""
    data_dir = data_dir.expanduser().resolve()
    paths = CloudPaths(data_dir)
    if not paths.pid_file.exists():
        return False
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        paths.pid_file.unlink(missing_ok=True)
        return False
    if not _pid_alive(pid):
        paths.pid_file.unlink(missing_ok=True)
        paths.info_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid) or _is_zombie(pid):
            paths.pid_file.unlink(missing_ok=True)
            paths.info_file.unlink(missing_ok=True)
            return True
        sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    paths.pid_file.unlink(missing_ok=True)
    paths.info_file.unlink(missing_ok=True)
    raise CloudError(
        f"The local cloud (pid {pid}) did not stop within {timeout:.0f} s and was killed; "
        "the writes since its last snapshot may be lost."
    )


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


class IdleTimeout(TimeoutError):
    """Work was still in flight when the wait ran out; the message says what is behind."""


def wait_idle(endpoint: str, timeout: float = 60.0) -> None:
    """Return once every event source mapping of the cloud at ``endpoint`` has caught up and
    no invocation runs; raise IdleTimeout, saying what is behind, after ``timeout`` seconds."""
    url = f"{endpoint}/_labkit/wait-idle?timeout={timeout}"
    try:
        with urllib.request.urlopen(url, timeout=timeout + 10) as response:
            response.read()
    except urllib.error.HTTPError as busy:
        detail = json.loads(busy.read() or b"{}")
        raise IdleTimeout(detail.get("message") or f"Still busy after {timeout:.0f} s.") from None


def status(data_dir: Path) -> dict[str, Any] | None:
    """The running cloud's status document, or None when it is not running."""
    running = find_running(data_dir.expanduser().resolve())
    if running is None:
        return None
    return _get_json(f"{running.endpoint}/_labkit/status", timeout=5.0)


def backdate_stream(endpoint: str, stream_arn: str, seconds: float) -> int:
    """Make the records of a DynamoDB stream in the local cloud ``seconds`` older; returns how
    many records the stream holds. Lets MaximumRecordAgeInSeconds (60 s minimum) be shown
    without waiting a minute."""
    from urllib.parse import urlencode

    query = urlencode({"arn": stream_arn, "seconds": seconds})
    request = urllib.request.Request(f"{endpoint}/_labkit/backdate-stream?{query}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.loads(response.read())["records"])
    except urllib.error.HTTPError as refused:
        detail = json.loads(refused.read() or b"{}")
        raise CloudError(detail.get("message") or f"backdating {stream_arn} failed") from None
