"""A lane: records of one shard that must stay in order, processed one batch at a time.

A shard has ``ParallelizationFactor`` lanes; records are assigned to a lane by a stable hash
of their ordering key, so records of one item (DynamoDB) or partition key (Kinesis) keep
their order while different lanes run concurrently. A lane forms batches (BatchSize, batching
window, 6 MB payload limit, tumbling-window boundaries) and keeps tumbling-window state.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from labkit.esm import payload
from labkit.esm.buffered import Buffered
from labkit.esm.processor import BatchHost, BatchProcessor
from labkit.esm.responses import Verdict
from labkit.esm.signal import Signal

log = logging.getLogger("labkit.esm")

MAX_STATE_BYTES = 1024 * 1024
"""Tumbling-window state larger than this ends the window early."""


class LaneHost(BatchHost, Protocol):
    """What a lane needs from its shard poller, beyond what a processor needs."""

    lane_signal: Signal

    @property
    def burst_in_progress(self) -> bool: ...

    @property
    def draining(self) -> bool: ...

    @property
    def caught_up_as_of(self) -> float | None: ...

    def begin_batch(self) -> None: ...

    def end_batch(self) -> None: ...


def window_start(arrival: float, size: int) -> float:
    """The start of the tumbling window (aligned on epoch multiples of ``size``)."""
    return math.floor(arrival / size) * size


class Lane:
    """One ordered lane of a shard; ``run`` is the body of its thread."""

    def __init__(self, index: int, host: LaneHost) -> None:
        self.index = index
        self._host = host
        self._lock = threading.Lock()
        self._buffer: deque[Buffered] = deque()
        self._processor = BatchProcessor(host)
        self._window: float | None = None
        self._state: dict[str, Any] = {}

    # -- fed by the reader ---------------------------------------------------------------
    def push(self, items: Sequence[Buffered]) -> None:
        """Append records read from the shard (in shard order)."""
        with self._lock:
            self._buffer.extend(items)

    @property
    def buffered(self) -> int:
        """Records waiting in this lane."""
        with self._lock:
            return len(self._buffer)

    @property
    def has_open_window(self) -> bool:
        """True while a tumbling window has state that still needs its final invoke."""
        return self._window is not None

    # -- the thread ------------------------------------------------------------------------
    def run(self) -> None:
        """Form and process batches until the shard poller stops."""
        host = self._host
        while not host.stopped():
            token = host.lane_signal.token()
            try:
                if self._step():
                    continue
            except Exception:  # a bug must not silently kill the lane: log, pause, go on
                log.exception("lane %d of shard %s failed", self.index, host.shard_id)
                token = host.lane_signal.token()
                host.lane_signal.wait(token, host.timing.poll_interval)
                continue
            host.lane_signal.wait(token, self._idle_timeout())

    def _step(self) -> bool:
        if self._host.config.tumbling_window_in_seconds and self._window_closed():
            self._final_invoke(terminated_early=False)
            return True
        batch = self._take()
        if not batch:
            return False
        self._process(batch)
        return True

    def _idle_timeout(self) -> float:
        timing = self._host.timing
        window = self._host.config.maximum_batching_window_in_seconds
        with self._lock:
            head = self._buffer[0] if self._buffer else None
        if head is None or not window:
            return timing.poll_interval
        remaining = head.read_at + window - timing.clock()
        return min(timing.poll_interval, max(remaining, 0.001))

    # -- batching ------------------------------------------------------------------------
    def _window_of(self, item: Buffered) -> float:
        return window_start(item.arrival, self._host.config.tumbling_window_in_seconds)

    def _window_info(self, *, is_final: bool = False, early: bool = False) -> payload.WindowInfo:
        assert self._window is not None
        return self._info(self._window, self._state, is_final=is_final, early=early)

    def _info(
        self, start: float, state: dict[str, Any], *, is_final: bool = False, early: bool = False
    ) -> payload.WindowInfo:
        return payload.WindowInfo(
            start=start,
            end=start + self._host.config.tumbling_window_in_seconds,
            state=state,
            shard_id=self._host.shard_id,
            source_arn=self._host.source_arn,
            is_final=is_final,
            terminated_early=early,
        )

    def _take(self) -> list[Buffered] | None:
        config = self._host.config
        tumbling = config.tumbling_window_in_seconds
        with self._lock:
            if not self._buffer:
                return None
            head = self._buffer[0]
            boundary = False
            sizes: list[int] = []
            for item in itertools.islice(self._buffer, config.batch_size):
                if tumbling and self._window_of(item) > self._window_of(head):
                    boundary = True
                    break
                sizes.append(len(item.fragment))
            opening = False
            fixed = payload.overhead()
            if tumbling:
                opening = self._window is None or self._window_of(head) > self._window
                start = self._window_of(head) if opening else self._window
                assert start is not None
                fixed = payload.overhead(self._info(start, {} if opening else self._state))
            count = payload.fitting_count(sizes, max_count=config.batch_size, fixed=fixed)
            limited = boundary or count < len(sizes) or count >= config.batch_size
            if not limited and not self._host.draining:
                if self._host.burst_in_progress:
                    return None
                window = config.maximum_batching_window_in_seconds
                if window and self._host.timing.clock() - head.read_at < window:
                    return None
            if opening:
                self._window, self._state = self._window_of(head), {}
            return [self._buffer.popleft() for _ in range(count)]

    def _process(self, batch: list[Buffered]) -> None:
        host = self._host
        tumbling = host.config.tumbling_window_in_seconds
        host.begin_batch()
        try:
            self._run_batch(batch, tumbling)
        except Exception:
            with self._lock:  # put the batch back so that it is not lost, then re-raise
                self._buffer.extendleft(reversed(batch))
            raise
        finally:
            host.end_batch()
        if tumbling and len(payload.dumps(self._state)) > MAX_STATE_BYTES:
            self._final_invoke(terminated_early=True)

    def _run_batch(self, batch: list[Buffered], tumbling: int) -> None:
        if not tumbling:
            self._processor.run(batch, lambda items: payload.build([i.fragment for i in items]))
            return
        self._processor.run(
            batch,
            lambda items: payload.build([i.fragment for i in items], self._window_info()),
            on_response=self._keep_state,
            needs_state=True,
        )

    # -- tumbling windows ----------------------------------------------------------------
    def _keep_state(self, verdict: Verdict) -> None:
        state = verdict.state
        if state is not None:
            self._state = state

    def _window_closed(self) -> bool:
        if self._window is None:
            return False
        end = self._window + self._host.config.tumbling_window_in_seconds
        with self._lock:
            head = self._buffer[0] if self._buffer else None
        if head is not None:
            return self._window_of(head) >= end
        if self._host.draining:
            return True
        caught_up = self._host.caught_up_as_of
        return self._host.timing.clock() >= end and caught_up is not None and caught_up >= end

    def _final_invoke(self, *, terminated_early: bool) -> None:
        body = payload.build([], self._window_info(is_final=True, early=terminated_early))
        self._host.begin_batch()
        try:
            finished = self._processor.run([], lambda _items: body, needs_state=True)
        finally:
            self._host.end_batch()
        if finished:
            self._window, self._state = None, {}
