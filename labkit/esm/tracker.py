"""Contiguous completion: the checkpoint is the highest sequence number below which all is done.

With ParallelizationFactor > 1, lanes finish records out of shard order. A lane that finishes
early must not move the checkpoint past records another lane still holds.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable


class CheckpointTracker:
    """Tracks the records read from one shard and which of them are done. Thread-safe."""

    def __init__(self, checkpoint: str | None) -> None:
        self._lock = threading.Lock()
        self._pending: deque[str] = deque()
        self._done: set[str] = set()
        self._checkpoint = checkpoint

    @property
    def checkpoint(self) -> str | None:
        """The last sequence number such that it and every record before it are done."""
        with self._lock:
            return self._checkpoint

    @property
    def pending(self) -> int:
        """How many records were read but are not done yet."""
        with self._lock:
            return len(self._pending)

    def add(self, sequence_numbers: Iterable[str]) -> None:
        """Register records just read, in shard order."""
        with self._lock:
            self._pending.extend(sequence_numbers)

    def complete(self, sequence_numbers: Iterable[str]) -> str | None:
        """Mark records done; return the new checkpoint if it moved, else None."""
        with self._lock:
            self._done.update(sequence_numbers)
            moved = False
            while self._pending and self._pending[0] in self._done:
                head = self._pending.popleft()
                self._done.discard(head)
                self._checkpoint = head
                moved = True
            return self._checkpoint if moved else None
