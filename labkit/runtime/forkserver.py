"""The runtime's side of the fork server: workers forked from a warm template process.

A fresh interpreter that imports boto3 takes about 300 ms; forking the template (which has
already imported the worker, boto3 and botocore; see :mod:`labkit.runtime.template`) takes a few
milliseconds. Each forked worker is still a process of its own per execution environment: its own
session, environment, working directory, module state and handler import.

A worker is forked only when that cannot change what the function sees: when its environment sets
no ``PYTHON*`` variable (the interpreter reads those at start-up) and its code does not bring a
package of the same name as one the template has loaded (the function's copy must win). Otherwise,
or when the template cannot start, the worker starts as a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labkit.runtime.bootstrap import bootstrap_source

log = logging.getLogger("labkit.runtime")

_READY_SECONDS = 60.0
_SPAWN_SECONDS = 10.0
_EXIT_SECONDS = 5.0
_PR_SET_CHILD_SUBREAPER = 36

_TEMPLATE_BOOTSTRAP = bootstrap_source(
    "from labkit.runtime.worker import main as worker_main\n"
    "from labkit.runtime.template import main",
    "main(sys.argv[1:], worker_main)",
)


class ForkedChild:
    """A worker forked by the template and adopted by this process: waited for like a child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.max_rss_kb = 0

    def poll(self) -> int | None:
        """The exit code once the worker has exited, else None (does not block)."""
        if self.returncode is None:
            self._wait(os.WNOHANG)
        return self.returncode

    def wait(self) -> int | None:
        """Wait for the worker (it has been killed) and return its exit code."""
        if self.returncode is None:
            self._wait(0)
        return self.returncode

    def _wait(self, options: int) -> None:
        try:
            pid, status, usage = os.wait4(self.pid, options)
        except ChildProcessError:
            self.returncode = -9 if self.returncode is None else self.returncode
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)
            self.max_rss_kb = int(usage.ru_maxrss)


def become_subreaper() -> bool:
    """Make this process adopt its orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so
    a worker forked by the template is this process's child. False where that is impossible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except Exception:
        return False


class ForkServer:
    """Starts the template at once; :meth:`spawn` forks a worker from it."""

    def __init__(self, *, package_dir: Path, command: list[str], env: Mapping[str, str]) -> None:
        self._package_dir = package_dir
        self._lock = threading.Lock()
        self._preloaded: frozenset[str] = frozenset()
        self._ready = False
        self._broken = False
        self._shadowing: dict[str, bool] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        if not become_subreaper():
            log.info("this system cannot adopt forked workers; workers start cold")
            self._broken = True
            return
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [*command, _TEMPLATE_BOOTSTRAP, str(package_dir), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                env=dict(env),
                cwd="/",
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            log.warning("the fork server did not start (%s); workers start cold", exc)
            self._proc = None
            self._broken = True
        finally:
            theirs.close()

    @property
    def pid(self) -> int | None:
        """The template's pid while it runs."""
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    def _await_ready(self) -> bool:
        """Wait (once) for the template's greeting. Call with the lock held."""
        if self._ready or self._broken:
            return self._ready
        readable, _, _ = select.select([self._control], [], [], _READY_SECONDS)
        data = b""
        if readable:
            with contextlib.suppress(OSError):
                data = self._control.recv(1 << 20)
        if not data:
            log.warning("the fork server did not answer; workers start cold")
            self._broken = True
            return False
        greeting = json.loads(data)
        self._preloaded = frozenset(str(name) for name in greeting.get("preloaded", ()))
        self._ready = True
        return True

    def usable_for(self, env: Mapping[str, str], task_root: Path) -> bool:
        """Whether a worker with ``env`` and code in ``task_root`` may be forked."""
        if any(name.startswith("PYTHON") for name in env):
            return False
        with self._lock:
            if not self._await_ready():
                return False
            key = str(task_root)
            if key not in self._shadowing:
                try:
                    names = {entry.split(".", 1)[0] for entry in os.listdir(task_root)}
                except OSError:
                    names = set()
                self._shadowing[key] = bool(names & self._preloaded)
            return not self._shadowing[key]

    def spawn(
        self, *, env: Mapping[str, str], cwd: Path, fds: tuple[int, int, int]
    ) -> ForkedChild | None:
        """Fork a worker with the request pipe, response pipe and output pipe ``fds``; None when
        the fork server cannot (the caller starts the worker cold)."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request: dict[str, Any] = {
            "env": dict(env),
            "cwd": str(cwd),
            "root": str(self._package_dir),
        }
        try:
            with self._lock:
                if not self._await_ready():
                    mine.close()
                    return None
                socket.send_fds(
                    self._control, [json.dumps(request).encode()], [theirs.fileno(), *fds]
                )
        except OSError as exc:
            log.warning("the fork server failed (%s); workers start cold", exc)
            self._broken = True
            mine.close()
            return None
        finally:
            theirs.close()
        readable, _, _ = select.select([mine], [], [], _SPAWN_SECONDS)
        data = b""
        if readable:
            with contextlib.suppress(OSError):
                data = mine.recv(4096)
        mine.close()
        answer: dict[str, Any] = json.loads(data) if data else {}
        if "pid" not in answer:
            log.warning("the fork server could not fork: %s", answer.get("error", "no answer"))
            return None
        return ForkedChild(int(answer["pid"]))

    def close(self) -> None:
        """Stop the template (its idle workers must have been stopped first). Idempotent."""
        self._broken = True
        with contextlib.suppress(OSError):
            self._control.close()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=_EXIT_SECONDS)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
