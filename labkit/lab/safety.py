"""Keeping the learner's work: which calls of a plan add, which change or remove.

``Workshop.provision`` and ``solve`` must never take away what a learner made; only
``reset`` takes the lab back, and it lists what it removes first. This module sorts the calls
of a :class:`~labkit.deploy.Plan` (plain data) so the Workshop can decide:

* :func:`additions_only` keeps the calls that create something missing (with the calls that
  finish that new resource: tags, waits, its policy attachment, its items) and withholds every
  call that would change or remove something that exists;
* :func:`without_protected` withholds the calls that would change what the learner built in
  steps already completed (found by comparing each completed step's start and solution), and,
  for provisioning, every removal;
* :func:`changes_to_existing` lists the calls of a reset that change or remove something that
  exists, which is what a reset must be confirmed for.

It knows nothing of the lab's steps or names: the Workshop passes stacks and plans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from labkit.deploy import Plan, Stack
from labkit.deploy.plan import Call, Ref

__all__ = [
    "Sorted",
    "additions_only",
    "changed_resources",
    "changes_to_existing",
    "resource_labels",
    "without_protected",
]

#: Operations that create a resource that did not exist.
CREATES = frozenset(
    {
        "create_stream",
        "create_table",
        "create_policy",
        "create_role",
        "create_log_group",
        "create_function",
        "create_event_source_mapping",
    }
)
#: Operations that only add to an existing resource and take nothing away.
ADDITIVE = frozenset({"attach_role_policy"})


def is_removal(call: Call) -> bool:
    return call.operation.startswith(("delete_", "detach_", "remove_"))


@dataclass(frozen=True)
class Sorted:
    """A plan split in two: what runs, and the calls withheld to keep the learner's work."""

    plan: Plan
    withheld: tuple[Call, ...] = ()

    @property
    def left_alone(self) -> tuple[str, ...]:
        """The withheld calls in words (what provisioning did not do), one per resource."""
        return tuple(dict.fromkeys(c.description for c in self.withheld))


def _new_resources(plan: Plan) -> set[str]:
    """Labels of resources the plan creates from nothing (not re-creates)."""
    created = {c.resource for c in plan.calls if c.operation in CREATES}
    removed = {c.resource for c in plan.calls if is_removal(c)}
    return created - removed


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, Ref):
        yield value.name
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _refs(inner)


def _split(plan: Plan, withhold: Callable[[Call], bool]) -> Sorted:
    """Withhold the calls ``withhold`` picks, and any call that needs a value only a withheld
    call would have captured."""
    kept: list[Call] = []
    withheld: list[Call] = []
    captured: set[str] = set()
    for call in plan.calls:
        missing = any(name not in captured for name in _refs(call.params))
        if withhold(call) or missing:
            withheld.append(call)
            continue
        kept.append(call)
        captured.update(c.name for c in call.capture)
    return Sorted(replace(plan, calls=tuple(kept)), tuple(withheld))


def additions_only(
    plan: Plan,
    *,
    item_exists: Callable[[str, str, str], bool],
    mapping_exists: Callable[[str, str], bool],
) -> Sorted:
    """Only what creates something missing: a new resource with everything it needs, a
    missing item, a missing policy attachment. ``item_exists(table, key, value)`` and
    ``mapping_exists(function, source_arn)`` answer from the current state."""
    new = _new_resources(plan)

    def withhold(call: Call) -> bool:
        if is_removal(call):
            return True
        if call.operation == "create_event_source_mapping":
            source = call.params.get("EventSourceArn")
            return isinstance(source, str) and mapping_exists(
                str(call.params["FunctionName"]), source
            )
        if call.resource in new or call.operation in ADDITIVE:
            return False
        if call.operation == "update_item":
            table = str(call.params["TableName"])
            ((key, value),) = dict(call.params["Key"]).items()
            fresh = f"table {table}" in new
            return not fresh and item_exists(table, str(key), str(value["S"]))
        return True

    return _split(plan, withhold)


def without_protected(plan: Plan, protected: set[str], *, removals: bool) -> Sorted:
    """Withhold changes to the resources in ``protected`` (labels) and, unless ``removals``,
    every call that removes something on its own (not as part of replacing it)."""
    new = _new_resources(plan)
    changing = {c.resource for c in plan.calls if not is_removal(c)}

    def withhold(call: Call) -> bool:
        if call.resource in protected and call.resource not in new:
            return True
        return not removals and is_removal(call) and call.resource not in changing

    return _split(plan, withhold)


def changes_to_existing(plan: Plan) -> tuple[Call, ...]:
    """The calls that change or remove something that exists (a reset's "what it removes")."""
    new = _new_resources(plan)
    return tuple(
        c
        for c in plan.calls
        if c.resource not in new and c.operation not in ADDITIVE and c.operation != "update_item"
    )


def resource_labels(stack: Stack) -> dict[str, Any]:
    """Every resource of ``stack`` by its label."""
    found: dict[str, Any] = {}
    for kind in (
        stack.streams,
        stack.tables,
        stack.policies,
        stack.roles,
        stack.log_groups,
        stack.functions,
        stack.mappings,
        stack.items,
    ):
        for resource in kind:
            found[resource.label] = resource
    return found


def changed_resources(before: Stack, after: Stack) -> set[str]:
    """Labels of the resources ``after`` adds to ``before`` or defines differently."""
    old = resource_labels(before)
    return {label for label, r in resource_labels(after).items() if old.get(label) != r}
