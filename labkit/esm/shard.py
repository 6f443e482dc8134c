"""The poller of one shard: reads records, filters them, hands them to lanes, checkpoints.

The reader thread never keeps an iterator: each read asks the source for records strictly
after the last sequence number read (or from the starting position). It reads up to 1,000
records per call and keeps reading while full reads come back, so lanes can fill big batches;
it stops reading ahead once enough records wait in its lanes. When idle it waits for a wake-up
(a write to the stream) or the poll interval, whichever comes first.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Sequence
from typing import Protocol

from labkit.esm.buffered import Buffered
from labkit.esm.config import MappingConfig
from labkit.esm.filters import RecordFilter
from labkit.esm.history import InvocationRecord
from labkit.esm.lane import Lane
from labkit.esm.payload import dumps
from labkit.esm.ports import (
    DestinationSender,
    Invoker,
    SourceKind,
    SourceRecord,
    StartPosition,
    StreamSource,
)
from labkit.esm.processor import Completion
from labkit.esm.signal import Signal
from labkit.esm.timing import Timing
from labkit.esm.tracker import CheckpointTracker

log = logging.getLogger("labkit.esm")

MAX_RECORDS_PER_READ = 1000
#: While records trickle in, the reader reads at most this often: a record written right after a
#: quiet spell is read at once, the ones that follow a few milliseconds later, together (one read
#: and one hand-over per record made a burst of writes cost the cloud far more).
READ_COALESCE_S = 0.01
DEFAULT_RETENTION_SECONDS = 24 * 60 * 60.0


class ShardOwner(Protocol):
    """What a shard poller reports to (its mapping)."""

    def checkpoint(self, shard_id: str) -> str | None: ...

    def set_checkpoint(self, shard_id: str, sequence_number: str) -> None: ...

    def shard_closed(self, shard_id: str) -> bool: ...

    def shard_finished(self, shard_id: str) -> None: ...

    def count(self, name: str, amount: int = 1) -> None: ...

    def observe(self, entry: InvocationRecord) -> None: ...

    def set_paused(self, paused: bool) -> None: ...

    def begin_batch(self) -> None: ...

    def end_batch(self) -> None: ...

    def source_error(self, shard_id: str, error: BaseException | None) -> None: ...


def lane_of(ordering_key: str, lanes: int) -> int:
    """A stable lane index for an ordering key (the same in every process)."""
    if lanes <= 1:
        return 0
    return zlib.crc32(ordering_key.encode()) % lanes


class ShardPoller:
    """Reads one shard for one mapping; hosts the lanes that process its records."""

    def __init__(
        self,
        owner: ShardOwner,
        *,
        shard_id: str,
        config: MappingConfig,
        source: StreamSource,
        invoker: Invoker,
        destinations: DestinationSender,
        timing: Timing,
        stop: threading.Event,
    ) -> None:
        self.shard_id = shard_id
        self.config = config
        self.source = source
        self.source_arn = source.arn
        self.kind: SourceKind = source.kind
        self.invoker = invoker
        self.destinations = destinations
        self.timing = timing
        self.retention_seconds = float(
            getattr(source, "retention_seconds", DEFAULT_RETENTION_SECONDS)
        )
        self.signal = Signal()
        """Wakes the reader: a write to the stream, a stop, room freed in the lanes."""
        self.lane_signal = Signal()
        """Wakes the lanes: records pushed, the shard drained, a stop."""
        self._owner = owner
        self._needs_room = False
        self._stop = stop
        self._halt = threading.Event()
        self._filter = RecordFilter(config.filter_patterns)
        self._burst = False
        self._draining = False
        self._caught_up_as_of: float | None = None
        self._last_arrival: float | None = None
        self._tracker = CheckpointTracker(owner.checkpoint(shard_id))
        self._lanes = [Lane(index, self) for index in range(config.parallelization_factor)]
        self.thread = threading.Thread(
            target=self._run, name=f"esm-{config.uuid[:8]}-{shard_id[-12:]}", daemon=True
        )
        self._lane_threads: list[threading.Thread] = []

    # -- LaneHost ------------------------------------------------------------------------
    @property
    def burst_in_progress(self) -> bool:
        """True while the last read came back full (more records are probably waiting)."""
        return self._burst

    @property
    def draining(self) -> bool:
        """True once the shard is closed and everything in it has been read."""
        return self._draining

    @property
    def caught_up_as_of(self) -> float | None:
        """Clock time at which the latest read that reached the end of the shard started."""
        return self._caught_up_as_of

    def stopped(self) -> bool:
        """True when this poller (or its mapping's generation) must stop."""
        return self._stop.is_set() or self._halt.is_set()

    def pause_wait(self) -> None:
        """Wait while the function is throttled to 0 (woken by notify or the poll interval)."""
        self.lane_signal.wait(self.lane_signal.token(), self.timing.poll_interval)

    def set_paused(self, paused: bool) -> None:
        """Report whether the function's reserved concurrency is 0."""
        self._owner.set_paused(paused)

    def complete(self, records: Sequence[Buffered], how: Completion) -> None:
        """Records are processed or discarded: move the checkpoint if it can move."""
        if not records:
            return
        self._owner.count("records_" + how, len(records))
        self._advance([item.sequence_number for item in records])

    def observe(self, entry: InvocationRecord) -> None:
        """Pass an invocation record to the mapping."""
        self._owner.observe(entry)

    def begin_batch(self) -> None:
        """A batch is in flight."""
        self._owner.begin_batch()

    def end_batch(self) -> None:
        """A batch is no longer in flight."""
        self._owner.end_batch()
        if self._needs_room or self._draining:
            self.signal.fire()

    def iterator_age_ms(self) -> float:
        """Like CloudWatch IteratorAge: how old the last record read is; 0 once it is done."""
        if self._last_arrival is None or not self._tracker.pending:
            return 0.0
        return max(self.timing.clock() - self._last_arrival, 0.0) * 1000.0

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the reader thread (which starts the lane threads)."""
        self.thread.start()

    def wake(self) -> None:
        """Wake the reader and the lanes now."""
        self.signal.fire()
        self.lane_signal.fire()

    def records_arrived(self) -> None:
        """New records: wake the reader (it wakes the lanes once it has handed them records)."""
        self.signal.fire()

    def halt(self) -> None:
        """Stop this poller only (its shard disappeared)."""
        self._halt.set()
        self.wake()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the reader and lane threads to exit."""
        if self.thread.ident is not None:  # started
            self.thread.join(timeout)

    # -- the reader thread -----------------------------------------------------------------
    def _advance(self, sequence_numbers: Sequence[str]) -> None:
        checkpoint = self._tracker.complete(sequence_numbers)
        if checkpoint is not None:
            self._owner.set_checkpoint(self.shard_id, checkpoint)

    def _start_position(self) -> tuple[StartPosition, float | None]:
        if self.config.starting_position == "AT_TIMESTAMP":
            return "AT_TIMESTAMP", self.config.starting_position_timestamp
        # LATEST was resolved into checkpoints when the mapping was added: a shard without a
        # checkpoint was empty then, or appeared later, so it is read from its beginning.
        return "TRIM_HORIZON", None

    def _run(self) -> None:
        for lane in self._lanes:
            thread = threading.Thread(
                target=lane.run, name=f"{self.thread.name}-lane{lane.index}", daemon=True
            )
            self._lane_threads.append(thread)
            thread.start()
        finished = False
        try:
            finished = self._read_loop()
        finally:
            self._halt.set()
            self.wake()
            for thread in self._lane_threads:
                thread.join()
        if finished:
            self._owner.shard_finished(self.shard_id)

    def _read_loop(self) -> bool:
        cursor = self._tracker.checkpoint
        config = self.config
        ahead_limit = max(config.batch_size * config.parallelization_factor, MAX_RECORDS_PER_READ)
        last_read = float("-inf")
        while not self.stopped():
            token = self.signal.token()
            self._needs_room = True  # before looking, so a lane finishing now wakes us
            pending = self._tracker.pending
            if pending < ahead_limit:
                self._needs_room = False
                too_soon = last_read + READ_COALESCE_S - time.monotonic()
                if too_soon > 0 and not self._burst and self._halt.wait(too_soon):
                    break
                last_read = time.monotonic()
                limit = min(MAX_RECORDS_PER_READ, ahead_limit - pending)
                try:
                    cursor, done = self._read_once(cursor, limit)
                except Exception as exc:
                    log.warning("reading %s %s failed: %r", self.source_arn, self.shard_id, exc)
                    self._owner.source_error(self.shard_id, exc)
                    self._burst = False
                    done = False
                if done:
                    return True
                if self._burst:
                    continue
            elif self._burst:
                self._burst = False  # read far enough ahead: lanes go with what they have
                self.lane_signal.fire()
            self.signal.wait(token, self.timing.poll_interval)
        return False

    def _read_once(self, cursor: str | None, limit: int) -> tuple[str | None, bool]:
        """One read; returns the new cursor and whether the shard is finished."""
        closed = self._owner.shard_closed(self.shard_id)
        started = self.timing.clock()
        position, timestamp = self._start_position()
        latest_before = None
        if cursor is None and position == "AT_TIMESTAMP":
            latest_before = self.source.latest_sequence_number(self.shard_id)
        records = self.source.read(
            self.shard_id, after=cursor, position=position, timestamp=timestamp, limit=limit
        )
        self._owner.source_error(self.shard_id, None)
        if records:
            self._dispatch(records, started)
            self._burst = len(records) >= limit
            return records[-1].sequence_number, False
        self._burst = False
        self._caught_up_as_of = started
        if any(lane.has_open_window for lane in self._lanes):
            self.lane_signal.fire()  # an open tumbling window may have just ended
        if latest_before is not None:
            # Everything up to here arrived before the starting timestamp: nothing to do.
            self._owner.set_checkpoint(self.shard_id, latest_before)
            self._tracker = CheckpointTracker(latest_before)
            cursor = latest_before
        if closed:
            if not self._draining:
                self._draining = True
                self.lane_signal.fire()
            busy = any(lane.buffered or lane.has_open_window for lane in self._lanes)
            if self._tracker.pending == 0 and not busy:
                return cursor, True
        return cursor, False

    def _dispatch(self, records: Sequence[SourceRecord], read_at: float) -> None:
        lanes = len(self._lanes)
        per_lane: dict[int, list[Buffered]] = {}
        skipped: list[str] = []
        for record in records:  # everything that can fail happens before any bookkeeping
            if self._filter.active and not self._filter.matches(record.filter_view):
                skipped.append(record.sequence_number)
                continue
            item = Buffered(record=record, fragment=dumps(record.event), read_at=read_at)
            per_lane.setdefault(lane_of(record.ordering_key, lanes), []).append(item)
        self._tracker.add(record.sequence_number for record in records)
        for index, items in per_lane.items():
            self._lanes[index].push(items)
        self._last_arrival = records[-1].approximate_arrival
        if skipped:
            self._owner.count("records_filtered", len(skipped))
            self._advance(skipped)
        self.lane_signal.fire()
