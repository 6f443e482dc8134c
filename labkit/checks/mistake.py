"""One catalogued mistake: what the learner did, and the hint a check gives for it."""

from __future__ import annotations

from dataclasses import dataclass

from .report import CheckItem, Status

__all__ = ["Mistake"]


@dataclass(frozen=True)
class Mistake:
    """A mistake: its code, the step it belongs to, what the learner did, and the hint."""

    code: str
    step: str
    mistake: str
    hint: str
    warning_only: bool = False

    def item(self, label: str, detail: str, **fields: object) -> CheckItem:
        """A check item that reports this mistake, with the hint filled in from ``fields``."""
        status = Status.WARN if self.warning_only else Status.FAIL
        return CheckItem(label, status, detail, self.hint.format(**fields), self.code)
