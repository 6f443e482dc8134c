"""A local AWS Lambda runtime for Python functions.

``Runtime`` runs handlers in warm worker subprocesses, one per concurrent execution, with Lambda's
context object, environment variables, timeouts, error payloads and log lines (START, END,
REPORT). Workers are forked from a template process that has already imported boto3 and
botocore (``forkserver``), so a cold start costs milliseconds; each is still a process of its
own per execution environment. It knows nothing of streams or of the cloud around it: callers
hand it a ``FunctionSpec`` and a payload and get an ``InvocationResult`` back; log lines also go
to the optional ``log_sink``.

Every declared runtime in ``SUPPORTED_RUNTIMES`` runs on the interpreter that runs labkit
(``sys.executable``); the declared version only shows in ``AWS_EXECUTION_ENV`` and the logs.

A learner's handler that raises, hangs, exits, crashes or floods its output only ever produces
an error result: the worker is replaced and the runtime carries on.

This package imports its implementation lazily, so that a worker subprocess
(``python -m labkit.runtime.worker``) starts without loading the parent-side machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.runtime.codecache import validate_zip
    from labkit.runtime.errors import (
        InvalidRuntime,
        InvalidZipFile,
        InvokeError,
        RuntimeClosed,
        TooManyRequests,
    )
    from labkit.runtime.runtime import LogSink, Runtime
    from labkit.runtime.spec import SUPPORTED_RUNTIMES, FunctionSpec, InvocationResult, LogLine

__all__ = [
    "SUPPORTED_RUNTIMES",
    "FunctionSpec",
    "InvalidRuntime",
    "InvalidZipFile",
    "InvocationResult",
    "InvokeError",
    "LogLine",
    "LogSink",
    "Runtime",
    "RuntimeClosed",
    "TooManyRequests",
    "validate_zip",
]

_WHERE = {
    "SUPPORTED_RUNTIMES": "spec",
    "FunctionSpec": "spec",
    "InvocationResult": "spec",
    "LogLine": "spec",
    "InvalidRuntime": "errors",
    "InvalidZipFile": "errors",
    "InvokeError": "errors",
    "RuntimeClosed": "errors",
    "TooManyRequests": "errors",
    "LogSink": "runtime",
    "Runtime": "runtime",
    "validate_zip": "codecache",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
