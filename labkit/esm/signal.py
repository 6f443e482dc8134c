"""A wake-up signal with no lost wake-ups, for pollers that otherwise wait a poll interval."""

from __future__ import annotations

import threading


class Signal:
    """A counter that threads wait on.

    A waiter remembers the token it last saw; ``wait`` returns as soon as the counter has moved
    past it, even if ``fire`` happened before the wait began.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0

    def token(self) -> int:
        """The current count, to pass to a later ``wait``."""
        with self._cond:
            return self._count

    def fire(self) -> None:
        """Wake every waiter."""
        with self._cond:
            self._count += 1
            self._cond.notify_all()

    def wait(self, token: int, timeout: float) -> int:
        """Wait until fired after ``token`` was taken, or ``timeout`` seconds; return the count."""
        with self._cond:
            if self._count == token and timeout > 0:
                self._cond.wait(timeout)
            return self._count
