"""One event source mapping at run time: its shard pollers, checkpoints and statistics.

Pollers run in *generations*. Enabling a mapping or changing its settings stops the current
generation and starts a new one from the saved checkpoints; the new generation waits for the
old one's threads (an invocation in flight finishes and is checkpointed) before it reads, so
no record is processed twice by two generations at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from labkit.esm.config import NO_RECORDS, RESULT_OK, RESULT_PROBLEM, MappingConfig, MappingState
from labkit.esm.history import History, InvocationRecord
from labkit.esm.ports import CheckpointStore, DestinationSender, Invoker, ShardInfo, StreamSource
from labkit.esm.shard import ShardPoller
from labkit.esm.signal import Signal
from labkit.esm.timing import Timing

log = logging.getLogger("labkit.esm")

#: A supervisor woken by new records lists the shards again at most this often.
RELIST_AFTER_RECORDS_S = 0.1

COUNTERS = (
    "records_processed",
    "records_discarded",
    "records_filtered",
    "invocations",
    "invocation_errors",
    "partial_failures",
    "throttles",
    "discarded_batches",
)


class Generation:
    """A supervisor thread that discovers shards and runs one poller per shard."""

    def __init__(self, runner: MappingRunner, previous: Generation | None) -> None:
        self.config = runner.config
        self.stop_event = threading.Event()
        self.signal = Signal()
        self._runner = runner
        self._previous = previous
        self._lock = threading.Lock()
        self._pollers: dict[str, ShardPoller] = {}
        self._listed_at = 0.0
        self._thread = threading.Thread(
            target=self._supervise, name=f"esm-{self.config.uuid[:8]}", daemon=True
        )

    def start(self) -> None:
        """Start supervising (after the previous generation has exited)."""
        self._thread.start()

    def stop(self) -> None:
        """Ask every thread of this generation to finish (does not wait)."""
        self.stop_event.set()
        self.wake()

    def wake(self) -> None:
        """Wake the supervisor and every poller now (a record was written, a limit changed)."""
        self.signal.fire()
        with self._lock:
            pollers = list(self._pollers.values())
        for poller in pollers:
            poller.wake()

    def records_arrived(self) -> None:
        """New records: wake the shard readers. Records do not change the shards, so the
        supervisor is woken only while it has no poller yet, or when it last listed the shards
        more than :data:`RELIST_AFTER_RECORDS_S` ago (a burst of writes wakes it a few times a
        second, not once a record)."""
        with self._lock:
            pollers = list(self._pollers.values())
        if not pollers or time.monotonic() - self._listed_at >= RELIST_AFTER_RECORDS_S:
            self.signal.fire()
        for poller in pollers:
            poller.records_arrived()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread; True if they all exited."""
        self._thread.join(timeout)
        with self._lock:
            pollers = list(self._pollers.values())
        for poller in pollers:
            poller.join(timeout)
        return not self._thread.is_alive() and not any(p.thread.is_alive() for p in pollers)

    def active_shards(self) -> dict[str, float]:
        """Shards with a running poller, with their iterator age in ms."""
        with self._lock:
            pollers = [(sid, p) for sid, p in self._pollers.items() if p.thread.is_alive()]
        return {sid: poller.iterator_age_ms() for sid, poller in pollers}

    def _supervise(self) -> None:
        if self._previous is not None:
            self._previous.join()
            self._previous = None
        runner = self._runner
        timing = runner.timing
        while not self.stop_event.is_set():
            token = self.signal.token()
            self._listed_at = time.monotonic()
            try:
                shards = list(runner.source.shards())
            except Exception as exc:
                log.warning("listing shards of %s failed: %r", runner.source.arn, exc)
                runner.source_error("*", exc)
                self.signal.wait(token, timing.poll_interval)
                continue
            runner.update_shards(shards)
            self._reconcile(shards)
            self.signal.wait(token, timing.poll_interval)

    def _reconcile(self, shards: Sequence[ShardInfo]) -> None:
        runner = self._runner
        present = {shard.shard_id for shard in shards}
        finished = runner.finished_shards()
        for shard in shards:
            with self._lock:
                known = shard.shard_id in self._pollers
            if known or shard.shard_id in finished:
                continue
            parent = shard.parent_shard_id
            if parent and parent in present and parent not in finished:
                continue  # a child starts only once its parent is fully processed
            if self.stop_event.is_set():
                return
            poller = ShardPoller(
                runner,
                shard_id=shard.shard_id,
                config=self.config,
                source=runner.source,
                invoker=runner.invoker,
                destinations=runner.destinations,
                timing=runner.timing,
                stop=self.stop_event,
            )
            with self._lock:
                self._pollers[shard.shard_id] = poller
            poller.start()
        with self._lock:
            gone = [p for sid, p in self._pollers.items() if sid not in present]
        for poller in gone:
            poller.halt()


