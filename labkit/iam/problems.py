"""The one shape every finding about a policy takes: what is wrong, where, and what to change."""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "Severity", "did_you_mean"]


class Severity(enum.Enum):
    """How much a finding matters: an ERROR fails a check, a WARNING does not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a policy, written for a learner.

    ``code`` is a stable identifier for programs and tests; ``where`` names the place in the
    policy (for example ``statement "ReadStream", Resource``); ``message`` says what is wrong
    and ``fix`` says what to change.
    """

    code: str
    severity: Severity
    where: str
    message: str
    fix: str

    @property
    def is_error(self) -> bool:
        """True if this finding fails a check."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        mark = "✗" if self.is_error else "!"
        where = f"{self.where}: " if self.where else ""
        return f"{mark} {where}{self.message} {self.fix}".rstrip()


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` (ignoring case), or None if nothing is close."""
    by_lower: dict[str, str] = {}
    for cand in candidates:
        by_lower.setdefault(cand.lower(), cand)
    lowered = word.lower()
    if lowered in by_lower:
        return by_lower[lowered]
    best = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=cutoff)
    return by_lower[best[0]] if best else None
