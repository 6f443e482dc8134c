"""The lines Lambda itself writes around a function's output (START, END, REPORT, ...)."""

from __future__ import annotations

import math
import sys
import uuid
from datetime import UTC, datetime


def log_stream_name(now: float, version: str) -> str:
    """A new log stream name as Lambda makes them: ``2026/11/22/[$LATEST]<32 hex>``."""
    day = datetime.fromtimestamp(now, UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def iso_timestamp(now: float) -> str:
    """``2026-11-22T18:24:03.123Z``."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def init_start(runtime: str) -> str:
    """Names the declared runtime and the interpreter that really runs the code."""
    here = ".".join(str(part) for part in sys.version_info[:3])
    return f"INIT_START Runtime Version: {runtime.replace('python', 'python:')}.labkit" + (
        f"\tInterpreter: python{here}"
    )


def init_report(init_ms: float, status: str, error_type: str | None = None) -> str:
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line


def start(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float) -> int:
    """Lambda bills each started millisecond."""
    return max(1, math.ceil(duration_ms))


def report(
    request_id: str,
    *,
    duration_ms: float,
    memory_size: int,
    max_memory_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_size} MB"
        f"\tMax Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    if status:
        line += f"\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line


def timed_out(now: float, request_id: str, timeout_s: float) -> str:
    return f"{iso_timestamp(now)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def exit_line(request_id: str, reason: str, error_type: str) -> str:
    return f"RequestId: {request_id} Error: {reason}\n{error_type}"
