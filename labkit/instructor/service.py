"""The room's rules: who may do what, limits, and one writer for the store.

:class:`RoomService` owns the :class:`~labkit.instructor.store.Store` (used from one thread
only, the writer) and the derived :class:`~labkit.instructor.state.RoomState`, and tells waiting
pages when something changed. The HTTP layer (:mod:`labkit.instructor.app`) only parses
requests and calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .protocol import BadRequest, Limits, kit_steps, parse_event
from .state import VISIBILITIES, RoomSettings, RoomState, Row
from .store import Event, SessionRecord, SqliteStore, Store

__all__ = ["Access", "RoomService", "new_session"]

T = TypeVar("T")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just made: its record, and the secrets (shown once, kept in a 0600 file)."""

    record: SessionRecord
    instructor_key: str
    helper_key: str


def new_session(title: str, hours: float, now: float | None = None) -> NewSession:
    started = time.time() if now is None else now
    code = "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(2))
    instructor, helper = secrets.token_urlsafe(24), secrets.token_urlsafe(18)
    record = SessionRecord(
        code, title, started, started + hours * 3600, digest(instructor), digest(helper)
    )
    return NewSession(record, instructor, helper)


@dataclass
class _Bucket:
    """A token bucket: ``rate`` per second, up to ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Access:
    INSTRUCTOR = "instructor"
    HELPER = "helper"


class RoomService:
    """One session's room: joining, syncing, the instructor's actions, and change signals."""

    def __init__(
        self,
        data_dir: Path,
        *,
        limits: Limits | None = None,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-store")
        self.store: Store = store or self._writer.submit(SqliteStore, data_dir).result()
        record = self._writer.submit(self.store.session).result()
        if record is None:
            raise RuntimeError(f"No session in {data_dir}: create one with new_session().")
        self.session = record
        self.boot = secrets.token_hex(4)  # SSE ids carry it: a page that outlives us reloads all
        self.state = RoomState(kit_steps())
        self._step_ids = frozenset(self.state.step_ids)
        self._tokens: dict[str, int] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._failed_joins: dict[str, _Bucket] = {}
        self._changed: asyncio.Condition | None = None
        self._writer.submit(self._load).result()

    def _load(self) -> None:
        state = self.state
        state.settings = RoomSettings.from_dict(self.store.settings())
        for participant in self.store.participants():
            state.add_participant(participant)
            if not participant.revoked:
                self._tokens[participant.token_hash] = participant.id
        state.apply_all(self.store.events())
        broadcasts = self.store.broadcasts()
        if broadcasts:
            state.set_broadcast(broadcasts[-1])

    async def _write(self, job: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, job)

    def close(self) -> None:
        self._writer.submit(self.store.close).result()
        self._writer.shutdown()

    # ----- change signals -------------------------------------------------------------------
    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    async def wait_change(self, version: int, timeout: float) -> None:
        """Return once the state's version passes ``version`` (or after ``timeout``)."""
        condition = self._condition()
        async with condition:
            if self.state.version <= version:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(condition.wait(), timeout)

    # ----- who is asking --------------------------------------------------------------------
    @property
    def expired(self) -> bool:
        return self.clock() >= self.session.expires

    def access(self, key: str | None) -> str | None:
        """``"instructor"``, ``"helper"`` or None for a page or action key."""
        if not key:
            return None
        hashed = digest(key)
        if hmac.compare_digest(hashed, self.session.instructor_hash):
            return Access.INSTRUCTOR
        if hmac.compare_digest(hashed, self.session.helper_hash):
            return Access.HELPER
        return None

    def participant(self, authorization: str | None) -> Row:
        """The participant a bearer token belongs to, or a 401/403/429 :class:`BadRequest`."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token:
            raise BadRequest("Send your participant token as 'Authorization: Bearer …'.", 401)
        if self.expired:
            raise BadRequest("This session has ended; ask the instructor for a new code.", 401)
        pid = self._tokens.get(digest(token))
        if pid is None:
            raise BadRequest(
                "This participant token is not valid here (revoked, or from another session): "
                "join again with lab.join(...).",
                401,
            )
        bucket = self._buckets.setdefault(pid, _Bucket(self.limits.rate, self.limits.burst))
        if not bucket.take():
            raise BadRequest("Too many requests; slow down and retry in a second.", 429)
        return self.state.rows[pid]

    # ----- learners -------------------------------------------------------------------------
    async def join(self, code: str, name: str, address: str) -> tuple[Row, str]:
        if self.expired:
            raise BadRequest("This session has ended; ask the instructor for a new code.", 403)
        if not hmac.compare_digest(code.encode(), self.session.code.encode()):
            bucket = self._failed_joins.setdefault(
                address,
                _Bucket(
                    self.limits.failed_joins_per_minute / 60, self.limits.failed_joins_per_minute
                ),
            )
            if not bucket.take():
                raise BadRequest("Too many wrong codes from this address; wait a minute.", 429)
            raise BadRequest(
                "That room code is not this room's; check it with your instructor.", 404
            )
        if len(self.state.rows) >= self.limits.max_participants:
            raise BadRequest("This room is full.", 403)
        token = secrets.token_urlsafe(32)
        participant = await self._write(
            lambda: self.store.add_participant(name, digest(token), self.clock())
        )
        self._tokens[participant.token_hash] = participant.id
        row = self.state.add_participant(participant)
        await self._notify()
        return row, token

    async def sync(self, row: Row, body: Any) -> dict[str, Any]:
        """Store a participant's events (each once) and answer with the room's news."""
        if not isinstance(body, dict):
            raise BadRequest('Send a JSON object: {"events": [...]}.')
        raw_events = body.get("events", [])
        if not isinstance(raw_events, list):
            raise BadRequest("'events' must be a list.")
        if len(raw_events) > self.limits.max_events:
            raise BadRequest(f"Send at most {self.limits.max_events} events at a time.", 413)
        wanted = bool(self.state.settings.code_request)
        parsed = [
            parse_event(raw, n, self._step_ids, self.limits, code_wanted=wanted)
            for n, raw in enumerate(raw_events)
        ]
        if len({p["id"] for p in parsed}) != len(parsed):
            raise BadRequest("Two events in one request have the same id.")
        now = self.clock()
        events = [
            Event(
                row.id,
                p["id"],
                p["kind"],
                p["step"],
                min(max(p["at"], row.joined - 60), now),
                p["data"],
                now,
            )
            for p in parsed
        ]

        def store() -> list[Event]:
            stored = self.store.add_events(events) if events else []
            self.store.touch(row.id, now)
            return stored

        stored = await self._write(store)
        for event in sorted(stored, key=lambda e: (e.at, e.seq)):
            self.state.apply(event)
        self.state.seen(row.id, now)
        await self._notify()
        return {
            "accepted": len(stored),
            "duplicates": len(events) - len(stored),
            **self.news(row),
        }

    def news(self, row: Row) -> dict[str, Any]:
        """What the learner's notebook and ``labkit status`` show: message, marker, board."""
        state = self.state
        message = state.broadcast
        settings = state.settings
        board: list[dict[str, Any]] | None = None
        if settings.leaderboard != "instructor":
            real = settings.leaderboard == "everyone"
            board = [
                {"name": name, "points": points, "you": pid == row.id}
                for pid, name, points in state.leaderboard(real_names=real)[:10]
            ]
        return {
            "participant": row.id,
            "name": row.name,
            "message": None
            if message is None
            else {"id": message.id, "text": message.text, "step": message.step, "at": message.at},
            "code_request": settings.code_request,
            "leaderboard": board,
            "points": row.points,
            "session_ends": self.session.expires,
        }

    # ----- the instructor's actions ---------------------------------------------------------
    async def broadcast(self, text: str, step: str) -> None:
        if len(text) > 500:
            raise BadRequest("A message may have at most 500 characters.")
        if step and step not in self._step_ids:
            raise BadRequest(f"{step!r} is not a step of this kit.")
        if not text.strip() and not step:
            raise BadRequest("Write a message or choose a step.")
        made = await self._write(lambda: self.store.add_broadcast(text, step, self.clock()))
        self.state.set_broadcast(made)
        await self._notify()

    async def update_settings(self, changes: dict[str, Any]) -> RoomSettings:
        current = self.state.settings.to_dict()
        for key, value in changes.items():
            if key not in current:
                raise BadRequest(f"There is no setting {key!r}.")
            current[key] = value
        settings = _checked_settings(current)
        await self._write(lambda: self.store.save_settings(settings.to_dict()))
        self.state.set_settings(settings)
        await self._notify()
        return settings

    async def revoke(self, participant: int) -> None:
        row = self.state.rows.get(participant)
        if row is None:
            raise BadRequest(f"There is no participant {participant}.", 404)
        await self._write(lambda: self.store.revoke(participant))
        self._tokens = {h: p for h, p in self._tokens.items() if p != participant}
        self.state.revoke(participant)
        await self._notify()

    async def all_events(self) -> list[Event]:
        return await self._write(lambda: list(self.store.events()))


def _checked_settings(values: dict[str, Any]) -> RoomSettings:
    try:
        minutes = float(values["stuck_minutes"])
        same = int(values["same_failure"])
    except (TypeError, ValueError):
        raise BadRequest(
            "The stuck threshold must be minutes and the failure count a number."
        ) from None
    if not 0 < minutes <= 600 or not 1 <= same <= 100:
        raise BadRequest("Stuck after 0-600 minutes, or after 1-100 identical failures.")
    if values["leaderboard"] not in VISIBILITIES:
        raise BadRequest(f"The leaderboard is shown to one of: {', '.join(VISIBILITIES)}.")
    request = values["code_request"]
    if not isinstance(request, str) or len(request) > 300:
        raise BadRequest("A code request is a text of at most 300 characters.")
    return RoomSettings(minutes, same, str(values["leaderboard"]), request)
