"""FilterCriteria: event patterns matched against each record's filter view.

Matching is delegated to moto's EventBridge pattern matcher; this module is the only place
that knows, so another matcher can be swapped in without touching the engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from labkit.esm.errors import invalid_parameter

MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096
INVALID_PATTERN = "Invalid filter pattern definition."

log = logging.getLogger("labkit.esm")


def _compile(pattern: str) -> Any:
    from moto.events.models import EventPattern

    try:
        parsed = json.loads(pattern)
    except (TypeError, ValueError):
        raise invalid_parameter(INVALID_PATTERN) from None
    if not isinstance(parsed, dict):
        raise invalid_parameter(INVALID_PATTERN)
    try:
        return EventPattern.load(pattern)
    except Exception:
        raise invalid_parameter(INVALID_PATTERN) from None


def patterns_from_criteria(criteria: Any) -> tuple[str, ...]:
    """Validate a ``FilterCriteria`` request member and return its pattern strings."""
    if criteria is None:
        return ()
    if not isinstance(criteria, Mapping):
        raise invalid_parameter(INVALID_PATTERN)
    filters = criteria.get("Filters")
    if filters is None:
        return ()
    if not isinstance(filters, list):
        raise invalid_parameter(INVALID_PATTERN)
    if len(filters) > MAX_FILTERS:
        raise invalid_parameter(
            f"The maximum number of filters allowed per event source mapping is {MAX_FILTERS}."
        )
    patterns: list[str] = []
    for entry in filters:
        pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
        if not isinstance(pattern, str) or not pattern:
            raise invalid_parameter(INVALID_PATTERN)
        _compile(pattern)
        patterns.append(pattern)
    return tuple(patterns)


class RecordFilter:
    """Matches a record's filter view against up to five patterns, OR'ed together."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._compiled = [_compile(pattern) for pattern in patterns]

    @property
    def active(self) -> bool:
        """False when every record passes (no patterns)."""
        return bool(self._compiled)

    def matches(self, view: Mapping[str, Any]) -> bool:
        """True when the view matches at least one pattern, or when there are no patterns."""
        if not self._compiled:
            return True
        for compiled in self._compiled:
            try:
                if compiled.matches_event(dict(view)):
                    return True
            except Exception:  # a matcher bug must not stall the shard
                log.exception("filter pattern evaluation failed; treating as no match")
        return False