class MappingRunner:
    """The run-time side of a mapping; also the ``ShardOwner`` of its pollers."""

    def __init__(
        self,
        config: MappingConfig,
        source: StreamSource,
        *,
        invoker: Invoker,
        destinations: DestinationSender,
        store: CheckpointStore,
        timing: Timing,
        history_size: int,
        on_progress: Callable[[], None],
    ) -> None:
        self.config = config
        self.source = source
        self.invoker = invoker
        self.destinations = destinations
        self.timing = timing
        self.history = History(history_size)
        self.state: MappingState = "Enabled" if config.enabled else "Disabled"
        self.last_processing_result = NO_RECORDS
        self._store = store
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._checkpoints: dict[str, str] = dict(store.load(config.uuid))
        self._shards: dict[str, ShardInfo] = {}
        self._finished: set[str] = set()
        self._source_errors: dict[str, str] = {}
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._paused = False
        self._in_flight = 0
        self._deleted = False
        self._generation: Generation | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def resolve_latest(self) -> None:
        """Turn StartingPosition LATEST into checkpoints now, so later writes are processed."""
        if self.config.starting_position != "LATEST":
            return
        changed = False
        for shard in self.source.shards():
            with self._lock:
                if shard.shard_id in self._checkpoints:
                    continue
            latest = self.source.latest_sequence_number(shard.shard_id)
            if latest is not None:
                with self._lock:
                    self._checkpoints.setdefault(shard.shard_id, latest)
                changed = True
        if changed:
            self._save()

    def start(self) -> None:
        """Start a new generation of pollers (stopping the current one first)."""
        previous = self._generation
        if previous is not None:
            previous.stop()
        self._generation = Generation(self, previous)
        self._generation.start()

    def stop(self) -> Generation | None:
        """Stop the pollers (without waiting); checkpoints are kept."""
        generation, self._generation = self._generation, None
        if generation is not None:
            generation.stop()
        with self._lock:
            self._paused = False
        self._on_progress()
        return generation

    def delete(self) -> Generation | None:
        """Stop for good; late completions no longer save checkpoints."""
        generation = self.stop()
        with self._lock:
            self._deleted = True
        return generation

    def wake(self) -> None:
        """Wake every poller of the running generation."""
        generation = self._generation
        if generation is not None:
            generation.wake()

    def records_arrived(self) -> None:
        """New records in the source: wake the running generation's readers."""
        generation = self._generation
        if generation is not None:
            generation.records_arrived()

    @property
    def running(self) -> bool:
        """True while a generation is running."""
        return self._generation is not None

    # -- ShardOwner ------------------------------------------------------------------------
    def checkpoint(self, shard_id: str) -> str | None:
        """The last processed sequence number of a shard."""
        with self._lock:
            return self._checkpoints.get(shard_id)

    def checkpoints(self) -> dict[str, str]:
        """All shard checkpoints."""
        with self._lock:
            return dict(self._checkpoints)

    def set_checkpoint(self, shard_id: str, sequence_number: str) -> None:
        """Move a shard's checkpoint forward (never backward) and save it."""
        with self._lock:
            if self._deleted:
                return
            current = self._checkpoints.get(shard_id)
            if current is not None and int(current) >= int(sequence_number):
                return
            self._checkpoints[shard_id] = sequence_number
        self._save()
        self._on_progress()

    def _save(self) -> None:
        with self._save_lock:  # snapshots are written in the order they were taken
            with self._lock:
                snapshot = dict(self._checkpoints)
            try:
                self._store.save(self.config.uuid, snapshot)
            except Exception:
                log.exception("saving checkpoints of mapping %s failed", self.config.uuid)

    def update_shards(self, shards: Sequence[ShardInfo]) -> None:
        """Remember the latest shard list (the supervisor refreshes it every poll)."""
        with self._lock:
            self._shards = {shard.shard_id: shard for shard in shards}

    def shard_closed(self, shard_id: str) -> bool:
        """True when the shard is known to be closed."""
        with self._lock:
            shard = self._shards.get(shard_id)
        return shard is not None and shard.closed

    def shard_finished(self, shard_id: str) -> None:
        """A closed shard is fully processed: its children may start."""
        with self._lock:
            self._finished.add(shard_id)
        generation = self._generation
        if generation is not None:
            generation.signal.fire()
        self._on_progress()

    def finished_shards(self) -> set[str]:
        """Closed shards that are fully processed."""
        with self._lock:
            return set(self._finished)

    def count(self, name: str, amount: int = 1) -> None:
        """Bump a statistics counter."""
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + amount
        self._on_progress()

    def observe(self, entry: InvocationRecord) -> None:
        """Keep an invocation record and update LastProcessingResult and counters."""
        self.history.append(entry)
        with self._lock:
            if entry.outcome in ("ok", "partial", "error"):
                self._counters["invocations"] += 1
                self.last_processing_result = (
                    RESULT_PROBLEM if entry.outcome == "error" else RESULT_OK
                )
            if entry.outcome == "error":
                self._counters["invocation_errors"] += 1
            elif entry.outcome == "partial":
                self._counters["partial_failures"] += 1
            elif entry.outcome == "throttled":
                self._counters["throttles"] += 1
            elif entry.outcome == "discarded":
                self._counters["discarded_batches"] += 1
        self._on_progress()

    def set_paused(self, paused: bool) -> None:
        """Whether the function's reserved concurrency is 0."""
        with self._lock:
            changed = self._paused != paused
            self._paused = paused
        if changed:
            self._on_progress()

    def begin_batch(self) -> None:
        """A batch is in flight."""
        with self._lock:
            self._in_flight += 1
        self._on_progress()

    def end_batch(self) -> None:
        """A batch is no longer in flight."""
        with self._lock:
            self._in_flight -= 1
        self._on_progress()

    def source_error(self, shard_id: str, error: BaseException | None) -> None:
        """Remember (or clear) the last error reading the source."""
        with self._lock:
            if error is None:
                self._source_errors.pop(shard_id, None)
            else:
                self._source_errors[shard_id] = f"{type(error).__name__}: {error}"

    # -- views -----------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """True while the function's reserved concurrency is 0."""
        with self._lock:
            return self._paused

    @property
    def in_flight(self) -> int:
        """Batches currently being processed."""
        with self._lock:
            return self._in_flight

    def api(self, state: MappingState | None = None) -> dict[str, Any]:
        """The API representation, optionally with a transitional state."""
        return self.config.to_api(
            state=state or self.state, last_processing_result=self.last_processing_result
        )

    def stats(self) -> dict[str, Any]:
        """Plain-dict statistics: counters, shards, iterator age and recent invocations."""
        generation = self._generation
        active = generation.active_shards() if generation is not None else {}
        with self._lock:
            shard_ids = sorted(set(self._shards) | set(self._checkpoints))
            shards = {
                sid: {
                    "checkpoint": self._checkpoints.get(sid),
                    "iterator_age_ms": active.get(sid, 0.0),
                    "closed": bool(self._shards.get(sid) and self._shards[sid].closed),
                    "finished": sid in self._finished,
                    "polling": sid in active,
                }
                for sid in shard_ids
            }
            document: dict[str, Any] = {
                "uuid": self.config.uuid,
                "function_arn": self.config.function_arn,
                "event_source_arn": self.config.event_source_arn,
                "state": self.state,
                "paused": self._paused,
                "in_flight": self._in_flight,
                "last_processing_result": self.last_processing_result,
                "iterator_age_ms": max(active.values(), default=0.0),
                "counters": dict(self._counters),
                "source_errors": dict(self._source_errors),
                "shards": shards,
            }
        document["recent"] = [entry.to_dict() for entry in self.history.snapshot()]
        return document
