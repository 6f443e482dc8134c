"""The fork server's template process: imports what every worker needs once, then forks workers.

Started by :class:`labkit.runtime.forkserver.ForkServer` the way a worker is started (the
interpreter in safe-path mode, without importing the rest of labkit), with one end of a
``SOCK_SEQPACKET`` socket pair as its control channel. It imports the worker module and
boto3/botocore (no session, no client: those are made after the fork, in the worker), freezes
the garbage collector's view of those objects so forked workers keep sharing their pages, then
serves spawn requests until the control channel closes.

A spawn request is one message (JSON: env, cwd, the package folder) with four file
descriptors: a reply socket, the worker's request pipe, response pipe and output pipe. The
template forks; the child becomes an ordinary worker (new session, fds 0/1/2 set up, everything
else closed, its own environment) and runs ``labkit.runtime.worker.main``. The worker is forked
through a go-between that exits at once, so the runtime (a child subreaper) adopts it and waits
for it as for any child of its own. The template answers on the reply socket with the pid.

The template is single-threaded and holds no locks while it forks. Standard library (and
boto3's own imports) only.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from labkit.runtime import botowarm

# Imported before the first fork so workers share them. botocore loads many modules lazily the
# first time a client is made; importing them here keeps that work out of each cold start.
PRELOAD = (
    "boto3",
    "boto3.session",
    "boto3.dynamodb.types",
    "boto3.dynamodb.conditions",
    "boto3.resources.factory",
    "botocore",
    "botocore.session",
    "botocore.client",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.serialize",
    "botocore.httpsession",
    "botocore.credentials",
    "botocore.handlers",
    "botocore.regions",
    "botocore.retries.standard",
    "botocore.config",
    "json",
    "decimal",
    "logging",
    "ctypes",
    "uuid",
)

_MAX_MESSAGE = 1 << 20


def _preload() -> list[str]:
    """Import :data:`PRELOAD` (what is missing is skipped); the top-level names of the
    third-party packages now loaded, which a function's own code must not shadow."""
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    botowarm.prepare()
    stdlib = set(sys.stdlib_module_names)
    tops = {name.split(".", 1)[0] for name in list(sys.modules)}
    return sorted(top for top in tops if top not in stdlib and not top.startswith("_"))


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _close_fds_except(keep: set[int]) -> None:
    """Close every fd above 2 that is not in ``keep``."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _fresh_stdio() -> None:
    """New sys.stdin/stdout/stderr on fds 0/1/2, as a fresh interpreter would have (the
    template's own were opened on /dev/null)."""
    stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    stderr = open(  # noqa: SIM115
        2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
    )
    for name, stream in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


WorkerMain = Callable[[list[str]], NoReturn]


def _become_worker(
    run: WorkerMain, config: dict[str, Any], req_r: int, resp_w: int, out_w: int
) -> NoReturn:
    """In the forked child: turn into a fresh worker and run it; never returns."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        _close_fds_except({req_r, resp_w})
        _fresh_stdio()
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in config["env"].items()})
        time.tzset()
        os.chdir(str(config["cwd"]))
        sys.argv = ["-c", str(config["root"]), str(req_r), str(resp_w)]
        run(sys.argv[1:])
    except BaseException:
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc()
    os._exit(1)


def _fork_worker(run: WorkerMain, config: dict[str, Any], fds: tuple[int, int, int]) -> int:
    """Fork a worker that the runtime (a child subreaper) adopts: fork a go-between that forks
    the worker and leaves at once. The worker waits to be adopted before it starts, so from then
    on its parent is the runtime. Returns the worker's pid."""
    pid_r, pid_w = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(pid_r)
        me = os.getpid()
        try:
            worker = os.fork()
            if worker == 0:
                os.close(pid_w)
                while os.getppid() == me:
                    time.sleep(0.0005)
                _become_worker(run, config, *fds)
            os.write(pid_w, str(worker).encode())
        finally:
            os._exit(0)
    os.close(pid_w)
    with os.fdopen(pid_r, "rb") as answer:
        data = answer.read()
    os.waitpid(middle, 0)
    if not data:
        raise OSError("the go-between process did not fork")
    return int(data)


def _spawn(run: WorkerMain, message: bytes, fds: list[int]) -> None:
    """Handle one spawn request."""
    if len(fds) != 4:
        for fd in fds:
            os.close(fd)
        return
    reply_fd, req_r, resp_w, out_w = fds
    with socket.socket(fileno=reply_fd) as reply:
        try:
            config = json.loads(message)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            pid = _fork_worker(run, config, (req_r, resp_w, out_w))
        except Exception as exc:
            _send(reply, {"error": f"{type(exc).__name__}: {exc}"})
        else:
            _send(reply, {"pid": pid})
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)


def main(argv: list[str], run: WorkerMain) -> NoReturn:
    """Serve spawn requests on the control socket ``argv[1]``; ``run`` is the worker's main."""
    control = socket.socket(fileno=int(argv[1]))
    os.set_inheritable(control.fileno(), False)
    preloaded = _preload()
    # Objects made so far live as long as the template; keep the collector from touching (and
    # so copying) their pages in every worker.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _send(control, {"ready": True, "pid": os.getpid(), "preloaded": preloaded})
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, _MAX_MESSAGE, 8)
        except OSError:
            message, fds = b"", []
        if not message and not fds:
            os._exit(0)  # the runtime went away
        _spawn(run, message, fds)
