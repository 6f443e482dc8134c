"""What a provision, reset, solve or deploy did, shown briefly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .html import GREEN, box, heading
from .widgets import View

_VERBS = {
    "ready": "is ready: the lab is at the start of this step",
    "solved": "is solved: the reference solution is in place",
    "removed": "",
    "restored": "",
}


@dataclass(repr=False)
class StepChange(View):
    """The outcome of bringing the lab to a step (or removing it)."""

    action: str
    step: str | None
    report: Any  # labkit.deploy.ExecutionReport

    @property
    def calls(self) -> int:
        return len(getattr(self.report, "outcomes", []))

    @property
    def changes(self) -> int:
        return sum(1 for o in getattr(self.report, "outcomes", []) if o.status == "done")

    def headline(self) -> str:
        changed = self.changes
        what = "nothing needed changing" if not changed else f"{changed} change(s) made"
        if self.action == "removed":
            return f"The lab is removed ({what})."
        if self.action == "restored":
            where = f"at {self.step}" if self.step else "finished"
            return f"The lab is restored, {where} ({what})."
        return f"{self.step} {_VERBS[self.action]} ({what})."

    def text(self) -> str:
        return self.headline()

    def html(self) -> str:
        return box(heading(self.headline(), GREEN), GREEN)


@dataclass(repr=False)
class Deployed(View):
    """New code deployed to a function."""

    function: str
    code_sha256: str

    def text(self) -> str:
        return f"Deployed new code to {self.function} (CodeSha256 {self.code_sha256[:12]}…)."

    def html(self) -> str:
        return box(heading(self.text(), GREEN), GREEN)
