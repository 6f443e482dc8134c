"""Small HTML building blocks shared by every view: boxes, marks and tables.

Everything here returns strings with inline styles only (no CSS classes, no scripts), so the
output looks the same in JupyterLab, in a static HTML export and in a GitHub preview.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labkit.checks.report import Report

GREEN = "#1a7f37"
RED = "#cf222e"
AMBER = "#9a6700"
GREY = "#57606a"
INK = "#1f2328"
PAPER = "#f6f8fa"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px"

MARK_COLOURS = {"✓": GREEN, "✗": RED, "!": AMBER, "·": GREY}


def money(value: object) -> str:
    """An amount as the scoreboard shows it: ``1,234.50``, ``12.50``, ``7`` (whole and small)."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if amount != amount.to_integral_value() or abs(amount) >= 1000:
        return f"{amount:,.2f}"
    return str(amount.quantize(Decimal(1)))


def esc(text: object) -> str:
    return html.escape(str(text))


def box(body: str, colour: str = GREY) -> str:
    """A block with a coloured bar on the left."""
    return (
        f'<div style="{FONT};border-left:4px solid {colour};padding:8px 12px;margin:4px 0;'
        f'background:{PAPER};color:{INK}">{body}</div>'
    )


def heading(text: str, colour: str = INK) -> str:
    return f'<div style="font-weight:600;color:{colour};margin-bottom:4px">{esc(text)}</div>'


def mark(symbol: str) -> str:
    colour = MARK_COLOURS.get(symbol, INK)
    return (
        f'<span style="color:{colour};font-weight:700;display:inline-block;width:1.4em">'
        f"{esc(symbol)}</span>"
    )


def code(text: str) -> str:
    return (
        '<code style="background:#eaeef2;padding:0 3px;border-radius:3px;'
        f'font-size:13px">{esc(text)}</code>'
    )


def folded(summary: str, body: str, *, open_: bool = False) -> str:
    """A block that shows ``summary`` and unfolds to ``body`` when clicked."""
    state = " open" if open_ else ""
    return (
        f'<details{state} style="margin:4px 0"><summary style="cursor:pointer;color:{GREY}">'
        f"{esc(summary)}</summary>{body}</details>"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    align: Sequence[str] | None = None,
    colours: Sequence[str | None] | None = None,
) -> str:
    """A compact table. ``align`` per column ("left"/"right"); ``colours`` per row."""
    aligns = list(align or ["left"] * len(headers))
    cell = "padding:2px 10px;border-bottom:1px solid #d0d7de"
    out = [f'<table style="border-collapse:collapse;{FONT};font-size:13px;margin:4px 0">', "<tr>"]
    for name, where in zip(headers, aligns, strict=False):
        out.append(f'<th style="{cell};text-align:{where};color:{GREY}">{esc(name)}</th>')
    out.append("</tr>")
    for index, row in enumerate(rows):
        colour = colours[index] if colours is not None and index < len(colours) else None
        style = f";color:{colour}" if colour else ""
        out.append("<tr>")
        for value, where in zip(row, aligns, strict=False):
            out.append(f'<td style="{cell};text-align:{where}{style}">{esc(value)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The same table as plain text, columns padded."""
    body = [[str(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip() for row in body
    )
    return "\n".join(lines)


def report_html(report: Report) -> str:
    """A check report: headline, then one line per item with its hint underneath."""
    colour = GREEN if report.passed else RED
    parts = [heading(report.headline(), colour), '<ul style="list-style:none;margin:0;padding:0">']
    for item in report.items:
        text = esc(item.label) + (f": {esc(item.detail)}" if item.detail else "")
        parts.append(f'<li style="margin:2px 0 4px 0">{mark(item.status.mark)}<span>{text}</span>')
        if item.hint:
            parts.append(f'<div style="margin-left:1.4em;color:{GREY}">→ {esc(item.hint)}</div>')
        parts.append("</li>")
    parts.append("</ul>")
    for attachment in report.attachments:
        render = getattr(attachment, "_repr_html_", None)
        parts.append(render() if callable(render) else f"<pre>{esc(attachment)}</pre>")
    return box("".join(parts), colour)
