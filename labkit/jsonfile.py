"""Small JSON documents kept in the data directory, read forgivingly and written atomically.

:func:`write_json` writes to a temporary file of its own (``mkstemp``: a unique name, readable by
its owner only) beside the target and renames it over the target, so a crash mid-write never
leaves half a document, and two writers at once (a notebook's background thread and ``labkit``
in a terminal share one data directory) never write into the same temporary file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["load_json", "write_json"]


def load_json(path: Path) -> dict[str, Any]:
    """The document at ``path``; an empty one if it is missing, unreadable or not an object."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def write_json(path: Path, document: dict[str, Any], *, indent: int | None = 2) -> None:
    """Replace ``path`` with ``document`` in one rename (the file is private to its owner)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(document, out, indent=indent)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
