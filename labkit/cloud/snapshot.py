"""Persistence of the local cloud: everything moto holds, plus labkit's own state.

While requests change things, a snapshot is written at most once a second, so a ``kill -9``
loses about a second of writes. A large cloud takes longer to write, so the pause between
snapshots grows with the time the last one took: writing never takes more than about a tenth
of the time, and the cloud keeps its CPU for serving requests. Where the platform can fork, the
snapshot is written by a forked child from a copy-on-write image taken under the moto lock:
the cloud pauses for the fork only, not for pickling a large table. ``labkit down`` writes a
final snapshot.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .mutex import MOTO_LOCK

log = logging.getLogger("labkit.cloud.snapshot")

SERVICES = (
    "dynamodb",
    "dynamodbstreams",
    "kinesis",
    "iam",
    "lambda",
    "sqs",
    "sns",
    "s3",
    "logs",
    "events",
    "sts",
)
SNAPSHOT_NAME = "cloud.pickle"
#: The pause after a snapshot is at least this many times as long as writing it took.
PAUSE_PER_SECOND_WRITING = 9.0
FORMAT_VERSION = 1


def _live_backends() -> dict[tuple[str, str, str], Any]:
    from moto.backends import get_backend

    found: dict[tuple[str, str, str], Any] = {}
    for service in SERVICES:
        for account, regions in dict.items(get_backend(service)):  # type: ignore[call-overload]
            for region, backend in dict.items(regions):
                found[(service, account, region)] = backend
    return found


def _install_backends(saved: dict[tuple[str, str, str], Any]) -> None:
    from moto.backends import get_backend

    for (service, account, region), backend in saved.items():
        dict.__setitem__(get_backend(service)[account], region, backend)  # type: ignore[index]


class Snapshotter:
    """Writes and restores snapshots in ``state_dir``.

    ``extras`` returns labkit's own picklable state (token store, mappings); it runs in the
    parent, outside the moto lock. ``restore_extras`` receives it back at start-up.
    """

    def __init__(
        self,
        state_dir: Path,
        extras: Callable[[], dict[str, Any]],
        *,
        interval: float = 1.0,
    ) -> None:
        self.state_dir = state_dir
        self.extras = extras
        self.interval = interval
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()
        self._saving = False
        self.saves = 0
        self.last_save_seconds = 0.0

    @property
    def path(self) -> Path:
        return self.state_dir / SNAPSHOT_NAME

    def mark_dirty(self) -> None:
        self._dirty.set()

    @property
    def clean(self) -> bool:
        """True when every change so far is in the snapshot file."""
        return not self._dirty.is_set() and not self._saving

    def restore(self) -> dict[str, Any]:
        """Load the last snapshot into moto; return the saved extras ({} if none)."""
        if not self.path.exists():
            return {}
        try:
            with self.path.open("rb") as handle:
                document = pickle.load(handle)
            if document.get("format") != FORMAT_VERSION:
                raise ValueError(f"snapshot format {document.get('format')} is not supported")
        except Exception:
            broken = self.path.with_suffix(f".broken-{int(time.time())}")
            os.replace(self.path, broken)
            log.exception("could not read the snapshot; kept it as %s and started empty", broken)
            return {}
        with MOTO_LOCK:
            _install_backends(document["backends"])
        extras: dict[str, Any] = pickle.loads(document["extras"])
        return extras

    def save(self, *, fork: bool = True) -> None:
        """Write a snapshot now (forking when possible)."""
        with self._write_lock:
            self._saving = True
            started = time.monotonic()
            try:
                self._dirty.clear()
                extras = pickle.dumps(self.extras())
                if fork and hasattr(os, "fork"):
                    self._save_in_child(extras)
                else:
                    with MOTO_LOCK:
                        data = self._document(extras)
                    self._write(data)
                self.saves += 1
            finally:
                self._saving = False
                self.last_save_seconds = time.monotonic() - started

    def _document(self, extras: bytes) -> bytes:
        return pickle.dumps(
            {"format": FORMAT_VERSION, "backends": _live_backends(), "extras": extras},
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    def _write(self, data: bytes) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".tmp-{os.getpid()}")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def _save_in_child(self, extras: bytes) -> None:
        with MOTO_LOCK:
            pid = os.fork()
            if pid == 0:  # the child: write and leave at once, touching nothing else
                code = 0
                try:
                    os.nice(10)  # yield the CPU to the cloud serving requests
                    self._write(self._document(extras))
                except BaseException:
                    code = 1
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            log.error("the snapshot child failed (status %s); writing in-process instead", status)
            with MOTO_LOCK:
                data = self._document(extras)
            self._write(data)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="labkit-snapshot", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._dirty.wait(timeout=0.5) and not self._stop.is_set():
                try:
                    self.save()
                except Exception:
                    log.exception("snapshot failed")
                self._stop.wait(self.pause())

    def pause(self) -> float:
        """Seconds to wait after a snapshot before the next one."""
        return max(self.interval, self.last_save_seconds * PAUSE_PER_SECOND_WRITING)

    def stop(self) -> None:
        """Stop the background writer and write a final snapshot in-process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.save(fork=False)
