"""Progress through the workshop: every step, whether it is done, and what its check found."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.checks.mistakes import MISTAKES
from labkit.lab.course import ALL_STEPS as STEPS

from .html import AMBER, GREEN, GREY, RED, box, heading, table, text_table
from .widgets import LiveView, widgets_available

if TYPE_CHECKING:
    from labkit.session import Lab


def _mistake_words(code: str) -> str:
    """What a mistake code means, in the words of the mistake catalogue."""
    entry = MISTAKES.get(code)
    if entry is None:
        return code.replace("-", " ")
    words = entry.mistake.split(" (")[0].rstrip(".")
    return words[:1].lower() + words[1:]


def _not_done(codes: list[str]) -> str:
    if not codes:
        return "not done yet"
    said = [_mistake_words(code) for code in codes[:2]]
    more = f"; and {len(codes) - 2} more" if len(codes) > 2 else ""
    return f"not done yet: {'; '.join(said)}{more}"


class ProgressView(LiveView):
    """Steps done (from the Workshop's progress.json) and the last check of each."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        self.completed: tuple[str, ...] = ()
        self.current: str | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self._widget: Any = None
        self._html: Any = None
        self.refresh()

    def refresh(self) -> ProgressView:
        record = self._lab.workshop.progress_record()
        self.completed = record.completed
        self.current = record.current
        self.results = self._lab._store().results()
        if self._html is not None:
            self._html.value = self.html()
        self.publish()
        return self

    def rows(self) -> list[tuple[str, str, str, str]]:
        out = []
        for step in STEPS:
            if step.id in self.completed:
                mark = "✓"
            elif step.id == self.current:
                mark = "→"
            else:
                mark = " "
            result = self.results.get(step.id)
            if result is None:
                last = "not checked yet"
            elif result.get("passed"):
                last = "passed"
            else:
                last = _not_done(result.get("codes", []))
            out.append((mark, step.id, step.title, last))
        return out

    def headline(self) -> str:
        done = sum(1 for s in STEPS if s.id in self.completed)
        where = f"; now: {self.current}" if self.current else "; all done"
        return f"Progress: {done} of {len(STEPS)} steps done{where}"

    def text(self) -> str:
        return "\n".join(
            [self.headline(), text_table(("", "step", "title", "last check"), self.rows())]
        )

    def html(self) -> str:
        rows = self.rows()
        colours = [GREEN if r[0] == "✓" else (AMBER if r[0] == "→" else GREY) for r in rows]
        colour = GREEN if not self.current else AMBER
        body = heading(self.headline(), colour) + table(
            ("", "step", "title", "last check"), rows, colours=colours
        )
        if any(r[3].startswith("not done") for r in rows):
            body += (
                f'<div style="color:{RED};font-size:12px">lab.check(step) says what is left.</div>'
            )
        return box(body, colour)

    def widget(self) -> Any:
        if self._widget is None and widgets_available():
            import ipywidgets as widgets

            self._html = widgets.HTML(value=self.html())
            refresh = widgets.Button(description="Refresh", icon="refresh")
            refresh.on_click(lambda _: self.refresh())
            self._widget = widgets.VBox([self._html, refresh])
        return self._widget
