"""Keeping the learner's work: which calls of a plan change or remove what exists.

``Workshop.provision`` and ``solve`` must never take away what a learner made; only
``reset`` takes the lab back, and it lists what it removes first. Every planned call says what
kind of change it is (:data:`~labkit.deploy.plan.Change`), so the Workshop can decide:

* at or behind where the learner is, the planner's :data:`~labkit.deploy.planner.ADD_MISSING`
  policy only creates what is missing (its skipped calls are what was left alone);
* going forward, :func:`without_protected` withholds the calls that would change what the
  learner built in steps already completed (found by comparing each completed step's start and
  solution with :func:`changed_resources`) and, for provisioning, every removal;
* :func:`changes_to_existing` lists the calls of a reset that change or remove something that
  exists, which is what a reset must be confirmed for.

It knows nothing of the lab's steps or names: the Workshop passes stacks and plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from labkit.deploy import Plan, Stack
from labkit.deploy.plan import Call, Ref

__all__ = [
    "Sorted",
    "changed_resources",
    "changes_to_existing",
    "resource_labels",
    "without_protected",
]


@dataclass(frozen=True)
class Sorted:
    """A plan split in two: what runs, and the calls withheld to keep the learner's work."""

    plan: Plan
    withheld: tuple[Call, ...] = ()

    @classmethod
    def of(cls, plan: Plan) -> Sorted:
        """A plan the planner already limited: its skipped calls are the withheld ones."""
        return cls(replace(plan, skipped=()), plan.skipped)

    @property
    def left_alone(self) -> tuple[str, ...]:
        """The withheld calls in words (what provisioning did not do)."""
        return tuple(dict.fromkeys(c.description for c in self.withheld))


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, Ref):
        yield value.name
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _refs(inner)


def without_protected(plan: Plan, protected: set[str], *, removals: bool) -> Sorted:
    """Withhold changes to the resources in ``protected`` (labels; creating one that is
    missing is still done) and, unless ``removals``, every removal; and any call that needs a
    value only a withheld call would have captured."""
    kept: list[Call] = []
    withheld: list[Call] = list(plan.skipped)
    captured: set[str] = set()
    for call in plan.calls:
        mine = call.resource in protected and call.change != "create"
        removing = not removals and call.change == "remove"
        needs = set(_refs(call.params)) - {c.name for c in call.capture}
        if mine or removing or not needs <= captured:
            withheld.append(call)
            continue
        kept.append(call)
        captured.update(c.name for c in call.capture)
    return Sorted(replace(plan, calls=tuple(kept), skipped=()), tuple(withheld))


def changes_to_existing(plan: Plan) -> tuple[Call, ...]:
    """The calls that change or remove something that exists (what a reset must be
    confirmed for); settings items the lab writes itself do not count."""
    return tuple(c for c in plan.calls if c.change != "create" and c.operation != "update_item")


def resource_labels(stack: Stack) -> dict[str, Any]:
    """Every resource of ``stack`` (of every kind) by its label."""
    found: dict[str, Any] = {}
    for kind in fields(stack):
        for resource in getattr(stack, kind.name):
            found[str(getattr(resource, "label", resource))] = resource
    return found


def changed_resources(before: Stack, after: Stack) -> set[str]:
    """Labels of the resources ``after`` adds to ``before`` or defines differently."""
    old = resource_labels(before)
    return {label for label, r in resource_labels(after).items() if old.get(label) != r}
