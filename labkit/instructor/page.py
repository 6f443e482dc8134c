"""The instructor's page, rendered on the server: the grid, the room, the leaderboard.

Everything a participant sent is escaped here (names, item labels, shared code), so a name such
as ``<img src=x onerror=alert(1)>`` shows as text. The page needs no build step: one inline
script listens to ``/room/events`` (server-sent events), swaps in the rows that changed and keeps
the clocks ("time on step", "last seen") and the "stuck" marks ticking between updates.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from html import escape
from importlib import resources
from urllib.parse import quote

from .state import VISIBILITIES, RoomState, Row
from .store import Event

__all__ = ["code_text", "events_csv", "grid_csv", "page", "panels", "row_html"]

_MARKS = {"none": "", "started": "…", "failing": "✗", "done": "✓", "solved": "✓ solve"}


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def row_html(state: RoomState, row: Row) -> str:
    step_index = state.step_ids.index(row.current) if row.current in state.step_ids else 99
    attributes = {
        "id": f"p-{row.id}",
        "data-id": row.id,
        "data-name": row.name.lower(),
        "data-since": f"{row.since:.3f}",
        "data-seen": f"{row.last_seen:.3f}",
        "data-repeat": row.repeat,
        "data-step": step_index,
        "data-points": row.points,
        "data-ev": row.last_event,
        "class": "revoked" if row.revoked else "",
    }
    cells = [
        f'<td class="name">{esc(row.name)}</td>',
        f'<td class="cur">{esc(row.current or "finished")}</td>',
        '<td class="since"></td><td class="seen"></td>',
    ]
    for step in state.step_ids:
        cell = row.cells.get(step)
        if cell is None or cell.status == "none":
            cells.append('<td class="cell none" title="not started"></td>')
            continue
        parts = [_MARKS[cell.status]]
        title = cell.status
        if cell.status == "failing":
            first = cell.failing[0] if cell.failing else "check failed"
            parts.append(f'<span class="item">{esc(first)}</span>')
            title = "failing: " + "; ".join(cell.failing)
            if cell.same_failure > 1:
                parts.append(f'<span class="rep">×{cell.same_failure}</span>')
        if cell.hint_tier:
            parts.append(f'<span class="tier">H{cell.hint_tier}</span>')
        cells.append(f'<td class="cell {cell.status}" title="{esc(title)}">{" ".join(parts)}</td>')
    actions = ""
    if row.shared:
        actions += f'<button class="act code" data-act="code" data-id="{row.id}">code</button> '
    if not row.revoked:
        actions += f'<button class="act" data-act="revoke" data-id="{row.id}">revoke</button>'
    cells.append(f'<td class="actions">{actions}</td>')
    attrs = " ".join(f'{k}="{esc(v)}"' for k, v in attributes.items())
    return f"<tr {attrs}>{''.join(cells)}</tr>"


def _room_html(state: RoomState) -> str:
    failing = state.failing_items()
    if failing:
        items = "".join(
            f'<li><span class="count">{n}</span> {esc(step)}: {esc(label)}</li>'
            for step, label, n in failing
        )
        top = f"<ol class='failing'>{items}</ol>"
    else:
        top = "<p class='quiet'>Nothing is failing right now.</p>"
    histogram = state.histogram()
    widest = max((n for _, n in histogram), default=0) or 1
    marker = state.broadcast.step if state.broadcast else ""
    bars = "".join(
        f'<div class="bar{" marker" if step == marker else ""}"><span class="label">'
        f"{esc(step)}</span><span class='fill' style='width:{100 * n / widest:.0f}%'></span>"
        f'<span class="n">{n}</span></div>'
        for step, n in histogram
    )
    return f"<h3>Failing most now</h3>{top}<h3>Where the room is</h3>{bars}"


def _board_html(state: RoomState, role: str) -> str:
    visibility = state.settings.leaderboard
    if role != "instructor" and visibility == "instructor":
        return "<p class='quiet'>The leaderboard is for the instructor only.</p>"
    real = role == "instructor" or visibility == "everyone"
    rows = "".join(
        f"<tr><td>{n}</td><td>{esc(name)}</td><td class='pts'>{points}</td></tr>"
        for n, (_, name, points) in enumerate(state.leaderboard(real_names=real)[:20], start=1)
    )
    note = f"<p class='quiet'>Shown to: {esc(visibility)}</p>"
    return (
        f"<table class='board'><tr><th>#</th><th>name</th><th>points</th></tr>{rows}</table>{note}"
    )


def _message_html(state: RoomState) -> str:
    message = state.broadcast
    if message is None:
        return "<span class='quiet'>No message sent yet.</span>"
    step = f" <b>We are at {esc(message.step)}.</b>" if message.step else ""
    return f"<span class='msg'>{esc(message.text)}</span>{step}"


def panels(state: RoomState, role: str) -> dict[str, object]:
    """The room-wide parts of the page, for the first render and for each update."""
    return {
        "room": _room_html(state),
        "board": _board_html(state, role),
        "message": _message_html(state),
        "settings": state.settings.to_dict(),
        "count": len(state.active_rows()),
        "events": state.events,
    }


def page(
    state: RoomState, role: str, key: str, join_code: str, now: float, *, stream: str, nonce: str
) -> str:
    """The whole page; ``stream`` is the URL of its event stream, ``nonce`` its scripts'."""
    readonly = role != "instructor"
    headers = "".join(
        f'<th class="stepcol" title="{esc(title)}">{esc(step)}</th>' for step, title in state.steps
    )
    rows = "".join(row_html(state, row) for row in state.rows.values())
    first = panels(state, role)
    step_options = "".join(
        f'<option value="{esc(s)}">{esc(s)} — {esc(t)}</option>' for s, t in state.steps
    )
    visibility = "".join(
        f'<option value="{v}"{" selected" if v == state.settings.leaderboard else ""}>{v}</option>'
        for v in VISIBILITIES
    )
    settings = state.settings
    controls = (
        ""
        if readonly
        else f"""
<section class="controls">
  <form id="broadcast"><input name="text" maxlength="500" placeholder="Message to the room">
    <select name="step"><option value="">(no step marker)</option>{step_options}</select>
    <button>Send</button></form>
  <form id="settings">Stuck after <input name="stuck_minutes" type="number" min="0.1" step="0.1"
    value="{settings.stuck_minutes:g}"> min on a step or <input name="same_failure" type="number"
    min="1" value="{settings.same_failure}"> identical failures; leaderboard shown to
    <select name="leaderboard">{visibility}</select>; ask for code:
    <input name="code_request" maxlength="300" value="{esc(settings.code_request)}"
    placeholder="(not asking)"> <button>Save</button></form>
</section>"""
    )
    config = json.dumps(
        {
            "key": key,
            "readonly": readonly,
            "now": now,
            "settings": settings.to_dict(),
            "stream": stream,
        }
    ).replace("<", "\\u003c")
    query = f"key={quote(key)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>labkit room {esc(join_code)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head>
