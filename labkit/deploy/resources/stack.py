"""A :class:`Stack`: everything one state of a lab consists of."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .compute import EventSourceMapping, Function, KinesisStream, LogGroup, Permission
from .dynamodb import Table, TableItem
from .iam import ManagedPolicy, Role
from .messaging import Bucket, Queue, Subscription, Topic


@dataclass(frozen=True)
class Stack:
    """Everything one state of the lab consists of."""

    streams: tuple[KinesisStream, ...] = ()
    tables: tuple[Table, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    roles: tuple[Role, ...] = ()
    log_groups: tuple[LogGroup, ...] = ()
    functions: tuple[Function, ...] = ()
    mappings: tuple[EventSourceMapping, ...] = ()
    items: tuple[TableItem, ...] = ()
    queues: tuple[Queue, ...] = ()
    topics: tuple[Topic, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    permissions: tuple[Permission, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)

    def names(self) -> dict[str, tuple[str, ...]]:
        """The names of everything in the stack, by kind (for listings and tests)."""
        return {
            "streams": tuple(s.name for s in self.streams),
            "tables": tuple(t.name for t in self.tables),
            "policies": tuple(p.name for p in self.policies),
            "roles": tuple(r.name for r in self.roles),
            "log_groups": tuple(g.name for g in self.log_groups),
            "functions": tuple(f.name for f in self.functions),
            "queues": tuple(q.name for q in self.queues),
            "topics": tuple(t.name for t in self.topics),
            "buckets": tuple(b.name for b in self.buckets),
        }


def merge(stacks: Iterable[Stack]) -> Stack:
    """One stack with the resources of all (first occurrence of a name wins)."""

    def unique(items: Iterable[Any], key: Callable[[Any], Any]) -> tuple[Any, ...]:
        seen: dict[Any, Any] = {}
        for item in items:
            seen.setdefault(key(item), item)
        return tuple(seen.values())

    parts = list(stacks)

    def of(kind: str, key: Callable[[Any], Any] = lambda r: r.name) -> tuple[Any, ...]:
        return unique((r for p in parts for r in getattr(p, kind)), key)

    return Stack(
        streams=of("streams"),
        tables=of("tables"),
        policies=of("policies"),
        roles=of("roles"),
        log_groups=of("log_groups"),
        functions=of("functions"),
        mappings=of("mappings", lambda m: m.key),
        items=of("items", lambda i: (i.table, i.key_value)),
        queues=of("queues"),
        topics=of("topics"),
        subscriptions=of("subscriptions", lambda s: s.key),
        buckets=of("buckets"),
        permissions=of("permissions", lambda p: p.key),
    )
