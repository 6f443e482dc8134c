"""The result of checking a step: a list of items, each ✓ or ✗ with its hint next to it.

A check never raises on the learner's mistakes: it returns a :class:`Report`. The report shows
as HTML in a notebook (``_repr_html_``) and as text in a terminal (``str``), and turns into
plain data for ``labkit check --json`` (:meth:`Report.to_dict`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AllReports", "CheckItem", "Report", "Status"]


class Status(enum.Enum):
    """How one item of a check turned out."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"  # worth a look, does not fail the step
    SKIP = "skip"  # not checked, because something it depends on failed

    @property
    def mark(self) -> str:
        return {"pass": "✓", "fail": "✗", "warn": "!", "skip": "·"}[self.value]


@dataclass(frozen=True)
class CheckItem:
    """One thing a check looked at.

    ``label`` says what was checked in the learner's terms; ``detail`` what was found;
    ``hint`` what to do about it (empty when it passed); ``code`` names the mistake from the
    catalogue (:mod:`labkit.checks.mistakes`) that this item recognised, if any.
    """

    label: str
    status: Status
    detail: str = ""
    hint: str = ""
    code: str = ""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, str]:
        return {
            "label": self.label,
            "status": self.status.value,
            "detail": self.detail,
            "hint": self.hint,
            "code": self.code,
        }

    def __str__(self) -> str:
        line = f"{self.status.mark} {self.label}"
        if self.detail:
            line += f": {self.detail}"
        if self.hint:
            first, *rest = self.hint.split("\n")
            line += f"\n    → {first}" + "".join(f"\n      {r}".rstrip() for r in rest)
        return line


def passed(label: str, detail: str = "") -> CheckItem:
    return CheckItem(label, Status.PASS, detail)


def failed(label: str, detail: str, hint: str, code: str = "") -> CheckItem:
    return CheckItem(label, Status.FAIL, detail, hint, code)


def warning(label: str, detail: str, hint: str = "", code: str = "") -> CheckItem:
    return CheckItem(label, Status.WARN, detail, hint, code)


def skipped(label: str, detail: str) -> CheckItem:
    return CheckItem(label, Status.SKIP, detail)


@dataclass(frozen=True)
class Report:
    """The verdict on one step: done when no item failed.

    ``attachments`` are further objects to show under the items (for example the
    :class:`~labkit.iam.PolicyReport` of a policy check); each must have ``_repr_html_`` and
    ``__str__``.
    """

    step: str
    title: str
    items: tuple[CheckItem, ...]
    attachments: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def passed(self) -> bool:
        """True if the step is done: at least one item and none failed."""
        return bool(self.items) and not any(item.failed for item in self.items)

    @property
    def status(self) -> str:
        """``"done"`` or ``"not done yet"``."""
        return "done" if self.passed else "not done yet"

    @property
    def failures(self) -> tuple[CheckItem, ...]:
        return tuple(item for item in self.items if item.failed)

    @property
    def codes(self) -> tuple[str, ...]:
        """The mistake codes this report recognised (failed or warned items)."""
        return tuple(
            item.code for item in self.items if item.code and item.status is not Status.PASS
        )

    def item(self, code: str) -> CheckItem:
        """The item that recognised the mistake ``code``; ``KeyError`` if none did."""
        for found in self.items:
            if found.code == code:
                return found
        raise KeyError(f"{self.step}: no item with code {code!r} (codes: {self.codes})")

    def headline(self) -> str:
        if self.passed:
            return f"✓ {self.step} — {self.title}: done."
        count = len(self.failures)
        if not self.items:
            return f"✗ {self.step} — {self.title}: not done yet."
        return (
            f"✗ {self.step} — {self.title}: not done yet "
            f"({count} thing{'s' if count != 1 else ''} to fix)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "title": self.title,
            "passed": self.passed,
            "status": self.status,
            "items": [item.to_dict() for item in self.items],
        }

    def next_step(self) -> str:
        """What to do when the step is not done: where the hints are."""
        if self.passed:
            return ""
        return f'Stuck? `lab.hint("{self.step}")` gives a nudge, then more, then the answer.'

    def __str__(self) -> str:
        lines = [self.headline(), *(f"  {line}" for i in self.items for line in str(i).split("\n"))]
        if self.next_step():
            lines.append(self.next_step())
        for attachment in self.attachments:
            lines.append("")
            lines.extend(f"  {line}" for line in str(attachment).split("\n"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from labkit.ui.html import report_html

        return report_html(self)


@dataclass(frozen=True)
class AllReports:
    """The reports of several steps (``labkit check --all``, ``lab.check_all()``)."""

    reports: tuple[Report, ...]

    @classmethod
    def of(cls, reports: Iterable[Report]) -> AllReports:
        return cls(tuple(reports))

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.reports)

    @property
    def done(self) -> Sequence[str]:
        return [r.step for r in self.reports if r.passed]

    def __getitem__(self, step: str) -> Report:
        for report in self.reports:
            if report.step == step:
                return report
        raise KeyError(step)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "done": list(self.done),
            "steps": [r.to_dict() for r in self.reports],
        }

    def summary(self) -> str:
        return "\n".join(r.headline() for r in self.reports)

    def __str__(self) -> str:
        return "\n\n".join(str(r) for r in self.reports)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self.reports)


_NOTEBOOK_CALL = re.compile(
    r"""lab\.(hint|check|solve|reset)\(\s*["'](lab\d+\.step\d+)["']\s*(,\s*confirm=True\s*)?\)"""
)


def for_terminal(text: str) -> str:
    """Learner text as a terminal shows it: ``lab.hint("lab1.step2")`` becomes
    ``labkit hint lab1.step2`` (and ``lab.reset(…, confirm=True)`` ``labkit reset … --yes``);
    ``lab.status()`` becomes ``labkit status``."""

    def command(found: re.Match[str]) -> str:
        verb, step, confirm = found.group(1), found.group(2), found.group(3)
        return f"labkit {verb} {step}" + (" --yes" if confirm else "")

    return _NOTEBOOK_CALL.sub(command, text).replace("lab.status()", "labkit status")
