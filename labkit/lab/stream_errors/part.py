"""Lab 5 (notebook 07, when stream processing fails) as a :class:`~labkit.lab.parts.LabPart`."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.deploy import Package, Stack
from labkit.lab.names import LabSettings
from labkit.lab.parts import StepInfo

from . import code
from .names import Function, StreamErrorsNames
from .stack import owned_stack, stage_stack
from .steps import FINISHED, STEP_INFOS, get_step


@dataclass(frozen=True)
class StreamErrorsPart:
    """Retries, on-failure destinations, bisecting, partial batch responses, windows."""

    key: str = "stream-errors"
    title: str = "When stream processing fails"
    notebook: str = "07-stream-errors"

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        return STEP_INFOS

    def stack(self, settings: LabSettings, step_id: str | None, *, solved: bool = False) -> Stack:
        if step_id is None:
            return stage_stack(settings, FINISHED)
        step = get_step(step_id)
        return stage_stack(settings, step.solution if solved else step.start)

    def owned(self, settings: LabSettings) -> Stack:
        return owned_stack(settings)

    def functions(self) -> tuple[str, ...]:
        return tuple(f.value for f in Function)

    def source(self, function: str, version: str = "starter") -> str:
        return code.source(function, version)

    def package_with(self, function: str, handler_source: str) -> Package:
        return code.package_with(function, handler_source)

    def function_name(self, settings: LabSettings, function: str) -> str:
        return StreamErrorsNames(settings.prefix).function(function)


PART = StreamErrorsPart()
