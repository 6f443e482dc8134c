"""What every part of the planner shares: the stacks, the reader, and the calls so far."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..plan import Call, Change, Ref
from ..resources import Stack, Tags
from ..state import StateReader


class Context:
    """One planning run: ``desired`` and ``owned`` stacks, what ``reader`` sees, the calls."""

    def __init__(self, desired: Stack, owned: Stack, reader: StateReader) -> None:
        self.desired = desired
        self.owned = owned
        self.reader = reader
        self.env = reader.environment
        self.calls: list[Call] = []
        self.notes: list[str] = []
        # The stream ARN each desired table will have once the plan ran: known or captured.
        self.stream_arns: dict[str, str | Ref | None] = {}

    def add(self, call: Call) -> None:
        self.calls.append(call)

    def remove_iam(
        self,
        operation: str,
        params: dict[str, Any],
        description: str,
        label: str,
        change: Change = "remove",
    ) -> None:
        """An IAM removal; something already gone (NoSuchEntity) is fine."""
        self.add(
            Call(
                "iam",
                operation,
                params,
                description,
                label,
                tolerate=("NoSuchEntity",),
                change=change,
            )
        )


def tag_list(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def missing_tags(wanted: Tags, current: Mapping[str, str]) -> Tags:
    return tuple((k, v) for k, v in wanted if current.get(k) != v)


def unique(*groups: Iterable[Any]) -> list[Any]:
    """The items of ``groups`` by name, the first of each name."""
    seen: dict[str, Any] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item.name, item)
    return list(seen.values())
