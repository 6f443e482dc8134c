"""What travels between a learner's laptop and the instructor server, and how it is checked.

Only outcomes travel: a check's items as label, pass/fail and mistake code (never the detail,
which can quote the learner's resources); a hint's tier; a solve; a reset; a round's points.
Code travels only as a ``code`` event, which the server accepts only while the instructor asks
for it. Every request body is checked here; anything malformed is a :class:`BadRequest` naming
what is wrong, and nothing of that request is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "BadRequest", "Limits", "kit_steps", "parse_event", "parse_join"]

KINDS = ("check", "hint", "solve", "reset", "round", "code")
ITEM_STATUSES = ("pass", "fail", "warn", "skip")
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class BadRequest(ValueError):
    """A request the server refuses, with the reason to show the sender."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """How much one participant may send."""

    max_body: int = 64 * 1024  # bytes per request
    max_events: int = 200  # events per request
    max_items: int = 60  # items per check
    max_code: int = 16 * 1024  # characters of shared code
    rate: float = 5.0  # requests per second, sustained
    burst: int = 40  # requests at once
    max_participants: int = 2000
    failed_joins_per_minute: int = 20  # per address


def kit_steps() -> tuple[tuple[str, str], ...]:
    """Every lab's steps in course order, as (id, title): the columns of the instructor's grid."""
    from labkit.lab.course import ALL_STEPS

    return tuple((step.id, step.title) for step in ALL_STEPS)


def _text(data: dict[str, Any], key: str, limit: int, *, where: str, empty: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise BadRequest(f"{where}: {key!r} must be a string.")
    if len(value) > limit:
        raise BadRequest(f"{where}: {key!r} is longer than {limit} characters.")
    if not empty and not value.strip():
        raise BadRequest(f"{where}: {key!r} must not be empty.")
    return value


def _number(data: dict[str, Any], key: str, *, where: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 10**12:
        raise BadRequest(f"{where}: {key!r} must be a whole number.")
    return value


def _flag(data: dict[str, Any], key: str, *, where: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise BadRequest(f"{where}: {key!r} must be true or false.")
    return value


def parse_join(body: Any) -> tuple[str, str]:
    """``{"code": "ABCD-EFGH", "name": "table-4-left"}`` -> (code, name)."""
    if not isinstance(body, dict):
        raise BadRequest('Send a JSON object: {"code": "ROOM-CODE", "name": "your name"}.')
    code = _text(body, "code", 20, where="join", empty=False).strip().upper()
    name = " ".join(_text(body, "name", 40, where="join", empty=False).split())
    if any(not ch.isprintable() for ch in name):
        raise BadRequest("join: the name may only contain printable characters.")
    return code, name


def parse_event(
    raw: Any, index: int, steps: frozenset[str], limits: Limits, *, code_wanted: bool
) -> dict[str, Any]:
    """One event of a sync request, reduced to exactly the fields the server keeps."""
    where = f"event {index}"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: each event must be a JSON object.")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise BadRequest(f"{where}: 'id' must be 1-64 letters, digits or _.:- characters.")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"{where}: 'kind' must be one of {', '.join(KINDS)}.")
    step = raw.get("step", "")
    if kind in ("round", "code"):
        step = step if isinstance(step, str) and step in steps else ""
    elif not isinstance(step, str) or step not in steps:
        raise BadRequest(f"{where}: {step!r} is not a step of this kit.")
    at = raw.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float):
        raise BadRequest(f"{where}: 'at' must be a time in seconds since the epoch.")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise BadRequest(f"{where}: 'data' must be a JSON object.")
    kept: dict[str, Any] = {}
    if kind == "check":
        kept["passed"] = _flag(data, "passed", where=where)
        items = data.get("items")
        if not isinstance(items, list) or len(items) > limits.max_items:
            raise BadRequest(f"{where}: 'items' must be a list of at most {limits.max_items}.")
        kept["items"] = [_item(item, f"{where} item {n}") for n, item in enumerate(items)]
    elif kind == "hint":
        tier = _number(data, "tier", where=where)
        if not 1 <= tier <= 9:
            raise BadRequest(f"{where}: 'tier' must be between 1 and 9.")
        kept["tier"] = tier
    elif kind == "solve":
        kept["passed"] = _flag(data, "passed", where=where)
    elif kind == "round":
        for key in ("number", "points", "total"):
            kept[key] = _number(data, key, where=where)
        kept["exact"] = _flag(data, "exact", where=where)
    elif kind == "code":
        if not code_wanted:
            raise BadRequest(f"{where}: the instructor has not asked for code.", status=409)
        kept["label"] = _text(data, "label", 80, where=where)
        kept["text"] = _text(data, "text", limits.max_code, where=where)
    return {"id": event_id, "kind": kind, "step": step, "at": float(at), "data": kept}


def _item(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: must be a JSON object.")
    status = raw.get("status")
    if status not in ITEM_STATUSES:
        raise BadRequest(f"{where}: 'status' must be one of {', '.join(ITEM_STATUSES)}.")
    return {
        "label": _text(raw, "label", 200, where=where),
        "status": str(status),
        "code": _text(raw, "code", 80, where=where),
    }
