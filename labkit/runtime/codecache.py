"""Unpack each code package once, safely, into ``<work_dir>/code/<sha>/``."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from labkit.runtime.errors import InvalidZipFile

# Lambda's limit on the unzipped size of a function's code.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def code_dirname(code_sha256: str) -> str:
    """A directory name for a code identity. Lambda's CodeSha256 is base64 (``+``, ``/``, ``=``),
    so it is made URL-safe; anything else unusable as a name is hashed."""
    name = code_sha256.replace("+", "-").replace("/", "_").rstrip("=")
    if _SAFE_NAME.match(name):
        return name
    return "h-" + hashlib.sha256(code_sha256.encode()).hexdigest()


def _check_member(info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path inside the code directory; ``InvalidZipFile`` if it would escape it."""
    name = info.filename
    parts = [part for part in re.split(r"[\\/]", name) if part not in ("", ".")]
    if (
        "\x00" in name
        or name.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", name)
        or ".." in parts
    ):
        raise InvalidZipFile(f"zip entry {name!r} points outside the code directory")
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def extract_zip(data: bytes, dest: Path, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> None:
    """Unpack ``data`` into the existing empty directory ``dest``, refusing unsafe entries."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidZipFile(f"the code package is not a valid zip file: {exc}") from None
    root = dest.resolve()
    with archive:
        members = archive.infolist()
        total = sum(info.file_size for info in members)
        if total > max_bytes:
            raise InvalidZipFile(
                f"the unzipped code is {total} bytes, more than the limit of {max_bytes} bytes"
            )
        for info in members:
            relative = _check_member(info)
            target = (root / relative).resolve()
            if target != root and root not in target.parents:
                raise InvalidZipFile(
                    f"zip entry {info.filename!r} points outside the code directory"
                )
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, 1024 * 1024)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InvalidZipFile(f"cannot unzip {info.filename!r}: {exc}") from None
            mode = (info.external_attr >> 16) & 0o777
            if mode & stat.S_IXUSR:
                target.chmod(0o755)


def validate_zip(data: bytes, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> None:
    """Check a code package without unpacking it (for CreateFunction / UpdateFunctionCode)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidZipFile(f"the code package is not a valid zip file: {exc}") from None
    with archive:
        members = archive.infolist()
        for info in members:
            _check_member(info)
        total = sum(info.file_size for info in members)
        if total > max_bytes:
            raise InvalidZipFile(
                f"the unzipped code is {total} bytes, more than the limit of {max_bytes} bytes"
            )


class CodeCache:
    """Code directories by code identity. Unpacks once per identity, also across threads."""

    def __init__(self, root: Path, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> None:
        self.root = root
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def path_for(self, code_sha256: str) -> Path:
        return self.root / code_dirname(code_sha256)

    def ensure(self, code_sha256: str, code: Callable[[], bytes] | bytes) -> Path:
        """The unpacked directory for ``code_sha256``; ``code`` is read only if it is new."""
        final = self.path_for(code_sha256)
        if final.is_dir():
            return final
        with self._lock:
            lock = self._locks.setdefault(final.name, threading.Lock())
        with lock:
            if final.is_dir():
                return final
            try:
                data = code() if callable(code) else code
            except InvalidZipFile:
                raise
            except Exception as exc:
                raise InvalidZipFile(f"cannot load the code package: {exc}") from exc
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=self.root))
            try:
                extract_zip(data, staging, max_bytes=self._max_bytes)
                os.chmod(staging, 0o755)
                os.rename(staging, final)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                if not final.is_dir():
                    raise
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return final

    def discard(self, code_sha256: str) -> None:
        """Remove an unpacked directory no worker uses any more."""
        shutil.rmtree(self.path_for(code_sha256), ignore_errors=True)
