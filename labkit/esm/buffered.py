"""A record that has been read and is waiting in a lane for its batch."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.esm.ports import SourceRecord


@dataclass(frozen=True)
class Buffered:
    """A source record with its serialised event (its payload fragment) and read time."""

    record: SourceRecord
    fragment: bytes
    read_at: float

    @property
    def sequence_number(self) -> str:
        """The record's sequence number."""
        return self.record.sequence_number

    @property
    def arrival(self) -> float:
        """The record's approximate arrival time (epoch seconds)."""
        return self.record.approximate_arrival
