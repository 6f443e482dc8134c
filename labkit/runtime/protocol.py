"""The private channel between the runtime and a worker: framed messages over two pipes.

A frame is ``>II`` (header length, body length), a JSON object header, then raw body bytes. The body
carries payloads untouched (an event in, a response out), so they are never re-encoded.

Messages, parent to worker: ``init`` (once, first) then ``invoke`` frames.
Worker to parent: one ``init`` answer, then one ``result`` per ``invoke``.

Besides the frames, the worker ends each phase (init, every invocation) by writing a marker to its
captured output, so the parent knows where one invocation's output stops and the next one's starts.

Imported by the worker subprocess: standard library only.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

_PREFIX = struct.Struct(">II")
MAX_FRAME_BYTES = 64 * 1024 * 1024


class ChannelClosed(EOFError):
    """The other end of the channel went away."""


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    """Serialise one frame."""
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(head), len(body)) + head + body


def output_marker(token: str) -> bytes:
    """The bytes a worker writes to its output to close a phase (at most PIPE_BUF, so atomic)."""
    return b"\x00\x1elabkit-phase-end:" + token.encode() + b"\x1e\x00\n"


class FrameDecoder:
    """Incremental decoder for the parent's non-blocking reads."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_frame(self) -> tuple[dict[str, Any], bytes] | None:
        """The next complete frame, or None while one is still incomplete."""
        if len(self._buf) < _PREFIX.size:
            return None
        head_len, body_len = _PREFIX.unpack_from(self._buf)
        if head_len + body_len > MAX_FRAME_BYTES:
            raise ValueError(f"frame of {head_len + body_len} bytes is too large")
        end = _PREFIX.size + head_len + body_len
        if len(self._buf) < end:
            return None
        header = json.loads(bytes(self._buf[_PREFIX.size : _PREFIX.size + head_len]))
        body = bytes(self._buf[_PREFIX.size + head_len : end])
        del self._buf[:end]
        if not isinstance(header, dict):
            raise ValueError("frame header is not a JSON object")
        return header, body


def _read_exact(fd: int, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            raise ChannelClosed("channel closed")
        chunks += chunk
    return bytes(chunks)


def read_frame(fd: int) -> tuple[dict[str, Any], bytes]:
    """Blocking read of one frame (worker side)."""
    head_len, body_len = _PREFIX.unpack(_read_exact(fd, _PREFIX.size))
    header = json.loads(_read_exact(fd, head_len))
    body = _read_exact(fd, body_len) if body_len else b""
    if not isinstance(header, dict):
        raise ValueError("frame header is not a JSON object")
    return header, body


def write_all(fd: int, data: bytes) -> None:
    """Blocking write of all bytes (worker side)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
