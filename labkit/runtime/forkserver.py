"""The runtime's side of the fork server: workers forked from a warm template process.

A fresh interpreter that imports boto3 takes about 300 ms; forking the template (which has
already imported the worker, boto3 and botocore; see :mod:`labkit.runtime.template`) takes a few
milliseconds. Each forked worker is still a process of its own per execution environment: its own
session, environment, working directory, module state and handler import.

A worker is forked only when that cannot change what the function sees: when its environment sets
no ``PYTHON*`` variable (the interpreter reads those at start-up), agrees with the template's on
the variables read while the interpreter and botocore start (:data:`READ_AT_START`: the locale,
and ``HOME`` for the ``~/.aws`` folders botocore fixes at import), and its code does not bring a
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

# Read once, when the interpreter starts (locale) or botocore is imported (HOME: ~/.aws/models,
# ~/.aws/sso/cache, ~/.aws/boto/cache); a forked worker would keep the template's values.
READ_AT_START = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "BOTO_DISABLE_CRT")

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


class _Template:
    """One template process: started at once, greeted once, asked to fork."""

    def __init__(self, number: int, command: list[str], env: Mapping[str, str]) -> None:
        self.number = number
        self.preloaded: frozenset[str] = frozenset()
        self.ready = False
        self.broken = False
        self.lock = threading.Lock()
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self.proc = subprocess.Popen(
                [*command, str(theirs.fileno())],
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
            log.warning("a fork server template did not start (%s)", exc)
            self.broken = True
        finally:
            theirs.close()

    @property
    def pid(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None
        return self.proc.pid

    def await_ready(self) -> bool:
        """Wait (once) for the template's greeting."""
        with self.lock:
            if self.ready or self.broken:
                return self.ready
            data = b""
            with contextlib.suppress(OSError, ValueError):  # ValueError: closed meanwhile
                readable, _, _ = select.select([self.control], [], [], _READY_SECONDS)
                if readable:
                    data = self.control.recv(1 << 20)
            if not data:
                if not self.broken:  # (a template stopped while starting says nothing)
                    log.warning("a fork server template did not answer")
                self.broken = True
                return False
            greeting = json.loads(data)
            self.preloaded = frozenset(str(name) for name in greeting.get("preloaded", ()))
            self.ready = True
            return True

    def fork(self, request: dict[str, Any], fds: tuple[int, int, int]) -> ForkedChild | None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self.lock:
                socket.send_fds(
                    self.control, [json.dumps(request).encode()], [theirs.fileno(), *fds]
                )
        except OSError as exc:
            log.warning("a fork server template failed (%s)", exc)
            self.broken = True
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
        self.broken = True
        # Shut the socket down before closing it: a thread waiting for the greeting (a
        # template stopped while it was still starting) then wakes at once. After a plain
        # close it waits for the template's end to close, up to the whole _READY_SECONDS.
        with contextlib.suppress(OSError):
            self.control.shutdown(socket.SHUT_RDWR)
        with self.lock, contextlib.suppress(OSError):
            self.control.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=_EXIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ForkServer:
    """Warm templates to fork workers from.

    Each template forks at most one execution environment per function: a function's every
    environment then comes from a different interpreter, with its own string-hash seed, as on
    AWS (a set's order differs between environments; a check relies on that). Different
    functions share a template, and with it the pages it imported. Once a function has needed a
    new template, one more is started ahead of the next need; at most :data:`MAX_TEMPLATES` run
    (the oldest is stopped; its workers run on). A template started ahead that no function has
    used after :data:`SPARE_IDLE_SECONDS` is stopped: it holds about 40 MB of its own.
    """

    MAX_TEMPLATES = 4
    SPARE_IDLE_SECONDS = 60.0

    def __init__(self, *, package_dir: Path, command: list[str], env: Mapping[str, str]) -> None:
        self._package_dir = package_dir
        self._command = [*command, _TEMPLATE_BOOTSTRAP, str(package_dir)]
        self._env = dict(env)
        self._lock = threading.Lock()
        self._templates: list[_Template] = []
        self._used: dict[str, set[int]] = {}
        self._started = 0
        self._shadowing: dict[str, bool] = {}
        self._retirements: list[threading.Timer] = []
        self._closed = not become_subreaper()
        if self._closed:
            log.info("this system cannot adopt forked workers; workers start cold")
            return
        self._add_template()

    def _add_template(self) -> _Template:
        """Start one more template (call with the lock held, or from __init__)."""
        template = _Template(self._started, self._command, self._env)
        self._started += 1
        self._templates.append(template)
        while len(self._templates) > self.MAX_TEMPLATES:
            threading.Thread(target=self._templates.pop(0).close, daemon=True).start()
        return template

    def _retire_unless_used(self, spare: _Template) -> None:
        """Stop ``spare`` after :data:`SPARE_IDLE_SECONDS` unless a function has used it."""

        def retire() -> None:
            with self._lock:
                used = any(spare.number in numbers for numbers in self._used.values())
                if used or spare not in self._templates or len(self._templates) == 1:
                    return
                self._templates.remove(spare)
            spare.close()

        timer = threading.Timer(self.SPARE_IDLE_SECONDS, retire)
        timer.daemon = True
        self._retirements = [t for t in self._retirements if t.is_alive()] + [timer]
        timer.start()

    def settle(self) -> None:
        """Wait until every spare due to be stopped has been (tests use it)."""
        with self._lock:
            pending = list(self._retirements)
        for timer in pending:
            timer.join()

    def pids(self) -> list[int]:
        """The running templates' pids."""
        with self._lock:
            templates = list(self._templates)
        return [pid for pid in (t.pid for t in templates) if pid is not None]

    def _choose(self, function: str) -> _Template | None:
        """The template this function's next environment comes from."""
        with self._lock:
            if self._closed:
                return None
            used = self._used.setdefault(function, set())
            template = next(
                (t for t in self._templates if t.number not in used and not t.broken), None
            )
            if template is None:
                template = self._add_template()
                # A function needed another environment: have a template ready for the next.
                self._retire_unless_used(self._add_template())
            used.add(template.number)
            return template

    def usable_for(self, env: Mapping[str, str], task_root: Path) -> bool:
        """Whether a worker with ``env`` and code in ``task_root`` may be forked."""
        if self._closed or any(name.startswith("PYTHON") for name in env):
            return False
        if any(env.get(name) != self._env.get(name) for name in READ_AT_START):
            return False
        first = next(iter(self._templates), None)
        if first is None or not first.await_ready():
            return False
        key = str(task_root)
        if key not in self._shadowing:
            try:
                names = {entry.split(".", 1)[0] for entry in os.listdir(task_root)}
            except OSError:
                names = set()
            self._shadowing[key] = bool(names & first.preloaded)
        return not self._shadowing[key]

    def spawn(
        self, *, function: str, env: Mapping[str, str], cwd: Path, fds: tuple[int, int, int]
    ) -> ForkedChild | None:
        """Fork an environment of ``function`` with the request pipe, response pipe and output
        pipe ``fds``; None when that is not possible (the caller starts the worker cold)."""
        template = self._choose(function)
        if template is None or not template.await_ready():
            return None
        request = {"env": dict(env), "cwd": str(cwd), "root": str(self._package_dir)}
        return template.fork(request, fds)

    def close(self) -> None:
        """Stop the templates (workers forked from them run on). Idempotent."""
        with self._lock:
            self._closed = True
            templates, self._templates = self._templates, []
        for template in templates:
            template.close()
