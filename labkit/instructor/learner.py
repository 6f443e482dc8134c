"""The learner's side of a room: joining, recording outcomes, and the background sender.

:class:`Membership` lives in ``DATA_DIR/room/``: ``room.json`` (the server, the code and the
participant token, readable by its owner only), the :class:`~labkit.instructor.outbox.Outbox`,
and ``news.json`` (the last reply: the instructor's message, the step marker, the leaderboard).
Recording appends to the outbox and wakes the :class:`Sender`, a daemon thread that posts
batches with exponential backoff and a heartbeat. Nothing here blocks the notebook, prints, or
raises because the server is slow or gone: a failure only shows in :meth:`Membership.status`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.jsonfile import load_json, write_json

from .outbox import Outbox

if TYPE_CHECKING:
    from labkit.checks.report import Report
    from labkit.lab.scoreboard import RoundResult

__all__ = ["JoinError", "Membership", "Sender", "default_server"]

HEARTBEAT_SECONDS = float(os.environ.get("LABKIT_ROOM_HEARTBEAT") or 15.0)
DEFAULT_SERVER = "http://127.0.0.1:4600"
MAX_BACKOFF_SECONDS = 60.0
EXIT_FLUSH_SECONDS = 2.0
MAX_SHARED_CODE = 16 * 1024  # the server's limit (protocol.Limits.max_code)


def default_server() -> str:
    """``$LABKIT_INSTRUCTOR`` if set, else the instructor server on this machine."""
    return os.environ.get("LABKIT_INSTRUCTOR") or DEFAULT_SERVER


class JoinError(Exception):
    """Joining failed; the message says why and what to do."""


class _Refused(Exception):
    """The server will never take these requests (token revoked, session ended)."""


class _Rejected(Exception):
    """The server refused one batch as malformed (skip it, keep the rest)."""


@dataclass
class SenderStatus:
    last_contact: float = 0.0
    last_error: str = ""
    failures: int = 0
    closed: str = ""  # why the server will not take more (revoked, ended)
    rejected: int = 0


def _post(url: str, body: dict[str, Any], token: str | None, timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("error", error.reason))
    except (ValueError, OSError):
        return str(error.reason)


class Membership:
    """This data directory's membership of a room (inert until :meth:`join`)."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "room"
        self.outbox = Outbox(self.folder)
        self._sender: Sender | None = None
        self._guard = threading.Lock()
        self._exit_flush = False
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    # ----- files ----------------------------------------------------------------------------
    @property
    def _room_file(self) -> Path:
        return self.folder / "room.json"

    @property
    def _news_file(self) -> Path:
        return self.folder / "news.json"

    def room(self) -> dict[str, Any] | None:
        """The joined room (server, code, participant, name), or None."""
        return load_json(self._room_file) or None

    @property
    def joined(self) -> bool:
        return self._room_file.exists()

    def news(self) -> dict[str, Any]:
        return load_json(self._news_file)

    # ----- joining --------------------------------------------------------------------------
    def join(self, code: str, name: str, server: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Exchange the room code for this learner's token (kept in ``room/room.json``)."""
        server = server.rstrip("/")
        current = self.room()
        wanted = code.strip().upper()
        same = current and (current["server"], current["code"], current["name"]) == (
            server,
            wanted,
            name,
        )
        if current and same and not current.get("closed"):
            self.start()
            return current
        try:
            answer = _post(f"{server}/api/join", {"code": wanted, "name": name}, None, timeout)
        except urllib.error.HTTPError as error:
            raise JoinError(f"The room did not let you in: {_error_text(error)}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise JoinError(
                f"Could not reach the instructor's server at {server} ({reason}). "
                "Check the address with your instructor (and that you are on the same network)."
            ) from None
        room = {
            "server": server,
            "code": wanted,
            "name": answer["name"],
            "participant": answer["participant"],
            "token": answer["token"],
            "title": answer.get("title", ""),
            "joined": time.time(),
        }
        write_json(self._room_file, room, indent=None)
        self._news_file.unlink(missing_ok=True)
        self.stop()
        self.start()
        return room

    # ----- recording ------------------------------------------------------------------------
    def record(self, kind: str, step: str, data: dict[str, Any]) -> None:
        """Queue one outcome for the room; does nothing when not in a room. Never raises."""
        if not self.joined:
            return
        try:
            self.outbox.append(kind, step, data)
            self.start().wake()
        except OSError:
            pass  # a full disk must not break the learner's check

    def checked(self, report: Report) -> None:
        items = [{"label": i.label, "status": i.status.value, "code": i.code} for i in report.items]
        self.record("check", report.step, {"passed": report.passed, "items": items})

    def hinted(self, step: str, tier: int) -> None:
        self.record("hint", step, {"tier": tier})

    def solved(self, report: Report) -> None:
        self.record("solve", report.step, {"passed": report.passed})

    def was_reset(self, step: str) -> None:
        self.record("reset", step, {})

    def played(self, result: RoundResult) -> None:
        data = {
            "number": result.number,
            "points": result.points,
            "total": result.total,
            "exact": result.exact,
        }
        self.record("round", "", data)

    def share_source(self, source: str | Path, label: str = "") -> None:
        """Send code to the instructor, only while they ask for it (``news()["code_request"]``)."""
        if not self.joined:
            raise ValueError('You are not in a room; join first with lab.join("ROOM-CODE", ...).')
        if not self.news().get("code_request"):
            raise ValueError("The instructor has not asked for code, so nothing was sent.")
        is_file = isinstance(source, Path) or (
            "\n" not in source and source.endswith(".py") and Path(source).exists()
        )
        text = Path(source).read_text() if is_file else str(source)
        name = label or (Path(source).name if is_file else "code")
        if len(text) > MAX_SHARED_CODE:
            raise ValueError(f"That is {len(text)} characters; share at most {MAX_SHARED_CODE}.")
        self.record("code", "", {"label": name[:80], "text": text})

    # ----- the sender -----------------------------------------------------------------------
    def start(self) -> Sender:
        with self._guard:
            if self._sender is None or not self._sender.is_alive():
                self._sender = Sender(self)
                self._sender.start()
            if not self._exit_flush:  # a `labkit check` in a terminal sends before it exits
                atexit.register(self._flush_at_exit)
                self._exit_flush = True
            return self._sender

    def stop(self) -> None:
        with self._guard:
            if self._sender is not None:
                self._sender.stop()
                if self._sender is not threading.current_thread():
                    self._sender.join(self._sender.timeout)  # let a post in flight finish
                self._sender = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Try to send everything now; True if nothing is left waiting."""
        if not self.joined:
            return True
        return self.start().flush(timeout)

    def sync_now(self) -> bool:
        """One exchange with the server from this thread (for the CLI); True if it answered."""
        if not self.joined:
            return False
        try:
            while Sender(self).sync_once():
                pass
        except Exception:
            return False
        return True

    def _flush_at_exit(self) -> None:
        sender = self._sender
        if sender is not None and sender.is_alive() and self.outbox.count_pending():
            sender.flush(EXIT_FLUSH_SECONDS)

    @property
    def sender_status(self) -> SenderStatus:
        return self._sender.status if self._sender else SenderStatus()

    def status(self) -> dict[str, Any] | None:
        """For ``labkit status`` and the notebook: the room, what is waiting, the news."""
        room = self.room()
        if room is None:
            return None
        sender = self.sender_status
        news = self.news()
        return {
            "server": room["server"],
            "code": room["code"],
            "name": room["name"],
            "participant": room["participant"],
            "waiting": self.outbox.count_pending(),
            "closed": room.get("closed", "") or sender.closed,
            "last_contact": news.get("received", 0.0),
            "last_error": sender.last_error,
            "message": news.get("message"),
            "leaderboard": news.get("leaderboard"),
            "code_request": news.get("code_request", ""),
        }

    def _received(self, news: dict[str, Any]) -> None:
        news["received"] = time.time()
        with contextlib.suppress(OSError):
            write_json(self._news_file, news, indent=None)
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener(news)

    def _closed(self, reason: str) -> None:
        room = self.room()
        if room is not None:
            room["closed"] = reason
            with contextlib.suppress(OSError):
                write_json(self._room_file, room, indent=None)


class Sender(threading.Thread):
    """Posts the outbox in batches; backs off exponentially when the server is slow or gone."""

    def __init__(
        self,
        membership: Membership,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(name="labkit-room-sender", daemon=True)
        self.membership = membership
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.status = SenderStatus()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._idle = threading.Condition()
        self._careful_until = 0  # up to this offset, send one event at a time

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait (up to ``timeout``) until the outbox is empty; True if it is."""
        deadline = time.monotonic() + timeout
        outbox = self.membership.outbox
        while outbox.count_pending() and self.is_alive():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with self._idle:
                self.wake()
                self._idle.wait(min(left, 0.5))  # woken at the end of each round
        return outbox.count_pending() == 0

    def _finished_round(self) -> None:
        with self._idle:
            self._idle.notify_all()

    def sync_once(self) -> bool:
        """Post one batch (or a heartbeat); True if more events are waiting."""
        room = self.membership.room()
        if room is None or room.get("closed"):
            raise _Refused(room.get("closed", "") if room else "not in a room")
        outbox = self.membership.outbox
        events, offset = outbox.pending(1 if outbox.position() < self._careful_until else 100)
        try:
            answer = _post(
                f"{room['server']}/api/sync", {"events": events}, room["token"], self.timeout
            )
        except urllib.error.HTTPError as error:
            message = _error_text(error)
            if error.code in (401, 403):
                raise _Refused(message) from None
            if error.code in (400, 409, 413) and len(events) > 1:
                self._careful_until = offset  # send these one by one: skip only the bad one
                raise _Rejected(message) from None
            if error.code in (400, 409, 413):
                outbox.acknowledge(offset)  # never sendable (it stays in the file): skip it
                self.status.rejected += len(events)
                raise _Rejected(message) from None
            raise
        outbox.acknowledge(offset)
        self.membership._received(answer)
        self.status.last_contact = time.time()
        return len(events) > 0 and outbox.count_pending() > 0

    def run(self) -> None:
        failures = 0
        while not self._halt.is_set():
            wait = self.heartbeat
            try:
                more = self.sync_once()
                failures, self.status.failures, self.status.last_error = 0, 0, ""
                self._finished_round()
                wait = 0.0 if more else self.heartbeat
            except _Refused as refusal:
                self.status.closed = str(refusal)
                self.membership._closed(str(refusal))
                self._finished_round()
                return
            except _Rejected as rejection:
                self.status.last_error = f"the server refused some events: {rejection}"
                wait = 0.0
            except Exception as error:  # the network, the server: keep the events, retry later
                failures += 1
                self.status.failures = failures
                self.status.last_error = f"{type(error).__name__}: {error}"[:300]
                backoff = min(self.max_backoff, 2 ** min(failures, 10))
                wait = backoff * random.uniform(0.5, 1.0)
                self._finished_round()
                self._halt.wait(wait)  # a new event does not cut a backoff short
                continue
            if wait and self._wake.wait(wait):
                self._wake.clear()
