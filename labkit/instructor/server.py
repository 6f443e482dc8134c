"""``labkit instructor serve``: open (or reopen) the session in a data directory and serve it.

The session's secrets are kept in ``DATA_DIR/session.json`` (readable by its owner only), so a
restart on the same data directory reopens the same room with the same URLs; the store keeps
only their hashes.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .service import RoomService, new_session
from .store import SqliteStore

__all__ = ["ServeInfo", "open_session", "run"]

DEFAULT_PORT = 4600


@dataclass(frozen=True)
class ServeInfo:
    """What ``serve`` prints: the room's code and URLs, and who can reach them."""

    data_dir: Path
    host: str
    port: int
    code: str
    instructor_url: str
    helper_url: str
    join_url: str
    expires: float
    reopened: bool

    @property
    def exposed(self) -> bool:
        """True when the server listens beyond this machine."""
        return not _is_loopback(self.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secrets_file(data_dir: Path) -> Path:
    return data_dir / "session.json"


def open_session(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    title: str = "labkit workshop",
    hours: float = 12.0,
    new: bool = False,
    public_host: str | None = None,
) -> ServeInfo:
    """Reopen the data directory's session, or create one (``new``, none yet, or expired)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    secrets_file = _secrets_file(data_dir)
    store = SqliteStore(data_dir)
    try:
        record = store.session()
        saved = json.loads(secrets_file.read_text()) if secrets_file.exists() else None
        reopened = bool(
            record
            and saved
            and not new
            and record.expires > time.time()
            and saved["code"] == record.code
        )
        if not reopened:
            if record is not None:
                store.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{store.path}{suffix}").unlink(missing_ok=True)
                store = SqliteStore(data_dir)
            made = new_session(title, hours)
            store.create_session(made.record)
            record = made.record
            saved = {
                "code": record.code,
                "instructor": made.instructor_key,
                "helper": made.helper_key,
            }
            descriptor = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(saved, handle)
    finally:
        store.close()
    assert record is not None and saved is not None
    shown = public_host or (host if host not in ("0.0.0.0", "::") else _this_host())
    base = f"http://{shown}:{port}"
    return ServeInfo(
        data_dir,
        host,
        port,
        record.code,
        f"{base}/room?key={quote(saved['instructor'])}",
        f"{base}/room?key={quote(saved['helper'])}",
        base,
        record.expires,
        reopened,
    )


def _this_host() -> str:
    import socket

    return socket.gethostname()


def run(info: ServeInfo) -> None:
    """Serve the room until interrupted (Ctrl-C); everything is already on disk."""
    import uvicorn

    from .app import create_app

    service = RoomService(info.data_dir)
    try:
        config = uvicorn.Config(
            create_app(service),
            host=info.host,
            port=info.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=75,  # longer than a heartbeat, so connections are reused
        )
        uvicorn.Server(config).run()
    finally:
        service.close()
