"""Turn a worker's raw output into log lines for one phase (init or one invocation).

The worker's fd 1 and fd 2 feed a single pipe. The worker ends each phase with a marker; bytes
before it belong to the phase, bytes after it to the next one. Output is bounded per phase: past
the limit, bytes are read and dropped and a note says how much was lost.
"""

from __future__ import annotations

from collections.abc import Callable

from labkit.runtime.spec import LogLine

DEFAULT_OUTPUT_LIMIT = 1024 * 1024
# CloudWatch Logs caps an event at 256 KiB including 26 bytes of overhead.
MAX_EVENT_BYTES = 256 * 1024 - 26


def decode_line(raw: bytes) -> str:
    """Bytes of one line to its message. A CR inside a line marks a multi-line log record."""
    text = raw.decode("utf-8", "replace")
    if text.endswith("\r"):
        text = text[:-1]
    return text.replace("\r", "\n")


class OutputCollector:
    """Collect one phase's output until the marker, splitting it into timestamped lines."""

    def __init__(
        self,
        marker: bytes,
        clock: Callable[[], float],
        *,
        limit: int = DEFAULT_OUTPUT_LIMIT,
        initial: bytes = b"",
    ) -> None:
        self._marker = marker
        self._clock = clock
        self._limit = limit
        self._scan = bytearray()
        self._partial = bytearray()
        self._kept = 0
        self._dropped = 0
        self.lines: list[LogLine] = []
        self.complete = False
        self.rest = b""
        if initial:
            self.feed(initial)

    @property
    def dropped_bytes(self) -> int:
        return self._dropped

    def feed(self, data: bytes) -> bool:
        """Add bytes read from the pipe; True once the phase's marker has been seen."""
        if self.complete:
            self.rest += data
            return True
        self._scan += data
        found = self._scan.find(self._marker)
        if found >= 0:
            self._take(bytes(self._scan[:found]))
            self.rest = bytes(self._scan[found + len(self._marker) :])
            self._scan.clear()
            self.complete = True
            return True
        # Keep a tail that could be the start of a marker split across two reads.
        keep = len(self._marker) - 1
        if len(self._scan) > keep:
            cut = len(self._scan) - keep
            self._take(bytes(self._scan[:cut]))
            del self._scan[:cut]
        return False

    def finish(self) -> list[LogLine]:
        """End the phase (marker seen, or the worker died or timed out) and return its lines."""
        if self._scan:
            self._take(bytes(self._scan))
            self._scan.clear()
        if self._partial:
            self._emit(bytes(self._partial))
            self._partial.clear()
        if self._dropped:
            self._emit(
                f"[labkit] output truncated: this invocation wrote more than {self._limit} "
                f"bytes; {self._dropped} bytes were dropped".encode()
            )
            self._dropped = 0
        return self.lines

    def _take(self, data: bytes) -> None:
        if not data:
            return
        room = self._limit - self._kept
        if room <= 0:
            self._dropped += len(data)
            return
        if len(data) > room:
            self._dropped += len(data) - room
            data = data[:room]
        self._kept += len(data)
        self._partial += data
        start = 0
        while True:
            newline = self._partial.find(b"\n", start)
            if newline < 0:
                break
            self._emit(bytes(self._partial[start:newline]))
            start = newline + 1
        if start:
            del self._partial[:start]
        while len(self._partial) > MAX_EVENT_BYTES:
            self._emit(bytes(self._partial[:MAX_EVENT_BYTES]))
            del self._partial[:MAX_EVENT_BYTES]

    def _emit(self, raw: bytes) -> None:
        """Add one line, split into several if it is longer than a CloudWatch event."""
        stamp = int(self._clock() * 1000)
        for offset in range(0, max(len(raw), 1), MAX_EVENT_BYTES):
            self.lines.append(LogLine(stamp, decode_line(raw[offset : offset + MAX_EVENT_BYTES])))
