"""The replication function's code: ``ddbreplica_lambda/lambda_function.py`` (the starter) and
``ddbreplica_lambda/solution/lambda_function.py`` (the reference solution)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from labkit.deploy.packaging import Package
from labkit.lab.names import CodeVersion

from ..names import FUNCTION

DIRECTORY = Path(__file__).resolve().parent / FUNCTION


def source_path(version: CodeVersion = CodeVersion.STARTER) -> Path:
    folder = DIRECTORY / "solution" if version is CodeVersion.SOLUTION else DIRECTORY
    return folder / "lambda_function.py"


def source(version: CodeVersion = CodeVersion.STARTER) -> str:
    """The function's ``lambda_function.py`` as labkit ships it."""
    return source_path(version).read_text(encoding="utf-8")


@cache
def package(version: CodeVersion = CodeVersion.STARTER) -> Package:
    """The deployment package of the starter or the solution."""
    return Package.build(f"{FUNCTION}:{version}", {"lambda_function.py": source(version)})


def package_with(handler_source: str) -> Package:
    """A package of the learner's own ``lambda_function.py`` (written in a notebook)."""
    return Package.build(f"{FUNCTION}:custom", {"lambda_function.py": handler_source})
