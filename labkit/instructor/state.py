"""What the room looks like, derived from the stored events: pure data, no I/O.

:class:`RoomState` is rebuilt from the store when the server starts and then updated one event at
a time. Every change bumps a version number; each participant row remembers the version that
last changed it, so a page that reconnects gets exactly the rows it missed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .store import Broadcast, Event, Participant

__all__ = ["Cell", "RoomSettings", "RoomState", "Row"]

NICK_ANIMALS = (
    "Otter", "Heron", "Lynx", "Puffin", "Badger", "Gecko", "Marten", "Ibis", "Tapir", "Wren",
    "Koala", "Bison", "Crane", "Dingo", "Egret", "Ferret", "Gannet", "Hare", "Jackal", "Kestrel",
)  # fmt: skip
VISIBILITIES = ("everyone", "instructor", "nicknames")


def nickname(participant: int) -> str:
    """A stable stand-in name for the leaderboard's "nicknames" setting."""
    return f"{NICK_ANIMALS[participant % len(NICK_ANIMALS)]} {participant}"


@dataclass
class RoomSettings:
    """What the instructor sets on the page."""

    stuck_minutes: float = 10.0
    same_failure: int = 3
    leaderboard: str = "instructor"  # one of VISIBILITIES
    code_request: str = ""  # a request to share code; empty when none

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Cell:
    """One participant on one step."""

    status: str = "none"  # none | started | failing | done | solved
    failing: tuple[str, ...] = ()  # labels of the failed items in the latest check
    hint_tier: int = 0  # the highest hint tier reached
    same_failure: int = 0  # how many checks in a row failed in the same way
    checks: int = 0
    _signature: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "solved")


@dataclass
class Row:
    """One participant: a cell per step, where they are, since when, and their points."""

    id: int
    name: str
    joined: float
    last_seen: float
    revoked: bool = False
    cells: dict[str, Cell] = field(default_factory=dict)
    current: str | None = ""  # "" before any event: the first step; None when finished
    since: float = 0.0
    points: int = 0
    last_event: str = ""
    shared: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0  # when the row last changed (other than "last seen")
    seen_version: int = 0  # when "last seen" last moved

    def cell(self, step: str) -> Cell:
        return self.cells.setdefault(step, Cell())

    @property
    def repeat(self) -> int:
        """Same failure count on the current step."""
        return self.cells[self.current].same_failure if self.current in self.cells else 0


class RoomState:
    """The room now: rows of participants, settings, the latest broadcast."""

    def __init__(self, steps: Sequence[tuple[str, str]]) -> None:
        self.steps = tuple(steps)
        self.step_ids = tuple(s for s, _ in self.steps)
        self.rows: dict[int, Row] = {}
        self.settings = RoomSettings()
        self.broadcast: Broadcast | None = None
        self.version = 0
        self.room_version = 0  # settings, broadcasts and anything room-wide
        self.events = 0

    def _bump(self) -> int:
        self.version += 1
        return self.version

    # ----- changes --------------------------------------------------------------------------
    def add_participant(self, participant: Participant) -> Row:
        row = Row(
            participant.id,
            participant.name,
            participant.joined,
            participant.last_seen,
            participant.revoked,
            current=self.step_ids[0] if self.step_ids else None,
            since=participant.joined,
        )
        self.rows[participant.id] = row
        row.version = self._bump()
        self.room_version = self.version
        return row

    def seen(self, participant: int, when: float) -> None:
        row = self.rows[participant]
        if when > row.last_seen:
            row.last_seen = when
            row.seen_version = self._bump()

    def revoke(self, participant: int) -> None:
        row = self.rows[participant]
        row.revoked = True
        row.version = self._bump()
        self.room_version = self.version

    def set_settings(self, settings: RoomSettings) -> None:
        self.settings = settings
        self.room_version = self._bump()

    def set_broadcast(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self.room_version = self._bump()

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Take one stored event into the room's state."""
        row = self.rows.get(event.participant)
        if row is None:
            return
        self.events += 1
        row.last_event = event.event_id
        data = event.data
        if event.kind == "round":
            row.points = int(data.get("total", row.points))
        elif event.kind == "code":
            row.shared = [*row.shared[-4:], {"label": data["label"], "text": data["text"]}]
        elif event.step in self.step_ids:
            self._apply_step_event(row, event)
        row.version = self._bump()
        self.room_version = self.version

    def _apply_step_event(self, row: Row, event: Event) -> None:
        cell = row.cell(event.step)
        data = event.data
        if event.kind == "check":
            cell.checks += 1
            if data["passed"]:
                if cell.status != "solved":
                    cell.status = "done"
                cell.failing, cell.same_failure, cell._signature = (), 0, ()
            else:
                failed = [i for i in data["items"] if i["status"] == "fail"]
                signature = tuple(sorted(i["code"] or i["label"] for i in failed))
                cell.same_failure = cell.same_failure + 1 if signature == cell._signature else 1
                cell._signature = signature
                cell.failing = tuple(i["label"] for i in failed)
                if not cell.finished:
                    cell.status = "failing"
        elif event.kind == "hint":
            cell.hint_tier = max(cell.hint_tier, int(data["tier"]))
        elif event.kind == "solve":
            cell.status = "solved"
            cell.failing, cell.same_failure, cell._signature = (), 0, ()
        elif event.kind == "reset":
            cell.status = "started"
            cell.failing, cell.same_failure, cell._signature = (), 0, ()
        if cell.status == "none":
            cell.status = "started"
        self._move(row, event.step, event.at)

    def _move(self, row: Row, step: str, at: float) -> None:
        """Where the participant is now: the step they worked on, or the next one once done."""
        current: str | None = step
        if row.cell(step).finished:
            later = self.step_ids[self.step_ids.index(step) + 1 :]
            current = next((s for s in later if not row.cell(s).finished), None)
        if current != row.current:
            row.current = current
            row.since = at

    # ----- views ----------------------------------------------------------------------------
    def active_rows(self) -> list[Row]:
        return [r for r in self.rows.values() if not r.revoked]

    def stuck(self, row: Row, now: float) -> bool:
        if row.revoked or row.current is None:
            return False
        too_long = now - row.since >= self.settings.stuck_minutes * 60
        return too_long or row.repeat >= max(1, self.settings.same_failure)

    def failing_items(self, limit: int = 8) -> list[tuple[str, str, int]]:
        """(step, item label, participants) failing right now on the step they are on."""
        counts: Counter[tuple[str, str]] = Counter()
        for row in self.active_rows():
            cell = row.cells.get(row.current or "")
            if cell is not None and cell.status == "failing":
                counts.update({(row.current or "", label) for label in cell.failing})
        return [(step, label, n) for (step, label), n in counts.most_common(limit)]

    def histogram(self) -> list[tuple[str, int]]:
        """How many participants are on each step (and finished), in step order."""
        counts = Counter(row.current for row in self.active_rows())
        found = [(step, counts.get(step, 0)) for step in self.step_ids]
        return [*found, ("finished", counts.get(None, 0))]

    def leaderboard(self, *, real_names: bool) -> list[tuple[int, str, int]]:
        """(participant, name or nickname, points), best first."""
        ranked = sorted(self.active_rows(), key=lambda r: (-r.points, r.id))
        return [(r.id, r.name if real_names else nickname(r.id), r.points) for r in ranked]
