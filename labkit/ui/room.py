"""The learner's view of an instructor-led room: who you are, the instructor's message, the
step the room is at, what is waiting to be sent (and the leaderboard when the instructor shares
it).

``lab.join(...)`` returns it and ``lab.room()`` shows it again. In a notebook the widget updates
itself whenever the background sender gets the server's reply (only widget values change; nothing
is printed); as text or static HTML it shows the state when it was made.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .html import AMBER, GREEN, GREY, RED, box, code, esc, heading
from .widgets import View, widgets_available

if TYPE_CHECKING:
    from labkit.instructor.learner import Membership


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def room_lines(status: dict[str, Any] | None) -> list[str]:
    """The room in plain lines (``labkit status`` prints these)."""
    if status is None:
        return []
    lines = [f"room      {status['code']} at {status['server']}, joined as {status['name']}"]
    if status["closed"]:
        lines.append(f"room      closed: {status['closed']}")
    waiting = status["waiting"]
    contact = status["last_contact"]
    seen = f"last reply {_ago(time.time() - contact)} ago" if contact else "no reply yet"
    lines.append(
        f"room      {waiting} event{'s' if waiting != 1 else ''} waiting to be sent, {seen}"
    )
    if status["last_error"]:
        lines.append(f"room      sending is retrying: {status['last_error']}")
    message = status.get("message")
    if message:
        if message.get("text"):
            lines.append(f"message   from the instructor: {message['text']}")
        if message.get("step"):
            lines.append(f"marker    the room is at {message['step']}")
    if status.get("code_request"):
        lines.append(
            f"request   the instructor asks for code: {status['code_request']} "
            "(to agree: lab.share_code(path_or_text))"
        )
    board = status.get("leaderboard")
    if board:
        top = ", ".join(f"{entry['name']} {entry['points']}" for entry in board[:5])
        lines.append(f"board     {top}")
    return lines


def room_html(status: dict[str, Any] | None) -> str:
    if status is None:
        return box(heading('Not in a room. Join with lab.join("ROOM-CODE", name=...).', GREY))
    colour = RED if status["closed"] else GREEN
    parts = [heading(f"Room {status['code']} — you are {status['name']}", colour)]
    message = status.get("message")
    if message and message.get("text"):
        parts.append(
            f'<div class="labkit-room-message" style="font-size:15px;margin:4px 0">'
            f"📣 {esc(message['text'])}</div>"
        )
    if message and message.get("step"):
        parts.append(f"<div>The room is at {code(message['step'])}.</div>")
    if status["closed"]:
        parts.append(f'<div style="color:{RED}">{esc(status["closed"])}</div>')
    elif status["last_error"]:
        parts.append(
            f'<div style="color:{AMBER}">Waiting for the server ({status["waiting"]} to send); '
            "your work is safe and will be sent when it is back.</div>"
        )
    if status.get("code_request"):
        how = code('lab.share_code(path_or_text, label="...")')
        parts.append(
            f"<div>The instructor asks: {esc(status['code_request'])} — to share: {how}</div>"
        )
    board = status.get("leaderboard")
    if board:
        rows = ", ".join(f"{esc(e['name'])} {e['points']}" for e in board[:5])
        parts.append(f'<div style="color:{GREY}">Leaderboard: {rows}</div>')
    return box("".join(parts), colour)


class RoomView(View):
    """Live in a notebook: updated by the sender's replies, never by printing."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self._widget: Any = None

    def text(self) -> str:
        return "\n".join(room_lines(self.membership.status())) or (
            'Not in a room. Join with lab.join("ROOM-CODE", name=...).'
        )

    def html(self) -> str:
        return room_html(self.membership.status())

    def widget(self) -> Any:
        if not widgets_available():
            return None
        if self._widget is None:
            import ipywidgets

            self._widget = ipywidgets.HTML(self.html())
            self.membership.listeners.append(self._refresh)
        return self._widget

    def _refresh(self, news: dict[str, Any]) -> None:
        if self._widget is not None:
            self._widget.value = self.html()
