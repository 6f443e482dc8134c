"""When to use ipywidgets, and the display protocol every view shares.

A view is a plain object with ``__repr__`` (text) and ``_repr_html_`` (static HTML). Inside a
Jupyter kernel with ipywidgets installed it also offers a live widget: its MIME bundle then
carries the widget *and* the HTML and text fallbacks, so every front end shows something and
exported notebooks keep the HTML.
"""

from __future__ import annotations

from typing import Any


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
            if found and "application/vnd.jupyter.widget-view+json" in found:
                bundle["application/vnd.jupyter.widget-view+json"] = found[
                    "application/vnd.jupyter.widget-view+json"
                ]
        return bundle
