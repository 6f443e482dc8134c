"""Deployment packages: deterministic zips, so the same sources always give the same CodeSha256.

Every entry gets the same timestamp (1980-01-01, the earliest a zip can hold), the same
permissions and the same compression, and entries are written in sorted order. Lambda
reports ``CodeSha256`` as the base64 SHA-256 of the zip, so an unchanged function has an
unchanged hash and the planner can skip its code update.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
#: A regular file, readable by everyone, as ``zip -X`` on Linux would store it.
FILE_MODE = 0o100644
COMPRESS_LEVEL = 9


def deterministic_zip(files: Mapping[str, str | bytes]) -> bytes:
    """A zip of ``files`` (archive name -> text or bytes) that depends only on its contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            content = files[name]
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode bits above are honoured everywhere
            archive.writestr(info, data, compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def code_sha256(zip_bytes: bytes) -> str:
    """The ``CodeSha256`` Lambda reports for a package: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode("ascii")


def read_sources(sources: Mapping[str, Path]) -> dict[str, bytes]:
    """Read files for a package: archive name -> path on disk."""
    return {name: path.read_bytes() for name, path in sources.items()}


@dataclass(frozen=True)
class Package:
    """A built deployment package: a label for people and the zip for Lambda."""

    label: str
    zip_bytes: bytes = field(repr=False)
    names: tuple[str, ...] = ()

    @classmethod
    def build(cls, label: str, files: Mapping[str, str | bytes]) -> Package:
        return cls(label, deterministic_zip(files), tuple(sorted(files)))

    @property
    def sha256(self) -> str:
        return code_sha256(self.zip_bytes)

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    def describe(self) -> str:
        """``state_lambda:starter (2 files, 3.1 KB, sha256 AbC…)``."""
        return (
            f"{self.label} ({len(self.names)} files, {self.size / 1024:.1f} KB, "
            f"sha256 {self.sha256[:10]}…)"
        )
