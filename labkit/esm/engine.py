"""The engine: a registry of event source mappings and their pollers.

The local cloud creates one engine, adapts moto's streams to :class:`StreamSource`, the
Lambda runtime to :class:`Invoker` and SQS/SNS to :class:`DestinationSender`, serves the
EventSourceMapping API from :meth:`Engine.create`/``update``/``remove``/``get``/``list``, and
calls :meth:`Engine.notify` on every stream write so that pollers react within milliseconds.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from labkit.esm.config import MappingConfig, MappingState
from labkit.esm.errors import IdleTimeout, already_exists, invalid_parameter, not_found
from labkit.esm.lag import MappingLag, describe, enrich, measure
from labkit.esm.mapping import MappingRunner
from labkit.esm.ports import CheckpointStore, DestinationSender, Invoker, StreamSource
from labkit.esm.timing import Timing, default_retry_delay, default_throttle_delay

log = logging.getLogger("labkit.esm")


class Engine:
    """Runs event source mappings for DynamoDB and Kinesis streams."""

    def __init__(
        self,
        invoker: Invoker,
        destinations: DestinationSender,
        checkpoints: CheckpointStore,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 0.25,
        retry_delay: Callable[[int], float] = default_retry_delay,
        throttle_delay: Callable[[int], float] = default_throttle_delay,
        history_size: int = 500,
    ) -> None:
        self._invoker = invoker
        self._destinations = destinations
        self._store = checkpoints
        self._timing = Timing(
            clock=clock,
            sleep=sleep,
            poll_interval=poll_interval,
            retry_delay=retry_delay,
            throttle_delay=throttle_delay,
        )
        self._history_size = history_size
        self._lock = threading.RLock()
        self._runners: dict[str, MappingRunner] = {}
        self._snapshot: tuple[MappingRunner, ...] = ()  # replaced, never mutated: lock-free reads
        self._retired: list[Any] = []
        self._started = False
        self._progress = threading.Condition()
        self._progress_count = 0

    # -- API -------------------------------------------------------------------------------
    def create(
        self,
        body: Mapping[str, Any],
        source: StreamSource,
        *,
        function_arn: str | None = None,
    ) -> dict[str, Any]:
        """CreateEventSourceMapping: validate ``body``, add the mapping, return the response."""
        config = MappingConfig.from_create_request(
            body, function_arn=function_arn, now=self._timing.clock()
        )
        return self.add(config, source)

    def add(self, mapping: MappingConfig, source: StreamSource) -> dict[str, Any]:
        """Register a validated mapping (State ``Creating`` in the response) and start it."""
        if source.arn != mapping.event_source_arn:
            raise ValueError(f"source {source.arn} does not match {mapping.event_source_arn}")
        if source.kind != mapping.source_kind:
            raise invalid_parameter(
                f"The event source {source.arn} is a {source.kind} stream, "
                f"not {mapping.source_kind}."
            )
        runner = MappingRunner(
            mapping,
            source,
            invoker=self._invoker,
            destinations=self._destinations,
            store=self._store,
            timing=self._timing,
            history_size=self._history_size,
            on_progress=self._poke,
        )
        # Outside the lock: the source may take the cloud's backend lock, and a writer holding
        # that lock may be calling notify() at this very moment.
        runner.resolve_latest()
        with self._lock:
            if mapping.uuid in self._runners:
                raise invalid_parameter(f"An event source mapping with UUID {mapping.uuid} exists.")
            self._check_unique(mapping)
            self._runners[mapping.uuid] = runner
            self._snapshot = tuple(self._runners.values())
            if self._started and mapping.enabled:
                runner.start()
            log.info("added event source mapping %s", mapping.uuid)
            return runner.api("Creating")

    def update(
        self, uuid: str, body: Mapping[str, Any], *, function_arn: str | None = None
    ) -> dict[str, Any]:
        """UpdateEventSourceMapping; the response shows Updating, Enabling or Disabling."""
        with self._lock:
            runner = self._runner(uuid)
            old = runner.config
            new = old.apply_update(body, function_arn=function_arn, now=self._timing.clock())
            if new.function_arn != old.function_arn:
                self._check_unique(new, ignore=uuid)
            runner.config = new
            transition: MappingState = "Updating"
            if new.enabled != old.enabled:
                transition = "Enabling" if new.enabled else "Disabling"
            runner.state = "Enabled" if new.enabled else "Disabled"
            if self._started and new.enabled:
                runner.start()
            else:
                self._retire(runner.stop())
            return runner.api(transition)

    def remove(self, uuid: str) -> dict[str, Any]:
        """DeleteEventSourceMapping; the response shows State ``Deleting``."""
        with self._lock:
            runner = self._runner(uuid)
            del self._runners[uuid]
            self._snapshot = tuple(self._runners.values())
            self._retire(runner.delete())
            forget = getattr(self._store, "forget", None)
            if callable(forget):
                forget(uuid)
        self._poke()
        return runner.api("Deleting")

    def get(self, uuid: str) -> dict[str, Any]:
        """GetEventSourceMapping."""
        with self._lock:
            return self._runner(uuid).api()

    def config(self, uuid: str) -> MappingConfig:
        """The current configuration of a mapping."""
        with self._lock:
            return self._runner(uuid).config

    def list(
        self, *, event_source_arn: str | None = None, function_arn: str | None = None
    ) -> list[dict[str, Any]]:
        """ListEventSourceMappings (optionally filtered), in creation order."""
        with self._lock:
            runners = list(self._runners.values())
        return [
            runner.api()
            for runner in runners
            if (event_source_arn is None or runner.config.event_source_arn == event_source_arn)
            and (function_arn is None or runner.config.function_arn == function_arn)
        ]

    # -- wake-ups --------------------------------------------------------------------------
    def notify(self, source_arn: str) -> None:
        """A record was written to ``source_arn``: wake its pollers now.

        Cheap and lock-free with respect to the engine, so it may be called while the caller
        holds the cloud's backend lock.
        """
        for runner in self._snapshot:
            if runner.config.event_source_arn == source_arn:
                runner.records_arrived()

    def notify_function(self, function_arn: str) -> None:
        """A function's concurrency changed: wake the pollers of its mappings."""
        for runner in self._snapshot:
            if runner.config.function_arn == function_arn:
                runner.wake()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start polling every enabled mapping."""
        with self._lock:
            if self._started:
                return
            self._started = True
            for runner in self._runners.values():
                if runner.config.enabled:
                    runner.start()
        self._poke()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every poller and wait (up to ``timeout``) for invocations in flight to end."""
        with self._lock:
            self._started = False
            for runner in self._runners.values():
                self._retire(runner.stop())
            retired, self._retired = self._retired, []
        deadline = time.monotonic() + timeout
        for generation in retired:
            if not generation.join(max(deadline - time.monotonic(), 0.0)):
                log.warning("event source mapping threads still busy after %.1f s", timeout)
        self._poke()

    def _retire(self, generation: Any) -> None:
        if generation is not None:
            self._retired = [g for g in self._retired if g.join(0)] + [generation]

    # -- waiting ---------------------------------------------------------------------------
    def _poke(self) -> None:
        with self._progress:
            self._progress_count += 1
            self._progress.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Return once every enabled mapping has caught up and nothing is in flight.

        Raises :class:`IdleTimeout` after ``timeout`` seconds, or at once when the only
        mappings behind are paused (reserved concurrency 0) or the engine is not started; the
        message names each mapping still behind and how far.
        """
        started_at = time.monotonic()
        deadline = started_at + timeout
        while True:
            with self._progress:
                seen = self._progress_count
            lags = self._lags()
            if not lags:
                return
            stuck = not self._started or all(lag.paused and self._still_paused(lag) for lag in lags)
            remaining = deadline - time.monotonic()
            if stuck or remaining <= 0:
                self._raise_idle_timeout(lags, time.monotonic() - started_at)
            with self._progress:
                if self._progress_count == seen:
                    self._progress.wait(min(remaining, self._timing.poll_interval))

    def _lags(self) -> builtins.list[MappingLag]:
        with self._lock:
            runners = [r for r in self._runners.values() if r.config.enabled]
        lags = []
        for runner in runners:
            lag = measure(runner)
            if lag is not None:
                lags.append(lag)
        return lags

    def _still_paused(self, lag: MappingLag) -> bool:
        try:
            paused = self._invoker.reserved_concurrency(lag.function_arn) == 0
        except Exception:
            return False
        if not paused:
            self.notify_function(lag.function_arn)
        return paused

    def _raise_idle_timeout(self, lags: builtins.list[MappingLag], waited: float) -> None:
        now = self._timing.clock()
        with self._lock:
            runners = dict(self._runners)
        for lag in lags:
            runner = runners.get(lag.uuid)
            if runner is not None:
                enrich(runner, lag, now)
        message = describe(lags, waited=waited, started=self._started)
        raise IdleTimeout(message, [lag.to_dict() for lag in lags])

    # -- observability ---------------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, Any]]:
        """Per mapping UUID: counters, shards, iterator age and the recent invocations."""
        with self._lock:
            runners = list(self._runners.values())
        return {runner.config.uuid: runner.stats() for runner in runners}

    # -- helpers ---------------------------------------------------------------------------
    def _runner(self, uuid: str) -> MappingRunner:
        runner = self._runners.get(uuid)
        if runner is None:
            raise not_found()
        return runner

    def _check_unique(self, mapping: MappingConfig, ignore: str | None = None) -> None:
        for other in self._runners.values():
            config = other.config
            if config.uuid == ignore:
                continue
            if (
                config.event_source_arn == mapping.event_source_arn
                and config.function_arn == mapping.function_arn
            ):
                raise already_exists(
                    mapping.service_label,
                    mapping.event_source_arn,
                    mapping.function_name,
                    config.uuid,
                )
