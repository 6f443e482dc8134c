"""The learner's credentials of one data directory, and the keys derived from them.

Each data directory gets random credentials the first time it is used; they live in a file only
its owner can read, inside a directory only its owner can enter. The cloud of that directory
lets in requests signed with them (as its administrator) and with the temporary credentials it
derives from them for each function role; nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

CREDENTIALS_FILE = "credentials.json"
PORT_FILE = "cloud.port"
#: Learner keys look like AWS access keys (20 characters) but can never be a real one.
LEARNER_KEY_PREFIX = "LKIA"
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class CredentialsError(RuntimeError):
    """The data directory's credentials cannot be read or written; the message says why."""


@dataclass(frozen=True)
class Credentials:
    """An access key, its secret, and (for temporary credentials) a session token."""

    access_key: str
    secret_key: str
    session_token: str | None = None


def private_dir(data_dir: Path) -> Path:
    """Create ``data_dir`` (0700) or make an existing one private; returns it resolved."""
    data_dir = data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stat.S_IMODE(data_dir.stat().st_mode) != 0o700:
            data_dir.chmod(0o700)
    except OSError as error:
        raise CredentialsError(
            f"Cannot make the data directory {data_dir} private to you ({error.strerror}). "
            "Use a directory of your own with --data-dir or LABKIT_DATA_DIR."
        ) from None
    return data_dir


def _new_credentials() -> Credentials:
    key = LEARNER_KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return Credentials(key, secrets.token_urlsafe(30))


def learner_credentials(data_dir: Path) -> Credentials:
    """The data directory's learner credentials, created (owner-only) on first use."""
    directory = private_dir(data_dir)
    path = directory / CREDENTIALS_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    fresh = _new_credentials()
    document = json.dumps(
        {"aws_access_key_id": fresh.access_key, "aws_secret_access_key": fresh.secret_key}
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created them first: use theirs
        return _read(path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(document)
    return fresh


def _read(path: Path) -> Credentials:
    try:
        document = json.loads(path.read_text())
        return Credentials(
            str(document["aws_access_key_id"]), str(document["aws_secret_access_key"])
        )
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CredentialsError(
            f"The local cloud's credentials in {path} cannot be read ({error}). Delete that "
            "file and start the cloud again to get new ones."
        ) from None


def remembered_port(data_dir: Path) -> int | None:
    """The port this data directory's cloud last had to move to, if any."""
    try:
        return int((data_dir / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def remember_port(data_dir: Path, port: int) -> None:
    (data_dir / PORT_FILE).write_text(f"{port}\n")


def derive(secret: str, *parts: str) -> str:
    """A value only the holder of ``secret`` can compute from ``parts`` (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), "|".join(parts).encode(), hashlib.sha256).hexdigest()


def role_credentials(secret: str, role_arn: str, session: str) -> Credentials:
    """The temporary credentials a function of ``role_arn`` runs with (stable across restarts,
    unguessable without the data directory's secret)."""
    key = "ASIA" + derive(secret, "key", role_arn, session)[:16].upper()
    return Credentials(
        key,
        derive(secret, "secret", role_arn, session)[:40],
        "labkit-session-" + derive(secret, "token", role_arn, session),
    )
