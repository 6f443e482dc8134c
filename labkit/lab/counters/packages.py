"""Lab 4's function code: ``functions/<name>/lambda_function.py`` and its other versions.

* counter-upload-processor: ``starter``, ``solution`` (lab4.step2, the material's design) and
  ``ordered`` (lab4.step5, safe against an old delivery retried after a newer one);
* counter-upload-aggregator: ``starter``, ``solution`` (lab4.step3) and ``batch`` (the
  BatchWriteItem version of the last experiment).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from labkit.deploy.packaging import Package

from .names import CounterFunction

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
VERSIONS: dict[CounterFunction, tuple[str, ...]] = {
    CounterFunction.PROCESSOR: ("starter", "solution", "ordered"),
    CounterFunction.AGGREGATOR: ("starter", "solution", "batch"),
}


def function_of(name: str) -> CounterFunction:
    """``"counter-upload-processor"`` (with or without prefix) -> its identity."""
    for function in CounterFunction:
        if name == function.value or name.endswith("-" + function.value):
            return function
    choices = ", ".join(f.value for f in CounterFunction)
    raise ValueError(f"Lab 4 has no function {name!r}. Its functions are: {choices}.")


def source_path(function: CounterFunction, version: str = "starter") -> Path:
    if version not in VERSIONS[function]:
        choices = ", ".join(VERSIONS[function])
        raise ValueError(f"{function} has no version {version!r}; choose one of: {choices}.")
    directory = FUNCTIONS_DIR / function.value.replace("-", "_")
    if version != "starter":
        directory = directory / version
    return directory / "lambda_function.py"


def source(function: CounterFunction, version: str = "starter") -> str:
    """A function's ``lambda_function.py`` as text."""
    return source_path(function, version).read_text(encoding="utf-8")


@cache
def package(function: CounterFunction, version: str = "starter") -> Package:
    """The deployment package of a function at a version."""
    return package_with(function, source(function, version), label=f"{function}:{version}")


def package_with(function: CounterFunction, handler_source: str, label: str = "") -> Package:
    """A package holding ``handler_source`` as ``lambda_function.py``."""
    return Package.build(label or f"{function}:custom", {"lambda_function.py": handler_source})
