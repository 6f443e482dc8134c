"""The replication lab (lab 3, notebook 05) as a :class:`~labkit.lab.parts.LabPart`."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.deploy import Package, Stack
from labkit.lab.names import CodeVersion, LabSettings
from labkit.lab.parts import StepInfo

from . import functions
from .names import FUNCTION, ReplicationNames
from .stack import lab_stack, owned_stack
from .steps import FINISHED, STEPS, get_step


def _check_function(function: str) -> None:
    if function != FUNCTION:
        raise ValueError(f"The replication lab has one function, {FUNCTION}, not {function!r}.")


@dataclass(frozen=True)
class ReplicationPart:
    """logfile -> its NEW_IMAGE stream -> ddbreplica_lambda -> logfile_replica."""

    key: str = "replication"
    title: str = "Replicate a table through its stream"
    notebook: str = "05-replication"

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        return STEPS

    def names(self, settings: LabSettings) -> ReplicationNames:
        """The lab's names on a backend (``logfile`` locally, ``labkit-logfile`` on AWS)."""
        return ReplicationNames(settings.prefix)

    def stack(self, settings: LabSettings, step_id: str | None, *, solved: bool = False) -> Stack:
        if step_id is None:
            return lab_stack(FINISHED, settings)
        step = get_step(step_id)
        return lab_stack(step.solution if solved else step.start, settings)

    def owned(self, settings: LabSettings) -> Stack:
        return owned_stack(settings)

    def functions(self) -> tuple[str, ...]:
        return (FUNCTION,)

    def source(self, function: str, version: str = "starter") -> str:
        _check_function(function)
        return functions.source(CodeVersion(version))

    def package_with(self, function: str, handler_source: str) -> Package:
        _check_function(function)
        return functions.package_with(handler_source)

    def function_name(self, settings: LabSettings, function: str) -> str:
        _check_function(function)
        return self.names(settings).function


PART = ReplicationPart()
