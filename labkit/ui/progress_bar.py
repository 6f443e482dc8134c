"""A progress bar for provisioning in a notebook that leaves a static line when it ends.

While the plan runs, the cell shows tqdm's widget bar. When it ends, the output is replaced by
one line of text and HTML (``lab1.step1 (start): 27/27 calls, done``) and the widget is closed:
a saved or reopened notebook, a restarted kernel or an export shows that line, never "Error
displaying widget".
"""

from __future__ import annotations

from typing import Any

from .html import GREEN, RED, box, esc
from .widgets import WIDGET_VIEW, widgets_available


class NotebookProgress:
    """Reports a plan's calls as a tqdm widget, then leaves its final line."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._handle: Any = None
        self._pending = False

    def begin(self, total: int, title: str) -> None:
        from IPython import display as ipython_display
        from tqdm.notebook import tqdm

        self._bar = tqdm(total=total, desc=title, unit="call", leave=True, display=False)
        self._pending = False
        bundle: dict[str, Any] = {"text/plain": self._line(), "text/html": self._html()}
        view = self._bar.container._repr_mimebundle_() or {}
        if WIDGET_VIEW in view:
            bundle[WIDGET_VIEW] = view[WIDGET_VIEW]
        show: Any = ipython_display.display
        self._handle = show(bundle, raw=True, display_id=True)

    def advance(self, description: str) -> None:
        if self._bar is None:
            return
        if self._pending:
            self._bar.update(1)
        self._pending = True
        self._bar.set_postfix_str(description, refresh=True)

    def end(self) -> None:
        bar = self._bar
        if bar is None:
            return
        if self._pending:
            bar.update(1)
        finished = bar.n >= bar.total
        if finished:
            bar.set_postfix_str("done", refresh=False)
        bar.close()
        if self._handle is not None:
            self._handle.update(
                {"text/plain": self._line(), "text/html": self._html(finished)}, raw=True
            )
        bar.container.close()
        self._bar = self._handle = None

    def _line(self) -> str:
        bar = self._bar
        meter = bar.format_meter(**{**bar.format_dict, "ascii": True})
        return str(meter)

    def _html(self, finished: bool = True) -> str:
        colour = GREEN if finished else RED
        return box(
            f'<span style="font-family:monospace;font-size:12px">{esc(self._line())}</span>',
            colour,
        )


def notebook_progress() -> NotebookProgress | None:
    """A notebook progress bar where widgets can be shown, else None (the default reporter)."""
    return NotebookProgress() if widgets_available() else None
