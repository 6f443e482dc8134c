"""Where the local cloud lives: default port, data directory, account and region."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 4599
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
HOST = "127.0.0.1"
#: The learner's credentials are random, one set per data directory: see ``auth_keys``.


def default_data_dir() -> Path:
    """``$LABKIT_DATA_DIR`` if set, else ``~/.labkit``."""
    configured = os.environ.get("LABKIT_DATA_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".labkit"


def default_port() -> int:
    """``$LABKIT_PORT`` if set, else 4599."""
    configured = os.environ.get("LABKIT_PORT")
    return int(configured) if configured else DEFAULT_PORT


@dataclass(frozen=True)
class CloudPaths:
    """The files the local cloud keeps in its data directory."""

    data_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "cloud.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "cloud.log"

    @property
    def info_file(self) -> Path:
        """JSON with the endpoint and pid of the running cloud."""
        return self.data_dir / "cloud.json"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def runtime_dir(self) -> Path:
        return self.data_dir / "runtime"


def endpoint_for(port: int) -> str:
    return f"http://{HOST}:{port}"
