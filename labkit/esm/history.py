"""A bounded record of recent invocation outcomes, for learners and instructors to inspect."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["ok", "partial", "error", "discarded", "throttled"]


@dataclass(frozen=True)
class InvocationRecord:
    """One attempt to process a batch, or the decision to discard it."""

    time: float
    shard_id: str
    batch_size: int
    first_sequence: str | None
    last_sequence: str | None
    duration_ms: float
    outcome: Outcome
    retry_count: int
    bisected: bool
    error_type: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    condition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dict."""
        return dataclasses.asdict(self)


class History:
    """A thread-safe ring buffer of the last ``size`` invocation records."""

    def __init__(self, size: int = 500) -> None:
        self._lock = threading.Lock()
        self._items: deque[InvocationRecord] = deque(maxlen=size)

    def append(self, record: InvocationRecord) -> None:
        """Add a record, dropping the oldest one when full."""
        with self._lock:
            self._items.append(record)

    def snapshot(self) -> list[InvocationRecord]:
        """The records, oldest first."""
        with self._lock:
            return list(self._items)

    def last(self) -> InvocationRecord | None:
        """The most recent record, if any."""
        with self._lock:
            return self._items[-1] if self._items else None
