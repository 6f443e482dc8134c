"""Plan policies: which kinds of change a plan may make.

Every call the planner makes says what kind of change it is (see
:data:`~labkit.deploy.plan.Change`). :func:`apply` keeps the calls a :class:`PlanPolicy`
allows and returns the others as skipped; a call that needs a value captured by a skipped call
(a mapping on a stream that is not turned on) is skipped too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..plan import Call, Change, Ref


@dataclass(frozen=True)
class PlanPolicy:
    """What a plan may do besides creating what is missing (which it always may)."""

    update: bool = True
    remove: bool = True

    def allows(self, change: Change) -> bool:
        if change == "create":
            return True
        if change == "update":
            return self.update
        if change == "remove":
            return self.remove
        return self.update and self.remove  # replace: destroys something to make it again


#: The default: create, update in place, replace and remove, so that what exists is exactly
#: the desired stack (within what ``owned`` lets the plan touch).
CONVERGE = PlanPolicy()
#: Create and update, never remove or replace anything.
KEEP_EXTRA = PlanPolicy(remove=False)
#: Only add what is missing: nothing that exists is changed, replaced or removed.
ADD_MISSING = PlanPolicy(update=False, remove=False)


def _refs(value: Any) -> Iterable[str]:
    if isinstance(value, Ref):
        yield value.name
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _refs(item)


def apply(policy: PlanPolicy, calls: Iterable[Call]) -> tuple[list[Call], list[Call]]:
    """The calls ``policy`` allows, and the ones it leaves out, both in order."""
    kept: list[Call] = []
    skipped: list[Call] = []
    captured: set[str] = set()
    for call in calls:
        needs = set(_refs(call.params))
        if call.wait is not None:  # a wait may use what its own call captures
            needs.update(_refs(call.wait.params))
            needs.difference_update(c.name for c in call.capture)
        if policy.allows(call.change) and needs <= captured:
            kept.append(call)
            captured.update(c.name for c in call.capture)
        else:
            skipped.append(call)
    return kept, skipped
