"""The lab functions' deployment packages, built from ``labkit/lab/functions``.

A package holds the function's ``lambda_function.py`` (the starter or the solution version)
and the shared ``pipeline.py``. Packages are deterministic zips, so a redeploy of unchanged
code is recognised by its CodeSha256 and skipped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from labkit.deploy.packaging import Package

from .names import CodeVersion, FunctionId

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
SHARED = ("pipeline.py",)

_DIRECTORIES = {
    FunctionId.STATE: "state_lambda",
    FunctionId.MAP: "map_lambda",
    FunctionId.REDUCE: "reduce_lambda",
    FunctionId.GENERATOR: "generator_lambda",
}
#: Functions whose code a lab step changes.
HAS_SOLUTION = frozenset({FunctionId.STATE, FunctionId.REDUCE})


def source_path(function: FunctionId, version: CodeVersion = CodeVersion.STARTER) -> Path:
    """Where a function's ``lambda_function.py`` lives in labkit."""
    directory = FUNCTIONS_DIR / _DIRECTORIES[function]
    if version is CodeVersion.SOLUTION:
        if function not in HAS_SOLUTION:
            raise ValueError(f"{function} has no solution version; its code never changes.")
        directory = directory / "solution"
    return directory / "lambda_function.py"


def source(function: FunctionId, version: CodeVersion = CodeVersion.STARTER) -> str:
    """A function's ``lambda_function.py`` as text (what a notebook shows the learner)."""
    return source_path(function, version).read_text(encoding="utf-8")


def package_files(
    function: FunctionId, version: CodeVersion = CodeVersion.STARTER
) -> dict[str, bytes]:
    files = {"lambda_function.py": source_path(function, version).read_bytes()}
    for name in SHARED:
        files[name] = (FUNCTIONS_DIR / name).read_bytes()
    return files


@cache
def package(function: FunctionId, version: CodeVersion = CodeVersion.STARTER) -> Package:
    """The deployment package of a function at a code version."""
    return Package.build(f"{function}:{version}", package_files(function, version))


def package_with(function: FunctionId, handler_source: str) -> Package:
    """A package of ``handler_source`` as ``lambda_function.py`` plus the shared helpers
    (for learner code written in a notebook)."""
    files: dict[str, str | bytes] = {"lambda_function.py": handler_source}
    for name in SHARED:
        files[name] = (FUNCTIONS_DIR / name).read_bytes()
    return Package.build(f"{function}:custom", files)
