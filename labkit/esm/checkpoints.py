"""Checkpoint stores: where each mapping's per-shard progress survives a restart."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path


class MemoryCheckpointStore:
    """Keeps checkpoints in memory (tests, throwaway clouds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, str]] = {}

    def load(self, mapping_uuid: str) -> dict[str, str]:
        """The saved checkpoints of a mapping (empty when there are none)."""
        with self._lock:
            return dict(self._data.get(mapping_uuid, {}))

    def save(self, mapping_uuid: str, checkpoints: Mapping[str, str]) -> None:
        """Replace a mapping's checkpoints."""
        with self._lock:
            self._data[mapping_uuid] = dict(checkpoints)

    def forget(self, mapping_uuid: str) -> None:
        """Drop a deleted mapping's checkpoints."""
        with self._lock:
            self._data.pop(mapping_uuid, None)


class JsonFileCheckpointStore:
    """Keeps every mapping's checkpoints in one JSON file, replaced atomically on each save.

    The file holds ``{mapping_uuid: {shard_id: sequence_number}}``. A save writes a temporary
    file in the same directory and renames it over the old one with ``os.replace``, so a crash
    of the process leaves either the old or the new content, never a torn file. (No fsync: a
    save happens after every batch, and surviving a power cut is not worth its latency.)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data = self._read()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            raw = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(raw, dict):
            return {}
        return {
            str(uuid): {str(shard): str(seq) for shard, seq in shards.items()}
            for uuid, shards in raw.items()
            if isinstance(shards, dict)
        }

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self._data, stream, indent=1, sort_keys=True)
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def load(self, mapping_uuid: str) -> dict[str, str]:
        """The saved checkpoints of a mapping, as last written to the file."""
        with self._lock:
            self._data = self._read()
            return dict(self._data.get(mapping_uuid, {}))

    def save(self, mapping_uuid: str, checkpoints: Mapping[str, str]) -> None:
        """Replace a mapping's checkpoints and rewrite the file."""
        with self._lock:
            self._data[mapping_uuid] = dict(checkpoints)
            self._write()

    def forget(self, mapping_uuid: str) -> None:
        """Drop a deleted mapping's checkpoints."""
        with self._lock:
            if self._data.pop(mapping_uuid, None) is not None:
                self._write()
