"""The engine's sense of time: injected clock and sleep, poll cadence and back-off delays."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


def default_retry_delay(attempt: int) -> float:
    """Pause before retrying after the ``attempt``-th failed invocation: 0.1 s doubling to 1 s."""
    return min(0.1 * 2.0 ** min(max(attempt - 1, 0), 10), 1.0)


def default_throttle_delay(throttles: int) -> float:
    """Pause after the ``throttles``-th consecutive throttle: 10 ms doubling to 0.25 s."""
    return min(0.01 * 2.0 ** min(max(throttles - 1, 0), 10), 0.25)


@dataclass(frozen=True)
class Timing:
    """Clock, sleep and delays shared by every poller of an engine."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    poll_interval: float = 0.25
    retry_delay: Callable[[int], float] = default_retry_delay
    throttle_delay: Callable[[int], float] = default_throttle_delay
