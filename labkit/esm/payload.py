"""Invocation payloads: ``{"Records": [...]}`` and the tumbling-window shape.

A payload is serialised exactly once per batch and the bytes are reused for every retry, so a
function that derives an idempotency key from its input (``md5(str(records))``) sees the same
input each time. Each record is serialised once when it is read (its *fragment*); a payload is
the fragments joined inside a fixed head and tail, which also makes its size known up front.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labkit.esm.timefmt import iso_seconds

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit (6 MB = 6,291,456 bytes)."""

_HEAD = b'{"Records":['


def dumps(value: Any) -> bytes:
    """Deterministic compact JSON (input key order kept) as UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@dataclass(frozen=True)
class WindowInfo:
    """The tumbling-window members that accompany the records."""

    start: float
    end: float
    state: Mapping[str, Any]
    shard_id: str
    source_arn: str
    is_final: bool = False
    terminated_early: bool = False

    def members(self) -> dict[str, Any]:
        """The event members after ``Records``, in AWS's order."""
        return {
            "window": {"start": iso_seconds(self.start), "end": iso_seconds(self.end)},
            "state": dict(self.state),
            "shardId": self.shard_id,
            "eventSourceARN": self.source_arn,
            "isFinalInvokeForWindow": self.is_final,
            "isWindowTerminatedEarly": self.terminated_early,
        }


def _tail(window: WindowInfo | None) -> bytes:
    if window is None:
        return b"]}"
    return b"]," + dumps(window.members())[1:]


def overhead(window: WindowInfo | None = None) -> int:
    """Bytes a payload takes beyond its record fragments and the commas between them."""
    return len(_HEAD) + len(_tail(window))


def build(fragments: Sequence[bytes], window: WindowInfo | None = None) -> bytes:
    """Join pre-serialised records into an invocation payload."""
    return _HEAD + b",".join(fragments) + _tail(window)


def fitting_count(
    sizes: Iterable[int], *, max_count: int, fixed: int, limit: int = MAX_PAYLOAD_BYTES
) -> int:
    """How many leading records (of the given fragment sizes) fit in one payload.

    Always at least one, so an oversized single record is still delivered (and fails loudly
    in the runtime) rather than blocking the shard silently.
    """
    total = fixed
    count = 0
    for size in sizes:
        if count >= max_count:
            break
        extra = size + (1 if count else 0)
        if count and total + extra > limit:
            break
        total += extra
        count += 1
    return count
