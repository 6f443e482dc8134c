"""Helpers for the lab's unit tests: canonical events, deployed packages loaded as modules,
and a fake DynamoDB client."""

from __future__ import annotations

import importlib.util
import io
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.lab.names import CodeVersion, FunctionId
from labkit.lab.packages import package

from .canonical import event

__all__ = ["FakeDynamoDB", "conditional_failure", "event", "load_function"]


def conditional_failure(operation: str = "UpdateItem") -> ClientError:
    return ClientError(
        {"Error": {"Code": "ConditionalCheckFailedException", "Message": "failed"}}, operation
    )


class FakeDynamoDB:
    """Records writes; answers ParameterTable reads from ``parameters``; ``fail`` decides,
    per call, whether a write raises (return an exception to raise it)."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail: Callable[[str, dict[str, Any]], Exception | None] = lambda op, params: None

    def get_item(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("get_item", params))
        name = params["Key"]["parameter"]["S"]
        if name in self.parameters:
            return {"Item": {"parameter": {"S": name}, "value": {"N": self.parameters[name]}}}
        return {}

    def _write(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, params))
        problem = self.fail(operation, params)
        if problem is not None:
            raise problem
        return {}

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._write("update_item", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._write("put_item", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._write("transact_write_items", params)

    def writes(self) -> list[tuple[str, dict[str, Any]]]:
        return [(op, p) for op, p in self.calls if op != "get_item"]


def load_function(
    function: FunctionId, version: CodeVersion, directory: Path, **clients: Any
) -> ModuleType:
    """Unzip the function's real deployment package and import its ``lambda_function``
    (with its own ``pipeline``); module-level clients are replaced by ``clients``."""
    target = directory / f"{function}-{version}-{uuid.uuid4().hex[:6]}"
    with zipfile.ZipFile(io.BytesIO(package(function, version).zip_bytes)) as archive:
        archive.extractall(target)
    sys.path.insert(0, str(target))
    sys.modules.pop("pipeline", None)
    try:
        spec = importlib.util.spec_from_file_location(
            f"lambda_function_{target.name.replace('-', '_')}", target / "lambda_function.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("pipeline", None)
    for name, client in clients.items():
        setattr(module, name, client)
    return module


@pytest.fixture
def dynamodb() -> FakeDynamoDB:
    """A fake DynamoDB client for handler tests."""
    return FakeDynamoDB()


@pytest.fixture
def load(tmp_path: Path, aws_env: None, dynamodb: FakeDynamoDB) -> Callable[..., ModuleType]:
    """``load(FunctionId.STATE, CodeVersion.SOLUTION)``: the packaged handler, wired to the
    fake DynamoDB client."""

    def loader(
        function: FunctionId, version: CodeVersion = CodeVersion.STARTER, **clients: Any
    ) -> ModuleType:
        return load_function(function, version, tmp_path, dynamodb=dynamodb, **clients)

    return loader
