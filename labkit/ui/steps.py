"""What a provision, reset, solve or deploy did, shown briefly: what changed, what was already
in place, what was left alone to keep the learner's work, and what a reset would remove."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labkit.checks.report import for_terminal

from .html import AMBER, GREEN, box, code, esc, heading
from .widgets import View

_VERBS = {
    "ready": "is ready: the lab is at the start of this step",
    "solved": "is solved: the reference solution is in place",
    "removed": "",
    "restored": "",
    "reset": "is reset: the lab is back at the start of this step",
}
_SHOWN = 8


@dataclass(repr=False)
class StepChange(View):
    """The outcome of bringing the lab to a step, resetting it, or removing it.

    ``report`` is a :class:`~labkit.lab.workshop.StepResult` (or an executor report for
    teardown). ``terminal`` switches the advice to ``labkit`` commands.
    """

    action: str
    step: str | None
    report: Any
    terminal: bool = False

    @property
    def calls(self) -> int:
        return len(getattr(self.report, "outcomes", []))

    @property
    def changes(self) -> int:
        return sum(1 for o in getattr(self.report, "outcomes", []) if o.status == "done")

    @property
    def needs_confirmation(self) -> bool:
        return bool(getattr(self.report, "needs_confirmation", False))

    def _left_alone(self) -> tuple[str, ...]:
        return tuple(getattr(self.report, "left_alone", ()))

    def headline(self) -> str:
        changed = self.changes
        what = "nothing needed changing" if not changed else f"{changed} change(s) made"
        if self.needs_confirmation:
            return f"Nothing was changed: resetting {self.step} would remove your work."
        if self.action == "removed":
            return f"The lab is removed ({what})."
        if self.action == "restored":
            where = f"at {self.step}" if self.step else "finished"
            return f"The lab is restored, {where} ({what})."
        if self._left_alone() or getattr(self.report, "past", False):
            made = "nothing was missing" if not changed else f"{changed} missing piece(s) added"
            return f"{self.step}: your work is kept ({made})."
        return f"{self.step} {_VERBS[self.action]} ({what})."

    def _details(self) -> tuple[list[str], list[str], str]:
        """(lines of prose, listed items, the command to run next or "")."""
        step = self.step or ""
        if self.needs_confirmation:
            return (
                ["It would remove or put back:"],
                list(getattr(self.report, "would_remove", ())),
                f'lab.reset("{step}", confirm=True)',
            )
        left = self._left_alone()
        if not left and not getattr(self.report, "past", False):
            return [], [], ""
        prose = []
        if getattr(self.report, "past", False):
            prose.append(f"The lab is already past the start of {step}.")
        in_place = int(getattr(self.report, "in_place", 0))
        if in_place:
            prose.append(f"{in_place} of the step's resources were already in place.")
        if left:
            prose.append(f'To keep your work it did not do these (lab.reset("{step}") would):')
        return prose, list(left), (f'lab.reset("{step}")' if left else "")

    def text(self) -> str:
        prose, listed, command = self._details()
        lines = [self.headline(), *prose]
        lines += [f"  - {item}" for item in listed[:_SHOWN]]
        if len(listed) > _SHOWN:
            lines.append(f"  … and {len(listed) - _SHOWN} more")
        if command:
            verb = "To do it" if self.needs_confirmation else "To start the step again instead"
            lines.append(f"{verb}: {command}")
        text = "\n".join(lines)
        return for_terminal(text) if self.terminal else text

    def html(self) -> str:
        prose, listed, command = self._details()
        colour = AMBER if self.needs_confirmation or listed else GREEN
        body = heading(self.headline(), colour)
        body += "".join(f'<div style="margin:2px 0">{esc(p)}</div>' for p in prose)
        if listed:
            body += '<ul style="margin:2px 0 4px 1.2em;padding:0">'
            body += "".join(f"<li>{esc(item)}</li>" for item in listed[:_SHOWN])
            if len(listed) > _SHOWN:
                body += f"<li>… and {len(listed) - _SHOWN} more</li>"
            body += "</ul>"
        if command:
            verb = "To do it" if self.needs_confirmation else "To start the step again instead"
            body += f'<div style="margin-top:4px">{esc(verb)}: {code(command)}</div>'
        return box(body, colour)


@dataclass(repr=False)
class Deployed(View):
    """New code deployed to a function."""

    function: str
    code_sha256: str
    starter_unchanged: bool = False

    def headline(self) -> str:
        if self.starter_unchanged:
            return f"Deployed the starter code of {self.function}, unchanged."
        return f"Deployed new code to {self.function} (CodeSha256 {self.code_sha256[:12]}…)."

    def note(self) -> str:
        if not self.starter_unchanged:
            return ""
        return (
            "It is exactly the code the lab started with, so nothing changes yet: make the "
            "change its TODO asks for, then deploy again."
        )

    def text(self) -> str:
        return "\n".join(line for line in (self.headline(), self.note()) if line)

    def html(self) -> str:
        colour = AMBER if self.starter_unchanged else GREEN
        note = f'<div style="margin:2px 0">{esc(self.note())}</div>' if self.note() else ""
        return box(heading(self.headline(), colour) + note, colour)
