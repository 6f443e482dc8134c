"""The pages' live updates: one publisher renders each change once, for every open page.

Every ``interval`` (when something changed) :class:`Publisher` renders the rows that changed,
the "last seen" times that moved and, if anything room-wide changed, the panels (once per role),
and keeps the message in a short history. A page's stream sends the messages after the one it
has; a page that reconnects with ``Last-Event-ID`` gets exactly the messages it missed, or the
whole room when it is too far behind or the server restarted (the id carries the server's boot
id). So the cost of an update does not grow with the number of open pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from . import page
from .service import Access, RoomService
from .state import Row

__all__ = ["Publisher"]

ROLES = (Access.INSTRUCTOR, Access.HELPER)


@dataclass(frozen=True)
class Message:
    since: int  # the version the previous message reached
    version: int
    payloads: dict[str, str]  # role -> JSON text


class Publisher:
    def __init__(self, service: RoomService, *, interval: float = 0.25, keep: int = 200) -> None:
        self.service = service
        self.interval = interval
        self.history: deque[Message] = deque(maxlen=keep)
        self.version = 0
        self._rows: dict[int, tuple[int, str]] = {}
        self._published = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def boot(self) -> str:
        return self.service.boot

    def row_html(self, row: Row) -> str:
        cached = self._rows.get(row.id)
        if cached is None or cached[0] != row.version:
            cached = (row.version, page.row_html(self.service.state, row))
            self._rows[row.id] = cached
        return cached[1]

    def _update(self, since: int, role: str, *, panels: bool) -> dict[str, Any]:
        state = self.service.state
        rows = state.rows.values()
        update: dict[str, Any] = {
            "version": state.version,
            "now": self.service.clock(),
            "rows": {r.id: self.row_html(r) for r in rows if r.version > since},
            "seen": {r.id: round(r.last_seen, 3) for r in rows if r.seen_version > since},
        }
        if panels:
            update["panels"] = page.panels(state, role)
        return update

    def publish(self) -> None:
        state = self.service.state
        since = self.version
        panels = state.room_version > since
        payloads = {role: json.dumps(self._update(since, role, panels=panels)) for role in ROLES}
        self.version = state.version
        self.history.append(Message(since, self.version, payloads))
        self._published.set()
        self._published = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self.service.wait_change(self.version, timeout=5.0)
            if self.service.state.version > self.version:
                self.publish()
                await asyncio.sleep(self.interval)  # gather the next changes into one message

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _missed(self, start: int) -> list[Message] | None:
        """The messages after version ``start``, or None if some are gone from the history."""
        after = [m for m in self.history if m.version > start]
        if after and after[0].since > start:
            return None
        if not after and start > self.version:
            return None  # an id from the future: not ours
        return after

    async def stream(self, role: str, resume: str) -> AsyncIterator[dict[str, str]]:
        """Server-sent events for one page, from the id it has (``boot:version``) on."""
        self.start()
        boot, _, number = resume.partition(":")
        start = int(number) if boot == self.boot and number.isdigit() else -1
        missed = self._missed(start) if start >= 0 else None
        if missed is None:
            state = self.service.state
            full = self._update(-1, role, panels=True)
            yield {"id": f"{self.boot}:{state.version}", "data": json.dumps(full)}
            sent = state.version
        else:
            for message in missed:
                yield {"id": f"{self.boot}:{message.version}", "data": message.payloads[role]}
            sent = missed[-1].version if missed else start
        while True:
            published = self._published
            news = [m for m in self.history if m.version > sent]
            if not news:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(published.wait(), timeout=15.0)
                continue
            for message in news:
                yield {"id": f"{self.boot}:{message.version}", "data": message.payloads[role]}
                sent = message.version
