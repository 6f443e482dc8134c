"""The worker subprocess: one execution environment serving invocations one after another.

Started by the runtime with ``sys.executable`` (see ``process.worker_command``; equivalent to
``python -P -m labkit.runtime.worker <request fd> <response fd>`` but without importing the rest
of labkit), with fd 1 and fd 2 both writing into a pipe the runtime reads. It imports the
handler once (the init phase), then loops: read an ``invoke`` frame, call the handler, write its
output marker, answer.

Only the standard library and the runtime's stdlib-only modules are imported here, so a cold
start costs little more than the interpreter itself.
"""

from __future__ import annotations

import contextlib
import decimal
import faulthandler
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn

from labkit.runtime import errors, protocol
from labkit.runtime.context import LambdaContext, parse_client_context

Handler = Callable[[Any, LambdaContext], Any]

_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}


class _Fault(Exception):
    """A failure the runtime reports with its own error type (not the user's exception)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class _Output:
    """The worker's private handle on the captured output (a dup of fd 1 the user cannot close)."""

    def __init__(self) -> None:
        self.fd = os.dup(1)
        self.request_id = ""
        self._lock = threading.Lock()
        self._libc_fflush: Callable[[Any], int] | None = _load_fflush()

    def flush_user_streams(self) -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:  # a user's broken stream must not break the worker
                pass
        if self._libc_fflush is not None:
            self._libc_fflush(None)

    def record(self, text: str) -> None:
        """Write one log event; newlines become CR so the event stays in one piece."""
        data = (text.rstrip("\n").replace("\n", "\r") + "\n").encode("utf-8", "backslashreplace")
        self.flush_user_streams()
        with self._lock:
            protocol.write_all(self.fd, data)

    def end_phase(self, marker: bytes) -> None:
        self.flush_user_streams()
        with self._lock:
            protocol.write_all(self.fd, marker)


def _load_fflush() -> Callable[[Any], int] | None:
    """libc's fflush, so output buffered by C code reaches the pipe before the phase ends."""
    try:
        import ctypes

        fflush: Callable[[Any], int] = ctypes.CDLL(None).fflush
        return fflush
    except Exception:
        return None


class _LambdaLogHandler(logging.Handler):
    """The root logger's handler: ``[LEVEL]\\t<time>Z\\t<request id>\\t<message>`` as on AWS."""

    def __init__(self, output: _Output) -> None:
        super().__init__()
        self._output = output
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        self.setFormatter(formatter)
        self.addFilter(self._stamp)

    def _stamp(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self._output.request_id
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._output.record(self.format(record))
        except Exception:
            self.handleError(record)


def _setup_logging(output: _Output) -> None:
    root = logging.getLogger()
    root.handlers[:] = [_LambdaLogHandler(output)]
    level = _LEVELS.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper())
    if level is not None:
        root.setLevel(level)


def _user_frames(tb: TracebackType | None) -> list[str]:
    """The traceback without the worker's own frames and importlib's machinery."""
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if frame.filename != __file__ and not frame.filename.startswith("<frozen importlib")
    ]
    return traceback.format_list(frames)


def _fault_from(exc: BaseException) -> _Fault:
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {type(exc).__name__} object>"
    return _Fault(type(exc).__name__, message, _user_frames(exc.__traceback__))


