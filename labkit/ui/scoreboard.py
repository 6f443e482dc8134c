"""The live scoreboard: total score, the last round's error per key, and the score over rounds.

``board = lab.scoreboard()`` shows it; ``board.play(3)`` plays three rounds now and updates the
view after each; ``board.start()`` keeps playing rounds in the background (like the reference
lab's generator, once a minute) until ``board.stop()``. Background rounds only change widget
values, never print. Without widgets (a terminal, a static export), the same object shows as
text or HTML; ``board.refresh()`` reads the latest state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .html import AMBER, GREEN, GREY, RED, box, esc, heading, table, text_table
from .svg import Point, score_chart
from .widgets import View, widgets_available

if TYPE_CHECKING:
    from labkit.lab.scoreboard import Board, RoundResult
    from labkit.session import Lab


def _money(value: Decimal) -> str:
    return (
        f"{value:,.2f}" if value != value.to_integral_value() or abs(value) >= 1000 else str(value)
    )


def _describe_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if "ResourceNotFound" in type(error).__name__ or "ResourceNotFound" in first:
        return (
            "The scoreboard keeps its score in ParameterTable, which does not exist yet: "
            "finish lab1.step1 (or lab.solve('lab1.step1'))."
        )
    return f"{type(error).__name__}: {first}"[:400]


@dataclass(repr=False)
class RoundsPlayed(View):
    """The rounds one ``play()`` call played (or why it could not)."""

    results: list[RoundResult] = field(default_factory=list)
    error: str = ""

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    def text(self) -> str:
        lines = [line for r in self.results for line in r.lines()]
        if self.error:
            lines.append(f"✗ The round could not be played: {self.error}")
        return "\n".join(lines) or "No round played."

    def html(self) -> str:
        parts = []
        for r in self.results:
            colour = GREEN if r.exact else RED
            verdict = "exact" if r.exact else f"{len(r.wrong)} key(s) wrong"
            parts.append(
                f'<div style="color:{colour}">Round {r.number}: {r.messages} messages, '
                f"{esc(verdict)}: +{r.points} points (total {r.total})</div>"
            )
            if r.lab2_started:
                parts.append(
                    f'<div style="color:{AMBER}">300 points: lab 2 begins — failures and '
                    "special trades are on.</div>"
                )
        if self.error:
            parts.append(
                f'<div style="color:{RED}">✗ The round could not be played: {esc(self.error)}</div>'
            )
        colour = RED if self.error or any(not r.exact for r in self.results) else GREEN
        return box("".join(parts) or "No round played.", colour)


class ScoreboardView(View):
    """The lab's scoreboard, as a live widget with text and HTML fallbacks."""

    def __init__(self, lab: Lab, *, messages: int = 500) -> None:
        self._lab = lab
        self.messages = messages
        self.last: RoundResult | None = None
        self.board: Board | None = None
        self.error = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._widget: Any = None
        self._html: Any = None
        self._status: Any = None
        self.refresh()

    # ----- data -----------------------------------------------------------------------------
    def refresh(self) -> ScoreboardView:
        """Read the score again (and update the widget)."""
        try:
            self.board = self._lab.workshop.board()
            self.error = ""
        except Exception as error:
            self.error = _describe_error(error)
        self._update()
        return self

    def play(self, rounds: int = 1, *, messages: int | None = None) -> RoundsPlayed:
        """Play ``rounds`` rounds now, one after the other; the view updates after each."""
        played = RoundsPlayed()
        for _ in range(rounds):
            try:
                result = self._lab.play_round(messages=messages or self.messages)
            except Exception as error:
                played.error = _describe_error(error)
                self.error = played.error
                self._update()
                break
            played.results.append(result)
            with self._lock:
                self.last = result
            self.refresh()
        return played

    def start(self, every: float = 5.0) -> ScoreboardView:
        """Keep playing rounds in the background, a pause of ``every`` seconds between them."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(every,), name="labkit-scoreboard", daemon=True
        )
        self._thread.start()
        self._set_status("playing rounds in the background …")
        return self

    def stop(self, timeout: float = 120.0) -> ScoreboardView:
        """Stop background rounds (after the round in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self._set_status("")
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self, every: float) -> None:
        while not self._stop.is_set():
            try:
                result = self._lab.play_round(messages=self.messages)
            except Exception as error:  # shown in the widget; a thread must not print
                self.error = _describe_error(error)
                self._update()
                self._set_status("stopped")
                return
            with self._lock:
                self.last = result
            self.refresh()
            self._stop.wait(every)

    # ----- rendering ------------------------------------------------------------------------
    def _points(self) -> list[Point]:
        return _running_totals(self.board) if self.board is not None else []

    def headline(self) -> str:
        if self.board is None:
            return "Scoreboard: no score yet."
        mode = "lab 2: failures and special trades on" if self.board.lab2 else "lab 1"
        return f"Score: {self.board.total} points after {self.board.played} round(s) ({mode})"

    def text(self) -> str:
        lines = [self.headline()]
        if self.error:
            lines.append(f"✗ {self.error}")
        if self.board is not None:
            lines.extend(self.board.lines()[1:])
        last = self.last
        if last is not None and last.wrong:
            lines.append(f"Round {last.number}: keys that are off")
            rows = [(k.key, k.expected, k.actual, k.error) for k in last.wrong]
            lines.extend(
                "  " + line
                for line in text_table(("key", "expected", "actual", "error"), rows).split("\n")
            )
        return "\n".join(lines)

    def html(self) -> str:
        colour = RED if self.error else (AMBER if self.board and self.board.lab2 else GREEN)
        parts = [heading(self.headline(), colour)]
        if self.error:
            parts.append(f'<div style="color:{RED}">✗ {esc(self.error)}</div>')
        parts.append(score_chart(self._points()))
        last = self.last
        if last is not None:
            verdict = "exact" if last.exact else f"{len(last.wrong)} key(s) off"
            parts.append(
                f'<div style="margin-top:6px;font-weight:600">Round {last.number}: '
                f"{last.messages} messages, {esc(verdict)}</div>"
            )
            rows = [
                (k.key, _money(k.expected), _money(k.actual), _money(k.error)) for k in last.keys
            ]
            colours = [None if k.exact else RED for k in last.keys]
            parts.append(
                table(
                    ("key", "expected change", "actual change", "error"),
                    rows,
                    align=("left", "right", "right", "right"),
                    colours=colours,
                )
            )
        elif self.board is not None and self.board.rounds:
            history = [
                (r.number, r.messages, f"+{r.points}", r.wrong, _money(r.max_error))
                for r in self.board.rounds[-10:]
            ]
            colours = [None if r.wrong == 0 else RED for r in self.board.rounds[-10:]]
            parts.append(
                table(
                    ("round", "messages", "points", "keys off", "largest error"),
                    history,
                    align=("right",) * 5,
                    colours=colours,
                )
            )
        parts.append(
            f'<div style="color:{GREY};font-size:12px">Play rounds with .play(n), or '
            ".start() / .stop() to keep playing in the background.</div>"
        )
        return box("".join(parts), colour)

    # ----- the widget -----------------------------------------------------------------------
    def widget(self) -> Any:
        if self._widget is None and widgets_available():
            import ipywidgets as widgets

            self._html = widgets.HTML(value=self.html())
            self._status = widgets.HTML(value="")
            play = widgets.Button(description="Play a round", icon="play")
            refresh = widgets.Button(description="Refresh", icon="refresh")
            play.on_click(lambda _: self._play_in_background(play))
            refresh.on_click(lambda _: self.refresh())
            self._widget = widgets.VBox([self._html, widgets.HBox([play, refresh, self._status])])
        return self._widget

    def _play_in_background(self, button: Any) -> None:
        def run() -> None:
            button.disabled = True
            self._set_status("playing a round …")
            self.play(1)
            self._set_status("")
            button.disabled = False

        threading.Thread(target=run, name="labkit-round", daemon=True).start()

    def _update(self) -> None:
        if self._html is not None:
            self._html.value = self.html()

    def _set_status(self, text: str) -> None:
        if self._status is not None:
            self._status.value = f'<span style="color:{GREY}">{esc(text)}</span>'


def _running_totals(board: Board) -> list[Point]:
    """The total after each remembered round (the history may not start at round 1)."""
    rounds = list(board.rounds)
    remembered = sum(r.points for r in rounds)
    total = board.total - remembered
    points = []
    for r in rounds:
        total += r.points
        points.append(Point(r.number, total, r.wrong == 0, r.wrong))
    return points
