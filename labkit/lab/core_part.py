"""The core lab (labs 1 and 2: the trade pipeline and its scoreboard) as a :class:`LabPart`."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.deploy import Package, Stack

from .names import CodeVersion, FunctionId, LabSettings
from .packages import package_with, source
from .parts import StepInfo
from .stack import lab_stack, owned_stack
from .steps import FINISHED, STEPS, get_step


@dataclass(frozen=True)
class CorePart:
    """Labs 1 and 2: tables and streams, ReduceLambda's policy and mapping, exactly-once."""

    key: str = "pipeline"
    title: str = "A stream-processing pipeline, made exactly-once"
    notebook: str = "00-welcome"

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        return STEPS

    def stack(self, settings: LabSettings, step_id: str | None, *, solved: bool = False) -> Stack:
        if step_id is None:
            return lab_stack(FINISHED, settings)
        step = get_step(step_id)
        return lab_stack(step.solution if solved else step.start, settings)

    def owned(self, settings: LabSettings) -> Stack:
        return owned_stack(settings)

    def functions(self) -> tuple[str, ...]:
        return tuple(f.value for f in FunctionId)

    def source(self, function: str, version: str = "starter") -> str:
        return source(FunctionId(function), CodeVersion(version))

    def package_with(self, function: str, handler_source: str) -> Package:
        return package_with(FunctionId(function), handler_source)

    def function_name(self, settings: LabSettings, function: str) -> str:
        return settings.names.function(FunctionId(function))


CORE = CorePart()
