"""When to use ipywidgets, and the display protocol every view shares.

A view is a plain object with ``__repr__`` (text) and ``_repr_html_`` (static HTML). Inside a
Jupyter kernel with ipywidgets installed it also offers a live widget: its MIME bundle then
carries the widget *and* the HTML and text fallbacks, so every front end shows something and
exported notebooks keep the HTML.

A :class:`LiveView` changes after it is shown (a round is played, the logs are read again). It
shows itself with a display id and, whenever it changes, replaces the HTML and text of every
output that shows it (``update_display``), so the saved notebook holds the last state: that is
what an export, an untrusted or widget-less front end, or a solved copy shows. JupyterLab
itself restores the widget from the state it saves in the notebook after a restart and a
reload; ``labkit/ui/jupyterlab/overrides.json`` (used by ``scripts/lab.sh``) switches that on.
"""

from __future__ import annotations

from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def in_kernel() -> bool:
    """True inside a running IPython kernel (a notebook), False in a terminal or a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_available() -> bool:
    """True if a live widget can be shown here."""
    if not in_kernel():
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class View:
    """Base class: subclasses implement ``text()``, ``html()`` and optionally ``widget()``."""

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def widget(self) -> Any:
        """The live widget, or None where widgets cannot be shown."""
        return None

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
        bundle: dict[str, Any] = {"text/plain": self.text(), "text/html": self.html()}
        live = self.widget()
        if live is not None:
            found = live._repr_mimebundle_()
            if found and WIDGET_VIEW in found:
                bundle[WIDGET_VIEW] = found[WIDGET_VIEW]
        return bundle


class LiveView(View):
    """A view that changes after it is shown; its outputs keep its last state."""

    _display_ids: list[str]

    def _ipython_display_(self) -> None:
        from IPython import display as ipython_display

        show: Any = ipython_display.display
        handle = show(self._repr_mimebundle_(), raw=True, display_id=True)
        if handle is not None:
            self.__dict__.setdefault("_display_ids", []).append(handle.display_id)

    def publish(self) -> None:
        """Put the current state (HTML, text and the widget) into every output showing it."""
        shown = self.__dict__.get("_display_ids")
        if not shown:
            return
        from IPython import display as ipython_display

        update: Any = ipython_display.update_display
        bundle = self._repr_mimebundle_()
        for display_id in shown:
            update(bundle, raw=True, display_id=display_id)
