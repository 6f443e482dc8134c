"""Starting, stopping and finding the local cloud process from the learner's side."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .auth_keys import (
    Credentials,
    CredentialsError,
    learner_credentials,
    private_dir,
    remember_port,
    remembered_port,
)
from .settings import DEFAULT_REGION, HOST, CloudPaths, default_port, endpoint_for

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


#: The credentials of each cloud this process started or found, by endpoint.
_KNOWN: dict[str, Credentials] = {}
_KNOWN_LOCK = threading.Lock()


def _remember(endpoint: str, credentials: Credentials) -> None:
    with _KNOWN_LOCK:
        _KNOWN[endpoint] = credentials


def credentials_for(endpoint: str) -> Credentials | None:
    """The learner credentials of the cloud at ``endpoint``: of a cloud this process started
    or found, else those in the environment (which ``Lab()`` sets)."""
    with _KNOWN_LOCK:
        known = _KNOWN.get(endpoint.rstrip("/"))
    if known is not None:
        return known
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    return Credentials(key, secret) if key and secret else None


def signed_request(
    url: str, credentials: Credentials | None, method: str = "GET"
) -> urllib.request.Request:
    """A request (GET by default) of a ``/_labkit/`` URL, signed with SigV4 as every request
    to the cloud must be."""
    if credentials is None:
        return urllib.request.Request(url, method=method)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    request = AWSRequest(method=method, url=url)
    keys = ReadOnlyCredentials(credentials.access_key, credentials.secret_key, None)
    SigV4Auth(keys, "labkit", DEFAULT_REGION).add_auth(request)
    return urllib.request.Request(url, headers=dict(request.headers.items()), method=method)


def _get_json(
    url: str, credentials: Credentials | None = None, timeout: float = 2.0
) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(signed_request(url, credentials), timeout=timeout) as response:
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
    try:
        credentials = learner_credentials(data_dir)
    except CredentialsError:
        return None
    health = _get_json(f"{info['endpoint']}/_labkit/health", credentials)
    if health is None or health.get("pid") != info["pid"]:
        return None
    _remember(info["endpoint"], credentials)
    return CloudInfo(info["endpoint"], int(info["port"]), int(info["pid"]), data_dir, True)


def port_is_free(port: int) -> bool:
    """True if a server could listen on ``HOST:port`` now (nothing of anyone else's is there)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def choose_port(data_dir: Path, port: int | None) -> int:
    """The port to start on: ``port`` if given (it must be free); else the one this data
    directory remembers, or the default, or (when that is taken, say by another user's cloud
    on a shared machine) a free one, which the data directory then remembers."""
    if port is not None:
        if not port_is_free(port):
            raise CloudError(
                f"Port {port} on {HOST} is in use by another program. Pick another port with "
                "--port, or leave --port out and labkit picks a free one for this data dir."
            )
        return port
    wanted = remembered_port(data_dir) or default_port()
    if port_is_free(wanted):
        return wanted
    chosen = free_port()
    remember_port(data_dir, chosen)
    return chosen


def server_env() -> dict[str, str]:
    """The cloud process's environment: this one's, with glibc's malloc held to two arenas.

    The cloud's request threads would otherwise each get an arena of their own, and a long
    session keeps their free space: about 17 MB more after a 10,000-trade round. The cloud's
    threads share one GIL, so they gain nothing from more arenas. A value already set wins.
    """
    env = dict(os.environ)
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def start(
    port: int | None,
    data_dir: Path,
    *,
    cors_origins: Iterable[str] = (),
    guarded: bool = True,
    timeout: float = READY_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> CloudInfo:
    """Start the cloud in the background and return once it answers requests.

    ``port`` None means: this data directory's usual port (see :func:`choose_port`).
    ``guarded=False`` (benchmarks only) serves without Host, origin and signature checks.
    """
    try:
        data_dir = private_dir(data_dir)
        credentials = learner_credentials(data_dir)
    except CredentialsError as error:
        raise CloudError(str(error)) from None
    running = find_running(data_dir)
    if running is not None:
        return running
    port = choose_port(data_dir, port)
    paths = CloudPaths(data_dir)
    origins = [arg for origin in cors_origins for arg in ("--cors-origin", origin)]
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
                *origins,
                *([] if guarded else ["--unguarded"]),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=server_env(),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = _get_json(f"{endpoint_for(port)}/_labkit/health", credentials, timeout=1.0)
        if health is not None and health.get("pid") == process.pid:
            _remember(endpoint_for(port), credentials)
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


def wait_idle(
    endpoint: str, timeout: float = 60.0, *, credentials: Credentials | None = None
) -> None:
    """Return once every event source mapping of the cloud at ``endpoint`` has caught up and
    no invocation runs; raise IdleTimeout, saying what is behind, after ``timeout`` seconds."""
    url = f"{endpoint}/_labkit/wait-idle?timeout={timeout}"
    request = signed_request(url, credentials or credentials_for(endpoint))
    try:
        with urllib.request.urlopen(request, timeout=timeout + 10) as response:
            response.read()
    except urllib.error.HTTPError as busy:
        detail = json.loads(busy.read() or b"{}")
        raise IdleTimeout(detail.get("message") or f"Still busy after {timeout:.0f} s.") from None


def status(data_dir: Path) -> dict[str, Any] | None:
    """The running cloud's status document, or None when it is not running."""
    running = find_running(data_dir.expanduser().resolve())
    if running is None:
        return None
    return cloud_status(running.endpoint)


def cloud_status(endpoint: str, credentials: Credentials | None = None) -> dict[str, Any] | None:
    """The status document of the cloud at ``endpoint`` (None if it does not answer)."""
    return _get_json(
        f"{endpoint}/_labkit/status", credentials or credentials_for(endpoint), timeout=10.0
    )


def backdate_stream(endpoint: str, stream_arn: str, seconds: float) -> int:
    """Make the records of a DynamoDB stream in the local cloud ``seconds`` older; returns how
    many records the stream holds. Lets MaximumRecordAgeInSeconds (60 s minimum) be shown
    without waiting a minute."""
    from urllib.parse import urlencode

    query = urlencode({"arn": stream_arn, "seconds": seconds})
    url = f"{endpoint}/_labkit/backdate-stream?{query}"
    request = signed_request(url, credentials_for(endpoint), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(json.loads(response.read())["records"])
    except urllib.error.HTTPError as refused:
        detail = json.loads(refused.read() or b"{}")
        raise CloudError(detail.get("message") or f"backdating {stream_arn} failed") from None