<body class="{"readonly" if readonly else "instructor"}">
<header><h1>labkit room <code>{esc(join_code)}</code></h1>
<span id="who">{esc(role)} view{" (read-only)" if readonly else ""}</span>
<span id="live" class="off">connecting…</span>
<span><a href="/export/grid.csv?{query}">grid.csv</a> ·
<a href="/export/events.csv?{query}">events.csv</a></span>
</header>
<p id="message">{first["message"]}</p>
{controls}
<main>
<section class="gridbox"><table id="grid"><thead><tr>
<th data-sort="name">participant</th><th data-sort="step">on step</th>
<th data-sort="since">time on step</th><th data-sort="seen">last seen</th>{headers}
<th data-sort="stuck">⚑ stuck first</th></tr></thead>
<tbody>{rows}</tbody></table>
<p class="quiet"><span id="count">{first["count"]}</span> participants,
<span id="events">{first["events"]}</span> events.</p></section>
<aside><div id="room">{first["room"]}</div>
<h3>Leaderboard</h3><div id="board">{first["board"]}</div></aside>
</main>
<dialog id="code"><pre></pre><button onclick="this.parentNode.close()">close</button></dialog>
<script id="config" type="application/json">{config}</script>
<script nonce="{nonce}">{_SCRIPT}</script>
</body></html>"""


def grid_csv(state: RoomState, now: float) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["participant", "name", "on_step", "seconds_on_step", "last_seen", "stuck", "points"]
        + [f"{s}" for s in state.step_ids]
    )
    for row in state.rows.values():
        cells = []
        for step in state.step_ids:
            cell = row.cells.get(step)
            text = "" if cell is None or cell.status == "none" else cell.status
            if cell is not None and cell.status == "failing":
                text += ": " + "; ".join(cell.failing)
            if cell is not None and cell.hint_tier:
                text += f" (hint {cell.hint_tier})"
            cells.append(_csv_safe(text))
        writer.writerow(
            [
                row.id,
                _csv_safe(row.name),
                row.current or "finished",
                round(now - row.since),
                round(row.last_seen),
                "yes" if state.stuck(row, now) else "",
                row.points,
                *cells,
            ]
        )
    return out.getvalue()


def events_csv(state: RoomState, events: Iterable[Event]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["seq", "participant", "name", "event_id", "kind", "step", "at", "received", "data"]
    )
    for e in events:
        row = state.rows.get(e.participant)
        name = row.name if row else ""
        data = json.dumps(e.data, separators=(",", ":"))
        writer.writerow(
            [
                e.seq,
                e.participant,
                _csv_safe(name),
                e.event_id,
                e.kind,
                e.step,
                e.at,
                e.received,
                _csv_safe(data),
            ]
        )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def code_text(row: Row) -> str:
    """What a participant shared, as plain text (the page shows it with textContent)."""
    parts = [f"# {item['label']}\n{item['text']}" for item in row.shared]
    return "\n\n".join(parts) or "Nothing shared."


def _asset(name: str) -> str:
    return (resources.files("labkit.instructor") / "static" / name).read_text()


_CSS = _asset("page.css")
_SCRIPT = _asset("page.js")
