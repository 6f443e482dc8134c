"""The learner's outbox: events appended to a file, sent later, never lost.

``DATA_DIR/room/outbox.jsonl`` holds one JSON event a line, appended under a file lock (a
notebook and a ``labkit check`` in a terminal may write at once). ``outbox.sent`` holds the byte
offset up to which the server has acknowledged the events. Nothing is ever removed before the
server said it stored it; a resend after a lost reply is harmless, since the server keeps each
event id once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.events_file = folder / "outbox.jsonl"
        self.cursor_file = folder / "outbox.sent"
        self._lock_file = folder / "outbox.lock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, kind: str, step: str, data: dict[str, Any], at: float | None = None) -> str:
        """Add an event; returns its id (unique: a random UUID)."""
        event_id = uuid.uuid4().hex
        event = {"id": event_id, "kind": kind, "step": step, "at": at or time.time(), "data": data}
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self._locked(), open(self.events_file, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        return event_id

    def position(self) -> int:
        """The offset up to which the server has acknowledged the events."""
        return self._cursor()

    def _cursor(self) -> int:
        try:
            return int(self.cursor_file.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def pending(self, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` unsent events and the offset just after them."""
        start = self._cursor()
        events: list[dict[str, Any]] = []
        end = start
        try:
            with open(self.events_file, "rb") as handle:
                handle.seek(start)
                for line in handle:
                    if not line.endswith(b"\n") or len(events) >= limit:
                        break  # a line still being written, or enough for one batch
                    end += len(line)
                    with contextlib.suppress(ValueError):
                        events.append(json.loads(line))
        except FileNotFoundError:
            pass
        return events, end

    def count_pending(self) -> int:
        try:
            with open(self.events_file, "rb") as handle:
                handle.seek(self._cursor())
                return sum(1 for line in handle if line.endswith(b"\n"))
        except FileNotFoundError:
            return 0

    def acknowledge(self, offset: int) -> None:
        """The server stored everything before ``offset``."""
        with self._locked():
            if offset <= self._cursor():
                return
            spare = self.cursor_file.with_suffix(".tmp")
            spare.write_text(str(offset))
            spare.replace(self.cursor_file)
