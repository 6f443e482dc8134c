"""The runtime's handle on one worker subprocess: start it, talk to it, kill it.

A worker is used by one thread at a time (its owner), which alone reads its pipes, closes them
and reaps the process. Any thread may ``kill`` it; the owner then sees the channel close.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from labkit.runtime import protocol
from labkit.runtime.bootstrap import bootstrap_source, interpreter_command, package_dir
from labkit.runtime.capture import DEFAULT_OUTPUT_LIMIT, OutputCollector
from labkit.runtime.forkserver import ForkedChild, ForkServer
from labkit.runtime.spec import LogLine

log = logging.getLogger("labkit.runtime")

_READ_CHUNK = 256 * 1024
_DRAIN_SECONDS = 0.5
_POLL_IN = select.POLLIN | select.POLLPRI
_POLL_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


@dataclass
class Exchange:
    """What one phase (init or an invocation) produced."""

    header: dict[str, Any] | None
    body: bytes
    lines: list[LogLine]
    elapsed_ms: float
    timed_out: bool = False
    exited: bool = False


_BOOTSTRAP = bootstrap_source("from labkit.runtime.worker import main", "main(sys.argv[1:])")


def worker_command() -> list[str]:
    """How a cold worker starts: :func:`interpreter_command` running
    ``labkit.runtime.worker.main`` (the fds follow)."""
    return [*interpreter_command(), _BOOTSTRAP, str(package_dir())]


class WorkerProcess:
    """One running worker subprocess."""

    def __init__(
        self,
        *,
        key: tuple[str, str, str],
        function_name: str,
        version: str,
        log_stream: str,
        env: Mapping[str, str],
        cwd: Path,
        clock: Callable[[], float],
        task_root: Path,
        output_limit: int = DEFAULT_OUTPUT_LIMIT,
        forkserver: ForkServer | None = None,
    ) -> None:
        self.key = key
        self.task_root = task_root
        self.function_name = function_name
        self.version = version
        self.log_stream = log_stream
        self.generation = 0
        self.invocations = 0
        self.last_used = clock()
        self._clock = clock
        self._output_limit = output_limit
        self._token = uuid.uuid4().hex
        self._marker = protocol.output_marker(self._token)
        self._carry = b""
        self._decoder = protocol.FrameDecoder()
        self._lock = threading.Lock()
        self._killed = False
        self._reaped = False
        self._descendants: list[psutil.Process] = []
        self.returncode: int | None = None
        self.max_rss_kb = 0

        req_r, self._req_w = os.pipe()
        self._resp_r, resp_w = os.pipe()
        self._out_r, out_w = os.pipe()
        self._proc: subprocess.Popen[bytes] | ForkedChild
        try:
            forked = None
            if forkserver is not None and forkserver.usable_for(env, task_root):
                forked = forkserver.spawn(
                    function=function_name, env=env, cwd=cwd, fds=(req_r, resp_w, out_w)
                )
            self.forked = forked is not None
            self._proc = forked or subprocess.Popen(
                [*worker_command(), str(req_r), str(resp_w)],
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(req_r, resp_w),
                env=dict(env),
                cwd=str(cwd),
                start_new_session=True,
                close_fds=True,
            )
        except BaseException:
            for fd in (self._req_w, self._resp_r, self._out_r):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        for fd in (self._req_w, self._resp_r, self._out_r):
            os.set_blocking(fd, False)
        self.pid = self._proc.pid

    @property
    def token(self) -> str:
        return self._token

    def alive(self) -> bool:
        """True while the process runs and has not been killed."""
        return not self._killed and self._proc.poll() is None

    # -- talking -------------------------------------------------------------------------------

    def exchange(self, frame: bytes, deadline: float) -> Exchange:
        """Send ``frame`` and collect the answer and the phase's output until ``deadline``
        (a ``time.monotonic`` value). On timeout or when the worker dies, the worker is killed
        and the output it left behind is drained."""
        started = time.monotonic()
        collector = OutputCollector(
            self._marker, self._clock, limit=self._output_limit, initial=self._carry
        )
        self._carry = b""
        pending = memoryview(frame)
        poller = select.poll()
        poller.register(self._out_r, _POLL_IN)
        poller.register(self._resp_r, _POLL_IN)
        answer: tuple[dict[str, Any], bytes] | None = None
        out_open = True
        resp_open = True
        broken = False
        timed_out = False
        try:
            pending = pending[self._write(pending) :]
        except OSError:
            broken = True
        if pending and not broken:
            poller.register(self._req_w, select.POLLOUT)
        while resp_open and not broken:
            if answer is not None and (collector.complete or not out_open):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for fd, events in poller.poll(max(1, int(remaining * 1000) + 1)):
                if fd == self._out_r:
                    data = self._read(fd)
                    if data is None:
                        out_open = False
                        poller.unregister(fd)
                    elif data:
                        collector.feed(data)
                elif fd == self._resp_r:
                    data = self._read(fd)
                    if data is None:
                        resp_open = False
                        poller.unregister(fd)
                    elif data:
                        self._decoder.feed(data)
                        try:
                            answer = answer or self._decoder.next_frame()
                        except ValueError:
                            log.warning("worker %s sent a garbled frame", self.pid)
                            broken = True
                            break
                elif fd == self._req_w:
                    try:
                        if events & _POLL_GONE:
                            raise BrokenPipeError
                        pending = pending[self._write(pending) :]
                    except OSError:
                        broken = True
                        break
                    if not pending:
                        poller.unregister(fd)
        gone = timed_out or broken or not resp_open
        if gone:
            self.kill()
            if out_open and not collector.complete:
                self._drain(collector)
        if collector.complete:
            self._carry = collector.rest
        lines = collector.finish()
        elapsed_ms = (time.monotonic() - started) * 1000
        if answer is None:
            return Exchange(None, b"", lines, elapsed_ms, timed_out=timed_out, exited=True)
        header, body = answer
        return Exchange(header, body, lines, elapsed_ms, exited=gone)

    def _write(self, data: memoryview) -> int:
        if not data:
            return 0
        try:
            return os.write(self._req_w, data)
        except BlockingIOError:
            return 0

    def _read(self, fd: int) -> bytes | None:
        """Bytes available on ``fd``; b"" if none right now; None at end of file."""
        try:
            data = os.read(fd, _READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        if not data:
            return None
        return data

    def _drain(self, collector: OutputCollector) -> None:
        """Read what a dead worker left in its output pipe (bounded: an escaped grandchild may
        hold the pipe open)."""
        deadline = time.monotonic() + _DRAIN_SECONDS
        poller = select.poll()
        poller.register(self._out_r, _POLL_IN)
        while (remaining := deadline - time.monotonic()) > 0:
            if not poller.poll(max(1, int(remaining * 1000))):
                break
            data = self._read(self._out_r)
            if data is None:
                break
            collector.feed(data)

    # -- ending --------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the worker's process group and any descendants that left it. Idempotent,
        callable from any thread."""
        with self._lock:
            if self._killed or self._reaped:
                self._killed = True
                return
            self._killed = True
            self._descendants = _descendants(self.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            for process in self._descendants:
                with contextlib.suppress(Exception):
                    process.kill()

    def close(self) -> int | None:
        """Kill (if needed), reap and release the pipes. Owner only. Returns the exit code
        (negative: the signal that ended it)."""
        self.kill()
        with self._lock:
            if not self._reaped:
                self._reaped = True
                self.returncode, rss = _reap(self._proc)
                self.max_rss_kb = max(self.max_rss_kb, rss)
                for fd in (self._req_w, self._resp_r, self._out_r):
                    with contextlib.suppress(OSError):
                        os.close(fd)
                _wait_gone(self._descendants)
        return self.returncode


def _descendants(pid: int) -> list[psutil.Process]:
    """The worker's child processes, recursively, including those that left its group."""
    try:
        children: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    except Exception:
        return []
    return children


def _wait_gone(processes: list[psutil.Process], timeout: float = 2.0) -> None:
    """Wait briefly until killed processes are really dead (a SIGKILL is not instant)."""
    if processes:
        with contextlib.suppress(Exception):
            psutil.wait_procs(processes, timeout=timeout)


def _reap(proc: subprocess.Popen[bytes] | ForkedChild) -> tuple[int | None, int]:
    """Wait for a killed worker; its exit code and peak RSS in KiB."""
    if isinstance(proc, ForkedChild):
        return proc.wait(), maxrss_kib(proc.max_rss_kb)
    if proc.returncode is not None:
        return proc.returncode, 0
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        proc.returncode = proc.poll()
        return proc.returncode, 0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, maxrss_kib(usage.ru_maxrss)


def maxrss_kib(value: int) -> int:
    """``ru_maxrss`` in KiB (macOS reports bytes, Linux KiB)."""
    return int(value) // 1024 if sys.platform == "darwin" else int(value)
