"""Progress bars for provisioning: a widget in a notebook, a bar in a terminal, lines elsewhere.

The executor reports from the thread that runs the plan (never a background thread); these
reporters draw with ``tqdm.auto``, which picks an ipywidgets bar in Jupyter and a text bar in
a terminal. A bar is never redrawn into a pipe or a file: there (and without tqdm)
:class:`TextProgress` writes one plain line per call.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class SilentProgress:
    """Reports nothing (tests, scripts that print their own output)."""

    def begin(self, total: int, title: str) -> None:
        return None

    def advance(self, description: str) -> None:
        return None

    def end(self) -> None:
        return None


class TextProgress:
    """One line per call: ``[3/12] Create table StateTable …``."""

    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self._write = write if write is not None else (lambda s: sys.stderr.write(s + "\n"))
        self._total = 0
        self._done = 0

    def begin(self, total: int, title: str) -> None:
        self._total, self._done = total, 0
        self._write(f"{title}: {total} call(s)")

    def advance(self, description: str) -> None:
        self._done += 1
        self._write(f"[{self._done}/{self._total}] {description}")

    def end(self) -> None:
        return None


class TqdmProgress:
    """A tqdm bar (a widget in notebooks); the description shows the current call."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._pending = False

    def begin(self, total: int, title: str) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=title, unit="call", leave=True)
        self._pending = False

    def advance(self, description: str) -> None:
        if self._bar is None:
            return
        if self._pending:
            self._bar.update(1)
        self._pending = True
        self._bar.set_postfix_str(description, refresh=True)

    def end(self) -> None:
        if self._bar is None:
            return
        if self._pending:
            self._bar.update(1)
        if self._bar.n >= self._bar.total:
            self._bar.set_postfix_str("done", refresh=True)
        self._bar.close()
        self._bar = None


def default_progress(stream: Any = None) -> TqdmProgress | TextProgress:
    """A tqdm bar in a notebook or on a terminal; plain lines on ``stream`` (stderr) when it
    is a pipe or a file, or when tqdm is not installed."""
    out = stream if stream is not None else sys.stderr
    try:
        import tqdm.auto  # noqa: F401
    except ImportError:
        return TextProgress(lambda line: out.write(line + "\n"))
    from labkit.ui.widgets import in_kernel

    if in_kernel():
        return TqdmProgress()
    isatty = getattr(out, "isatty", None)
    if callable(isatty) and isatty():
        return TqdmProgress()
    return TextProgress(lambda line: out.write(line + "\n"))
