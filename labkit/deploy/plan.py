"""A plan: the API calls that take an account from what exists to what a lab step needs.

A plan is plain data. :class:`Call` names a boto3 client method and its parameters, says in
words what it does, and may ask the executor to

* ``capture`` a value from the response for later calls (a new table's stream ARN), referred
  to with :class:`Ref` in later parameters;
* ``wait`` until the resource is ready (polling a describe call);
* ``retry`` on errors that are only IAM still propagating (AWS takes seconds to make a new
  role or policy usable);
* ``tolerate`` errors that mean the work is already done (deleting what is already gone).

Each call also says what kind of ``change`` it is (create, update, replace or remove), so a
:class:`~labkit.deploy.planner.PlanPolicy` can leave some kinds out; the calls it left out are
the plan's ``skipped`` calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: What a call does to what exists: ``replace`` destroys something to make it again (a table
#: with another key, a stream turned off and on); ``remove`` deletes or detaches.
Change = Literal["create", "update", "replace", "remove"]


@dataclass(frozen=True)
class Ref:
    """A value only known while executing, captured from an earlier call's response."""

    name: str

    def __str__(self) -> str:
        return "${" + self.name + "}"


@dataclass(frozen=True)
class Capture:
    """Store ``response[path[0]][path[1]]…`` under ``name`` for later :class:`Ref`\\ s."""

    name: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class Wait:
    """Poll ``operation(**params)`` until the value at ``path`` is one of ``ready``.

    With ``gone`` set, the error code that means the resource no longer exists ends the wait
    successfully (waiting for a deletion); with ``absent``, so does finding no value at
    ``path``. ``failed`` values end it with an error. A path part ``List[Key=value]`` picks
    the element of a list whose ``Key`` is ``value`` (``GlobalSecondaryIndexes[IndexName=G]``).
    """

    operation: str
    params: Mapping[str, Any]
    path: tuple[str, ...]
    ready: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    gone: str | None = None
    timeout: float = 300.0
    absent: bool = False
    what: str = "ready"


@dataclass(frozen=True)
class RetryOn:
    """An error that means "not yet": retried with backoff until the propagation timeout."""

    code: str
    message_contains: str = ""
    reason: str = "IAM changes are still propagating"

    def matches(self, code: str, message: str) -> bool:
        return code == self.code and self.message_contains.lower() in message.lower()


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: Mapping[str, Any]
    description: str
    resource: str
    capture: tuple[Capture, ...] = ()
    wait: Wait | None = None
    retry: tuple[RetryOn, ...] = ()
    tolerate: tuple[str, ...] = ()
    change: Change = "update"

    @property
    def api(self) -> str:
        """``dynamodb.create_table``."""
        return f"{self.service}.{self.operation}"

    def display_params(self) -> dict[str, Any]:
        """Parameters for people: bytes shown by size, references as ``${name}``."""
        shown: dict[str, Any] = _displayable(dict(self.params))
        return shown


def _displayable(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Ref):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _displayable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_displayable(v) for v in value]
    return value


@dataclass(frozen=True)
class Plan:
    """The calls, in order, and what the plan is for."""

    title: str
    calls: tuple[Call, ...] = ()
    notes: tuple[str, ...] = field(default=())
    skipped: tuple[Call, ...] = ()

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def __bool__(self) -> bool:
        return True

    @property
    def empty(self) -> bool:
        return not self.calls

    def lines(self, *, with_params: bool = False) -> list[str]:
        """The plan as numbered lines of text (what a dry run shows)."""
        out = [f"{self.title}: {len(self.calls)} call(s)"]
        for note in self.notes:
            out.append(f"  note: {note}")
        width = len(str(len(self.calls)))
        for number, call in enumerate(self.calls, 1):
            out.append(f"  {number:>{width}}. {call.description}  [{call.api}]")
            if with_params:
                text = json.dumps(call.display_params(), indent=2, sort_keys=True, default=str)
                out.extend("       " + line for line in text.splitlines())
        if not self.calls:
            out.append("  nothing to do: everything is already in place")
        for call in self.skipped:
            out.append(f"  left as it is: {call.description}")
        return out
