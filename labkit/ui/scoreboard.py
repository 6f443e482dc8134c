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
from typing import TYPE_CHECKING, Any

from .html import AMBER, GREEN, GREY, RED, box, esc, folded, heading, money, table, text_table
from .svg import Point, score_chart
from .widgets import LiveView, View, widgets_available

if TYPE_CHECKING:
    from labkit.lab.scoreboard import Board, KeyResult, RoundResult
    from labkit.session import Lab


def duplicates_note(result: RoundResult) -> str:
    """Why ``message_count`` grew by fewer than the round's messages ("" when it did not)."""
    stats = result.stats
    counted = stats.get("new", 0) + stats.get("modified", 0)
    skipped = []
    if stats.get("duplicate"):
        skipped.append(f"{stats['duplicate']} exact duplicate(s)")
    if stats.get("stale"):
        skipped.append(f"{stats['stale']} older version(s)")
    if not skipped or counted == result.messages:
        return ""
    return (
        f"{' and '.join(skipped)} among the {result.messages} messages, sent on purpose: "
        f"message_count counts the other {counted}"
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


def _key_rows(keys: tuple[KeyResult, ...]) -> list[tuple[str, str, str, str]]:
    return [(k.key, money(k.expected), money(k.actual), money(k.error)) for k in keys]


def _keys_table(keys: tuple[KeyResult, ...]) -> str:
    return table(
        ("key", "expected change", "actual change", "drift"),
        _key_rows(keys),
        align=("left", "right", "right", "right"),
        colours=[None if k.exact else RED for k in keys],
    )


def _round_html(result: RoundResult) -> str:
    """One round: its verdict, and the keys that drifted (all keys, folded, if exact)."""
    verdict = "exact" if result.exact else f"{len(result.wrong)} key(s) drifted"
    colour = GREEN if result.exact else RED
    parts = [
        f'<div style="color:{colour};font-weight:600">Round {result.number}: '
        f"{result.messages} messages, {esc(verdict)}, +{result.points} points "
        f"(total {result.total})</div>"
    ]
    note = duplicates_note(result)
    if note:
        parts.append(f'<div style="color:{GREY};font-size:12px">{esc(note)}</div>')
    if result.exact:
        parts.append(folded(f"all {len(result.keys)} keys exact", _keys_table(result.keys)))
    else:
        parts.append(_keys_table(result.wrong))
    if result.lab2_started:
        parts.append(
            f'<div style="color:{AMBER}">300 points: lab 2 begins — failures and '
            "special trades are on.</div>"
        )
    return "".join(parts)


@dataclass(repr=False)
class RoundsPlayed(View):
    """The rounds one ``play()`` call played (or why it could not)."""

    results: list[RoundResult] = field(default_factory=list)
    error: str = ""

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    def text(self) -> str:
        lines = []
        for r in self.results:
            lines.extend(r.lines())
            if duplicates_note(r):
                lines.append(f"  {duplicates_note(r)}")
        if self.error:
            lines.append(f"✗ The round could not be played: {self.error}")
        return "\n".join(lines) or "No round played."

    def html(self) -> str:
        parts = [_round_html(r) for r in self.results]
        if self.error:
            parts.append(
                f'<div style="color:{RED}">✗ The round could not be played: {esc(self.error)}</div>'
            )
        colour = RED if self.error or any(not r.exact for r in self.results) else GREEN
        return box("".join(parts) or "No round played.", colour)


class ScoreboardView(LiveView):
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
        self._head: Any = None
        self._html: Any = None
        self._status: Any = None
        self.refresh()

    # ----- data -----------------------------------------------------------------------------
    def refresh(self) -> ScoreboardView:
        """Read the score again (and update the widget and the saved output)."""
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

    def colour(self) -> str:
        """Red on an error, amber when the last round drifted, green when all is well."""
        if self.error:
            return RED
        if self.last is not None:
            return GREEN if self.last.exact else AMBER
        if self.board is not None and self.board.rounds:
            return GREEN if self.board.rounds[-1].wrong == 0 else AMBER
        return GREY

    def text(self) -> str:
        lines = [self.headline()]
        if self.error:
            lines.append(f"✗ {self.error}")
        if self.board is not None:
            lines.extend(self.board.lines()[1:])
        last = self.last
        if last is not None:
            if duplicates_note(last):
                lines.append(f"Round {last.number}: {duplicates_note(last)}")
            if last.wrong:
                lines.append(f"Round {last.number}: keys that drifted")
                rows = [
                    (k.key, money(k.expected), money(k.actual), money(k.error)) for k in last.wrong
                ]
                lines.extend(
                    "  " + line
                    for line in text_table(("key", "expected", "actual", "drift"), rows).split("\n")
                )
        return "\n".join(lines)

    def _controls_html(self) -> str:
        return (
            f'<div style="color:{GREY};font-size:12px;margin-bottom:4px">Play rounds with '
            "board.play(n), or board.start() / board.stop() to keep playing in the "
            "background.</div>"
        )

    def _body_html(self) -> str:
        parts = []
        if self.error:
            parts.append(f'<div style="color:{RED}">✗ {esc(self.error)}</div>')
        parts.append(score_chart(self._points()))
        if self.last is not None:
            parts.append(_round_html(self.last))
        elif self.board is not None and self.board.rounds:
            recent = self.board.rounds[-10:]
            history = [
                (r.number, r.messages, f"+{r.points}", r.wrong, money(r.max_error)) for r in recent
            ]
            parts.append(
                table(
                    ("round", "messages", "points", "keys off", "largest drift"),
                    history,
                    align=("right",) * 5,
                    colours=[None if r.wrong == 0 else RED for r in recent],
                )
            )
        return "".join(parts)

    def html(self) -> str:
        colour = self.colour()
        top = heading(self.headline(), colour) + self._controls_html()
        return box(top + self._body_html(), colour)

    # ----- the widget -----------------------------------------------------------------------
    def widget(self) -> Any:
        if self._widget is None and widgets_available():
            import ipywidgets as widgets

            self._head = widgets.HTML(value=heading(self.headline(), self.colour()))
            self._html = widgets.HTML(value=self._body_html())
            self._status = widgets.HTML(value="")
            play = widgets.Button(description="Play a round", icon="play")
            refresh = widgets.Button(description="Refresh", icon="refresh")
            play.on_click(lambda _: self._play_in_background(play))
            refresh.on_click(lambda _: self.refresh())
            top = widgets.HBox([self._head, play, refresh, self._status])
            top.layout.align_items = "center"
            top.layout.gap = "8px"
            self._widget = widgets.VBox([top, self._html])
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
            self._head.value = heading(self.headline(), self.colour())
            self._html.value = self._body_html()
        self.publish()

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
