"""What one independent lab is made of, so that the workshop can hold several.

The core lab (steps ``lab1.*`` and ``lab2.*``, notebooks 00–04) and each further lab (05
replication, 06 counters, 07 stream errors) is a *part*: its steps, the resources at the start
and end of each step, and the functions a learner may see and redeploy. The workshop, the
checks and the CLI reach a lab only through this interface, so adding a lab edits none of
them; it registers its part in :mod:`labkit.lab.course`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from labkit.deploy import Package, Stack

    from .names import LabSettings


@dataclass(frozen=True)
class StepInfo:
    """One step of a lab: its stable id (``lab3.step2``), where it stands, and what to do."""

    id: str
    lab: int
    number: int
    title: str
    task: str


class LabPart(Protocol):
    """One independent lab: its steps, their resources and its functions."""

    @property
    def key(self) -> str:
        """A short, stable name (``"pipeline"``, ``"replication"`` …)."""

    @property
    def title(self) -> str: ...

    @property
    def notebook(self) -> str:
        """The first notebook of the lab, without ``.ipynb`` (``"05-replication"``)."""

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        """The lab's steps, in order."""

    def stack(self, settings: LabSettings, step_id: str | None, *, solved: bool = False) -> Stack:
        """The resources at the start of ``step_id`` (its end with ``solved``); the finished
        lab when ``step_id`` is None."""

    def owned(self, settings: LabSettings) -> Stack:
        """Everything this lab may create: what a teardown removes."""

    def functions(self) -> tuple[str, ...]:
        """The names of the functions a learner may read and redeploy (without prefix)."""

    def source(self, function: str, version: str = "starter") -> str:
        """A function's ``lambda_function.py`` as the kit ships it (starter or solution)."""

    def package_with(self, function: str, handler_source: str) -> Package:
        """A deployment package of ``handler_source`` for ``function`` (with any helpers)."""

    def function_name(self, settings: LabSettings, function: str) -> str:
        """The deployed name of ``function`` (with the backend's prefix)."""
