"""The lab's function code: which versions exist, their sources and deployment packages.

``ErrorsProcessor`` ships the provided handler (``starter``) and the versions the notebook
deploys: ``tolerant`` (skips what fails), ``partial-sample`` (the Lambda guide's
partial-response sample, with its bug), ``partial`` (lab5.step4's answer), ``powertools`` (the
same with aws-lambda-powertools' BatchProcessor), ``window-starter`` and ``window``
(lab5.step5). Every processor package also holds ``probe.py``, the shared item behaviours and
invocation log. ``ErrorsQuarantiner`` has a ``starter`` and a ``solution`` (lab5.step2).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from labkit.deploy.packaging import Package

from .names import Function

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
_FOLDERS = {Function.PROCESSOR: "errors_processor", Function.QUARANTINER: "errors_quarantiner"}
PROCESSOR_VERSIONS = (
    "starter",
    "tolerant",
    "partial-sample",
    "partial",
    "powertools",
    "window-starter",
    "window",
)
QUARANTINER_VERSIONS = ("starter", "solution")
#: Files every package of a function carries beside ``lambda_function.py``.
_HELPERS = {Function.PROCESSOR: ("probe.py",), Function.QUARANTINER: ()}


def versions(function: Function | str) -> tuple[str, ...]:
    """The code versions labkit ships for ``function``."""
    return PROCESSOR_VERSIONS if Function(function) is Function.PROCESSOR else QUARANTINER_VERSIONS


def source_path(function: Function | str, version: str = "starter") -> Path:
    """Where a version of a function's ``lambda_function.py`` lives."""
    fid = Function(function)
    if version not in versions(fid):
        raise ValueError(
            f"{fid.value} has no version {version!r}; its versions are: " + ", ".join(versions(fid))
        )
    folder = FUNCTIONS_DIR / _FOLDERS[fid]
    if version == "starter":
        return folder / "lambda_function.py"
    if fid is Function.QUARANTINER:
        return folder / "solution" / "lambda_function.py"
    return folder / "variants" / f"{version.replace('-', '_')}.py"


def source(function: Function | str, version: str = "starter") -> str:
    """A version of a function's ``lambda_function.py`` as text."""
    return source_path(function, version).read_text(encoding="utf-8")


def _files(function: Function, handler_source: str) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"lambda_function.py": handler_source}
    for helper in _HELPERS[function]:
        files[helper] = (FUNCTIONS_DIR / _FOLDERS[function] / helper).read_bytes()
    return files


@cache
def package(function: Function | str, version: str = "starter") -> Package:
    """The deployment package of one shipped version."""
    fid = Function(function)
    return Package.build(f"{fid.value}:{version}", _files(fid, source(fid, version)))


def package_with(function: Function | str, handler_source: str) -> Package:
    """A package of the learner's own ``lambda_function.py`` (plus the helpers)."""
    fid = Function(function)
    return Package.build(f"{fid.value}:custom", _files(fid, handler_source))
