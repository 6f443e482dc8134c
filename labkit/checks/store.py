"""Check results and revealed hint tiers, kept in ``<data_dir>/checks.json``.

The Workshop keeps which steps are *completed* in ``progress.json``; this file keeps what the
checks found (the last verdict of every step, with the codes of the mistakes seen) and how
many hint tiers the learner has opened. Both are keyed by lab (backend, region, prefix).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from labkit.jsonfile import load_json, write_json

from .report import Report

__all__ = ["CHECKS_FILE", "CheckStore"]

CHECKS_FILE = "checks.json"


class CheckStore:
    """Read and write one lab's entry in ``checks.json``."""

    def __init__(self, data_dir: Path | str, lab_key: str) -> None:
        self.path = Path(data_dir).expanduser() / CHECKS_FILE
        self.lab_key = lab_key

    def _load(self) -> dict[str, Any]:
        return load_json(self.path)

    def _entry(self) -> dict[str, Any]:
        entry = self._load().get(self.lab_key)
        return entry if isinstance(entry, dict) else {}

    def _save(self, entry: dict[str, Any]) -> None:
        document = self._load()
        document[self.lab_key] = entry
        write_json(self.path, document)

    # ----- results --------------------------------------------------------------------------
    def record(self, report: Report) -> None:
        """Remember the verdict of one check."""
        entry = self._entry()
        results = entry.setdefault("results", {})
        results[report.step] = {
            "passed": report.passed,
            "codes": list(report.codes),
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._save(entry)

    def results(self) -> dict[str, dict[str, Any]]:
        """step -> {passed, codes, checked_at} for every step checked so far."""
        found = self._entry().get("results", {})
        return found if isinstance(found, dict) else {}

    # ----- hints ----------------------------------------------------------------------------
    def hint_tier(self, step: str) -> int:
        """How many hint tiers of ``step`` have been revealed (0 to 3)."""
        tiers = self._entry().get("hints", {})
        return int(tiers.get(step, 0)) if isinstance(tiers, dict) else 0

    def reveal(self, step: str, tier: int) -> None:
        entry = self._entry()
        entry.setdefault("hints", {})[step] = tier
        self._save(entry)

    def reset_hints(self, step: str | None = None) -> None:
        entry = self._entry()
        hints = entry.setdefault("hints", {})
        if step is None:
            hints.clear()
        else:
            hints.pop(step, None)
        self._save(entry)
