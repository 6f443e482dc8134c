"""Where a room's state lives: the session, its participants, their events and the broadcasts.

:class:`Store` is the small interface the server uses; :class:`SqliteStore` keeps it in one
SQLite file in the data directory, in WAL mode, with one connection that only the server's
single writer thread uses. Everything the server shows is derived from these rows, so a restart
loses nothing. A course that outgrows one machine implements :class:`Store` on PostgreSQL (see
the README): the same four tables, ``INSERT … ON CONFLICT DO NOTHING`` for the deduplication.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Event", "Participant", "SessionRecord", "SqliteStore", "Store"]


@dataclass(frozen=True)
class SessionRecord:
    """The one session a data directory holds."""

    code: str
    title: str
    created: float
    expires: float
    instructor_hash: str
    helper_hash: str


@dataclass(frozen=True)
class Participant:
    id: int
    name: str
    token_hash: str
    joined: float
    last_seen: float
    revoked: bool = False


@dataclass(frozen=True)
class Event:
    """One outcome a participant reported: a check, a hint, a solve, a reset or a round."""

    participant: int
    event_id: str
    kind: str
    step: str
    at: float  # when it happened on the learner's machine (clamped by the server)
    data: dict[str, Any]
    received: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class Broadcast:
    """A message to the room, and the step the room is at ("" when not set)."""

    id: int
    text: str
    step: str
    at: float


class Store(Protocol):
    """What the instructor server needs from its storage."""

    def session(self) -> SessionRecord | None: ...
    def create_session(self, record: SessionRecord) -> None: ...
    def settings(self) -> dict[str, Any]: ...
    def save_settings(self, settings: dict[str, Any]) -> None: ...
    def add_participant(self, name: str, token_hash: str, when: float) -> Participant: ...
    def participants(self) -> list[Participant]: ...
    def touch(self, participant: int, when: float) -> None: ...
    def revoke(self, participant: int) -> bool: ...
    def add_events(self, events: Sequence[Event]) -> list[Event]:
        """Store the events not stored before (by participant and event id); return those."""
        ...

    def events(self, after: int = 0) -> Iterator[Event]: ...
    def add_broadcast(self, text: str, step: str, when: float) -> Broadcast: ...
    def broadcasts(self) -> list[Broadcast]: ...
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    joined REAL NOT NULL,
    last_seen REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    participant INTEGER NOT NULL REFERENCES participants(id),
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    step TEXT NOT NULL,
    at REAL NOT NULL,
    received REAL NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (participant, event_id)
);
CREATE TABLE IF NOT EXISTS broadcasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    step TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class SqliteStore:
    """:class:`Store` in ``DATA_DIR/instructor.sqlite3`` (WAL; use from one thread only)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "instructor.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    # ----- session and settings -------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def session(self) -> SessionRecord | None:
        text = self._meta("session")
        return None if text is None else SessionRecord(**json.loads(text))

    def create_session(self, record: SessionRecord) -> None:
        self._set_meta("session", json.dumps(record.__dict__))

    def settings(self) -> dict[str, Any]:
        text = self._meta("settings")
        found: dict[str, Any] = json.loads(text) if text else {}
        return found

    def save_settings(self, settings: dict[str, Any]) -> None:
        self._set_meta("settings", json.dumps(settings))

    # ----- participants ---------------------------------------------------------------------
    def add_participant(self, name: str, token_hash: str, when: float) -> Participant:
        cursor = self._db.execute(
            "INSERT INTO participants (name, token_hash, joined, last_seen) VALUES (?, ?, ?, ?)",
            (name, token_hash, when, when),
        )
        return Participant(int(cursor.lastrowid or 0), name, token_hash, when, when)

    def participants(self) -> list[Participant]:
        rows = self._db.execute(
            "SELECT id, name, token_hash, joined, last_seen, revoked FROM participants ORDER BY id"
        ).fetchall()
        return [Participant(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def touch(self, participant: int, when: float) -> None:
        self._db.execute(
            "UPDATE participants SET last_seen = max(last_seen, ?) WHERE id = ?",
            (when, participant),
        )

    def revoke(self, participant: int) -> bool:
        cursor = self._db.execute(
            "UPDATE participants SET revoked = 1 WHERE id = ? AND revoked = 0", (participant,)
        )
        return cursor.rowcount > 0

    # ----- events ---------------------------------------------------------------------------
    def add_events(self, events: Sequence[Event]) -> list[Event]:
        stored: list[Event] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                cursor = self._db.execute(
                    "INSERT INTO events (participant, event_id, kind, step, at, received, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(participant, event_id) DO NOTHING",
                    (
                        event.participant,
                        event.event_id,
                        event.kind,
                        event.step,
                        event.at,
                        event.received,
                        json.dumps(event.data, separators=(",", ":")),
                    ),
                )
                if cursor.rowcount:
                    stored.append(replace(event, seq=int(cursor.lastrowid or 0)))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return stored

    def events(self, after: int = 0) -> Iterator[Event]:
        rows = self._db.execute(
            "SELECT participant, event_id, kind, step, at, data, received, seq FROM events "
            "WHERE seq > ? ORDER BY seq",
            (after,),
        )
        for r in rows:
            yield Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])

    # ----- broadcasts -----------------------------------------------------------------------
    def add_broadcast(self, text: str, step: str, when: float) -> Broadcast:
        cursor = self._db.execute(
            "INSERT INTO broadcasts (text, step, at) VALUES (?, ?, ?)", (text, step, when)
        )
        return Broadcast(int(cursor.lastrowid or 0), text, step, when)

    def broadcasts(self) -> list[Broadcast]:
        rows = self._db.execute("SELECT id, text, step, at FROM broadcasts ORDER BY id").fetchall()
        return [Broadcast(r[0], r[1], r[2], r[3]) for r in rows]

    def close(self) -> None:
        self._db.close()
