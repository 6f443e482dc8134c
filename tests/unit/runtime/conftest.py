"""Fixtures for the Lambda runtime's tests: code zips, function specs and a runtime."""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest

from labkit.runtime import FunctionSpec, LogLine, Runtime

MakeZip = Callable[[dict[str, str]], bytes]
MakeSpec = Callable[..., FunctionSpec]


class SinkRecorder:
    """Collects what the runtime hands to its log sink."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[LogLine]]] = []

    def __call__(self, group: str, stream: str, lines: Sequence[LogLine]) -> None:
        self.calls.append((group, stream, list(lines)))


@pytest.fixture
def make_zip() -> MakeZip:
    """Build a code zip from {path: source}; sources are dedented."""

    def build(files: dict[str, str]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, source in files.items():
                archive.writestr(name, textwrap.dedent(source))
        return buffer.getvalue()

    return build


@pytest.fixture
def make_spec(make_zip: MakeZip) -> MakeSpec:
    """A FunctionSpec for `code` (the source of lambda_function.py) or for `files`."""

    def build(
        code: str = "def lambda_handler(event, context):\n    return event\n",
        *,
        files: dict[str, str] | None = None,
        name: str = "fn",
        handler: str = "lambda_function.lambda_handler",
        timeout: int = 3,
        memory_size: int = 128,
        environment: dict[str, str] | None = None,
        **overrides: Any,
    ) -> FunctionSpec:
        data = make_zip(files if files is not None else {"lambda_function.py": code})
        fields: dict[str, Any] = {
            "name": name,
            "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            "handler": handler,
            "runtime": "python3.12",
            "timeout": timeout,
            "memory_size": memory_size,
            "code_sha256": hashlib.sha256(data).hexdigest(),
            "code_zip": data,
            "environment": environment or {},
            "region": "us-east-1",
        }
        fields.update(overrides)
        return FunctionSpec(**fields)

    return build


@pytest.fixture
def sink() -> SinkRecorder:
    """Records log sink calls."""
    return SinkRecorder()


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the runtime asked to sleep for (it never really sleeps in tests)."""
    return []


@pytest.fixture
def runtime(tmp_path: Path, sink: SinkRecorder, sleeps: list[float]) -> Iterator[Runtime]:
    """A runtime with a recording log sink and a sleep that returns at once."""
    rt = Runtime(
        tmp_path / "runtime",
        base_env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        log_sink=sink,
        sleep=sleeps.append,
    )
    yield rt
    rt.shutdown()


def messages(lines: Sequence[LogLine]) -> list[str]:
    """The text of log lines."""
    return [line.message for line in lines]


def payload(result: Any) -> Any:
    """The decoded JSON payload of an InvocationResult."""
    return json.loads(result.payload)


def gone(pid: int) -> bool:
    """True when no such process runs (a zombie counts as gone)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
