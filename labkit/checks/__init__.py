"""Step checks: one module per lab, each step a function that returns a :class:`Report`.

* :func:`run_check` / :func:`run_all` check steps against a :class:`CheckContext` (boto3
  clients for a backend); they never raise on a learner's mistake;
* :class:`Report` shows ✓/✗ per item with the hint next to it, as HTML or text;
* :data:`MISTAKES` is the catalogue of mistakes the checks recognise;
* :data:`HINTS` holds each step's tiered hints (nudge, more, answer).
"""

from __future__ import annotations

from .context import CheckContext
from .hints import HINTS, Hint
from .mistakes import MISTAKES, Mistake, mistakes_for
from .registry import CHECKS, run_all, run_check
from .report import AllReports, CheckItem, Report, Status

__all__ = [
    "CHECKS",
    "HINTS",
    "MISTAKES",
    "AllReports",
    "CheckContext",
    "CheckItem",
    "Hint",
    "Mistake",
    "Report",
    "Status",
    "mistakes_for",
    "run_all",
    "run_check",
]
