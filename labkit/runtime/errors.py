"""Errors: the exceptions ``Runtime`` raises and the JSON error payloads Lambda returns.

This module is imported by the worker subprocess too, so it uses the standard library only.
"""

from __future__ import annotations

import json
import signal
from typing import Any

UNHANDLED = "Unhandled"

# Error types of the Python runtime (the ``errorType`` field of a failed invocation).
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
EXIT_ERROR = "Runtime.ExitError"
SANDBOX_TIMEDOUT = "Sandbox.Timedout"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"

# Lambda's limit on a synchronous response (the number its error message names).
MAX_RESPONSE_BYTES = 6291556


class InvokeError(Exception):
    """An invocation was refused before any handler ran (an error of the Invoke API itself)."""

    error_code = "ServiceException"
    status_code = 500


class TooManyRequests(InvokeError):
    """No concurrency slot is free for the function."""

    error_code = "TooManyRequestsException"
    status_code = 429

    def __init__(self, reason: str, function_name: str = "") -> None:
        super().__init__("Rate Exceeded.")
        self.reason = reason
        self.function_name = function_name


class InvalidZipFile(InvokeError):
    """The function's code package cannot be unpacked safely."""

    error_code = "InvalidZipFileException"
    status_code = 502


class InvalidRuntime(InvokeError):
    """The function declares a runtime this runtime cannot run."""

    error_code = "InvalidRuntimeException"
    status_code = 502


class RuntimeClosed(InvokeError):
    """``Runtime.shutdown`` was called; no further invocations are accepted."""


def error_body(
    error_type: str, message: str, request_id: str, stack_trace: list[str] | None = None
) -> dict[str, Any]:
    """The payload of a failed invocation raised from the function's own code."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": list(stack_trace or []),
    }


def encode_error(
    error_type: str, message: str, request_id: str, stack_trace: list[str] | None = None
) -> bytes:
    """``error_body`` as the JSON bytes Lambda returns."""
    return json.dumps(error_body(error_type, message, request_id, stack_trace)).encode()


def platform_error(error_type: str, message: str) -> bytes:
    """A failure the platform reports (timeout, crash): only ``errorMessage`` and ``errorType``."""
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def timeout_message(request_id: str, timeout_s: float) -> str:
    """The ``errorMessage`` of a timed-out invocation."""
    return f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"


# The words Lambda (a Go program) uses for the signals a worker can die of.
_SIGNAL_WORDS = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGTERM: "terminated",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
    signal.SIGQUIT: "quit",
}


def exit_reason(returncode: int | None) -> str:
    """Describe how a worker ended, from ``Popen.returncode`` (negative for a signal)."""
    if returncode is None:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        signum = -returncode
        try:
            word = _SIGNAL_WORDS.get(signal.Signals(signum), f"signal {signum}")
        except ValueError:
            word = f"signal {signum}"
        return f"Runtime exited with error: signal: {word}"
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {returncode}"


def exit_message(request_id: str, returncode: int | None) -> str:
    """The ``errorMessage`` of an invocation whose worker process died."""
    return f"RequestId: {request_id} Error: {exit_reason(returncode)}"
