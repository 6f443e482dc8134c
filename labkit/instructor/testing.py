"""A real instructor server for tests and benchmarks: ``labkit instructor serve`` on a free port.

``with room_server(tmp_path) as room:`` starts it as a separate process (uvicorn, SQLite in
``tmp_path``), waits until it answers, and stops it at the end. ``room.restart()`` stops and
starts it on the same data directory, as an instructor would after closing the laptop.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RunningRoom", "room_server"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningRoom:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _secrets(self) -> dict[str, str]:
        found: dict[str, str] = json.loads((self.data_dir / "session.json").read_text())
        return found

    @property
    def code(self) -> str:
        return self._secrets()["code"]

    @property
    def instructor_key(self) -> str:
        return self._secrets()["instructor"]

    @property
    def helper_key(self) -> str:
        return self._secrets()["helper"]

    def page_url(self, role: str = "instructor") -> str:
        key = self.instructor_key if role == "instructor" else self.helper_key
        return f"{self.url}/room?key={key}"

    def start(self, timeout: float = 30.0) -> None:
        command = [
            sys.executable, "-m", "labkit.cli", "instructor", "serve",
            "--port", str(self.port), "--data-dir", str(self.data_dir), *self.extra,
        ]  # fmt: skip
        log = open(self.data_dir.parent / f"{self.data_dir.name}-server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The instructor server exited ({self.process.returncode}).")
            health = f"{self.url}/api/health"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"The instructor server did not answer within {timeout} s.")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    # ----- small HTTP helpers ---------------------------------------------------------------
    def request(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        key: str | None = None,
        raw: bytes | None = None,
        method: str | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text) of one request; never raises on 4xx/5xx."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if key:
            request.add_header("X-Labkit-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def join(self, name: str) -> dict[str, Any]:
        status, answer = self.request("/api/join", {"code": self.code, "name": name})
        assert status == 200, answer
        found: dict[str, Any] = answer
        return found

    def admin(self, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        return self.request(f"/api/admin/{action}", body, key=self.instructor_key)


@contextlib.contextmanager
def room_server(data_dir: Path, *extra: str) -> Iterator[RunningRoom]:
    """An instructor server on a free loopback port for the duration of the block."""
    data_dir.mkdir(parents=True, exist_ok=True)
    room = RunningRoom(data_dir, _free_port(), extra=extra)
    room.start()
    try:
        yield room
    finally:
        room.stop()
