"""Model-level constraint checks, collected and reported the way AWS's service framework does.

Each check appends a problem such as ``Value '0' at 'batchSize' failed to satisfy constraint:
Member must have value greater than or equal to 1``; :func:`raise_problems` turns the list into
one ValidationException.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from labkit.esm.errors import validation_failed


class Problems:
    """An ordered list of constraint violations."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, value: Any, label: str, constraint: str) -> None:
        """Record that ``value`` at the member ``label`` breaks ``constraint``."""
        shown = "null" if value is None else f"'{_render(value)}'"
        self.items.append(f"Value {shown} at '{label}' failed to satisfy constraint: {constraint}")

    def raise_if_any(self) -> None:
        """Raise one ValidationException listing every problem, if there are any."""
        if self.items:
            raise validation_failed(self.items)


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


def integer(
    problems: Problems, body: Mapping[str, Any], key: str, label: str, low: int, high: int
) -> int | None:
    """Check an optional integer member against its range; return it when it is valid."""
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(value, label, "Member must be an integer")
        return None
    if value < low:
        problems.add(value, label, f"Member must have value greater than or equal to {low}")
        return None
    if value > high:
        problems.add(value, label, f"Member must have value less than or equal to {high}")
        return None
    return int(value)


def boolean(problems: Problems, body: Mapping[str, Any], key: str, label: str) -> bool | None:
    """Check an optional boolean member."""
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if not isinstance(value, bool):
        problems.add(value, label, "Member must be a boolean")
        return None
    return bool(value)


def enum(
    problems: Problems, body: Mapping[str, Any], key: str, label: str, allowed: Sequence[str]
) -> str | None:
    """Check an optional string member against a closed set."""
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if value not in allowed:
        problems.add(value, label, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
        return None
    return str(value)


def enum_list(
    problems: Problems,
    body: Mapping[str, Any],
    key: str,
    label: str,
    allowed: Sequence[str],
    max_items: int,
) -> tuple[str, ...] | None:
    """Check an optional list of enum values and its length."""
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if not isinstance(value, list | tuple):
        problems.add(value, label, "Member must be a list")
        return None
    if len(value) > max_items:
        problems.add(value, label, f"Member must have length less than or equal to {max_items}")
        return None
    if any(item not in allowed for item in value):
        problems.add(
            value,
            label,
            "Member must satisfy constraint: "
            f"[Member must satisfy enum value set: [{', '.join(allowed)}]]",
        )
        return None
    return tuple(str(item) for item in value)