def _load_handler(handler: str) -> Handler | _Fault:
    """Import the handler's module (init). Raise ``_Fault`` for errors that fail the init phase;
    return a ``_Fault`` for a missing handler, which AWS reports at each invocation instead."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault(errors.MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            errors.BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {modname} as a handler module",
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise _Fault(
            errors.IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {(exc.text or "").rstrip()}\n']
        raise _Fault(
            errors.USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {exc}", trace
        ) from None
    except Exception as exc:
        raise _fault_from(exc) from None
    func = getattr(module, fname, None)
    if func is None:
        return _Fault(errors.HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'")
    if not callable(func):
        return _Fault(
            errors.HANDLER_NOT_FOUND, f"Handler '{fname}' on module '{modname}' is not callable"
        )
    handler_func: Handler = func
    return handler_func


def _json_default(value: object) -> object:
    # Like AWS's marshaller: Decimals (which boto3's DynamoDB resource returns) become numbers.
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return float("nan")
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _log_fault(output: _Output, fault: _Fault) -> None:
    lines = [f"[ERROR] {fault.error_type}: {fault.message}", "Traceback (most recent call last):"]
    for element in fault.trace:
        lines.extend(element.splitlines())
    output.record("\n".join(lines))


def _max_rss_kb() -> int:
    try:
        import resource

        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return peak // 1024 if sys.platform == "darwin" else peak
    except Exception:
        return 0


class _Worker:
    def __init__(self, request_fd: int, response_fd: int, output: _Output) -> None:
        self.request_fd = request_fd
        self.response_fd = response_fd
        self.output = output
        self.marker = b""
        self.handler: Handler | _Fault | None = None

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        protocol.write_all(self.response_fd, protocol.encode(header, body))

    def init(self) -> None:
        config, _ = protocol.read_frame(self.request_fd)
        self.marker = protocol.output_marker(str(config["token"]))
        task_root = str(config["task_root"])
        os.chdir(task_root)
        sys.path.insert(0, task_root)
        started = time.perf_counter()
        fault: _Fault | None = None
        try:
            self.handler = _load_handler(str(config["handler"]))
        except _Fault as exc:
            fault = exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        if fault is not None:
            _log_fault(self.output, fault)
        self.output.end_phase(self.marker)
        header: dict[str, Any] = {"kind": "init", "import_ms": elapsed_ms}
        if fault is None:
            self.send(header)
            return
        header["error"] = fault.error_type
        self.send(header, errors.encode_error(fault.error_type, fault.message, "", fault.trace))
        _exit(1)

    def serve(self) -> NoReturn:
        while True:
            try:
                header, body = protocol.read_frame(self.request_fd)
            except protocol.ChannelClosed:
                _exit(0)
            self.invoke(header, body)

    def invoke(self, header: dict[str, Any], body: bytes) -> None:
        request_id = str(header["id"])
        started = time.monotonic()
        deadline = started + int(header["timeout_ms"]) / 1000
        self.output.request_id = request_id
        try:
            payload = self._call(request_id, header, body, deadline)
            error = None
        except _Fault as fault:
            _log_fault(self.output, fault)
            payload = errors.encode_error(fault.error_type, fault.message, request_id, fault.trace)
            error = fault.error_type
        duration_ms = (time.monotonic() - started) * 1000
        self.output.end_phase(self.marker)
        self.output.request_id = ""
        result = {
            "kind": "result",
            "error": error,
            "duration_ms": duration_ms,
            "max_rss_kb": _max_rss_kb(),
        }
        self.send(result, payload)

    def _call(self, request_id: str, header: dict[str, Any], body: bytes, deadline: float) -> bytes:
        handler = self.handler
        if isinstance(handler, _Fault):
            raise _Fault(handler.error_type, handler.message, handler.trace)
        if handler is None:
            raise _Fault(errors.HANDLER_NOT_FOUND, "no handler was loaded")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise _Fault(errors.UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None
        context = LambdaContext(
            request_id=request_id,
            invoked_function_arn=str(header.get("arn", "")),
            deadline=deadline,
            client_context=parse_client_context(header.get("client_context")),
        )
        try:
            result = handler(event, context)
        except Exception as exc:
            raise _fault_from(exc) from None
        try:
            payload = json.dumps(result, default=_json_default).encode()
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise _Fault(errors.MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None
        if len(payload) > errors.MAX_RESPONSE_BYTES:
            raise _Fault(
                errors.RESPONSE_TOO_LARGE,
                f"Response payload size ({len(payload)} bytes) exceeded maximum allowed "
                f"payload size ({errors.MAX_RESPONSE_BYTES} bytes).",
            )
        return payload


def _exit(code: int) -> NoReturn:
    """Leave at once: user threads that are not daemons must not keep the worker alive."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    with contextlib.suppress(Exception):
        print(exc.code, file=sys.stderr)
    return 1


def _watch_parent(interval: float = 1.0) -> None:
    """Kill the whole process group if the runtime's process goes away."""
    parent = os.getppid()
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os.killpg(os.getpgid(0), signal.SIGKILL)


def _setup_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)


def main(argv: list[str]) -> NoReturn:
    request_fd, response_fd = int(argv[1]), int(argv[2])
    for fd in (request_fd, response_fd):
        os.set_inheritable(fd, False)
    _setup_stdio()
    faulthandler.enable()
    output = _Output()
    threading.Thread(target=_watch_parent, name="labkit-parent-watch", daemon=True).start()
    _setup_logging(output)
    worker = _Worker(request_fd, response_fd, output)
    try:
        worker.init()
        worker.serve()
    except SystemExit as exc:
        _exit(_exit_code(exc))
    except protocol.ChannelClosed:
        _exit(0)
    except BaseException:
        traceback.print_exc()
        _exit(1)


if __name__ == "__main__":
    main(sys.argv)
