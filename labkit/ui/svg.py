"""A small SVG chart of the score over rounds, drawn by hand (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .html import GREEN, GREY, RED, esc


@dataclass(frozen=True)
class Point:
    """One round: its number, the total after it, and whether it was exact."""

    round: int
    total: int
    exact: bool
    wrong_keys: int = 0


def _nice_top(value: int) -> int:
    """The smallest of 100, 200, 500, 1000, 2000 … that is at least ``value``."""
    scale = 100
    while True:
        for factor in (1, 2, 5):
            if scale * factor >= value:
                return scale * factor
        scale *= 10


def score_chart(points: Sequence[Point], *, width: int = 520, height: int = 180) -> str:
    """The running total as a line, one dot per round: green if exact, red if not."""
    left, right, top, bottom = 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="score over rounds" '
        'style="font-family:system-ui,sans-serif;font-size:11px">'
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{GREY}">'
            "No rounds yet: play one to see the score here.</text></svg>"
        )
        return "".join(parts)
    y_max = _nice_top(max(max(p.total for p in points), 100))
    first, last = points[0].round, points[-1].round
    span = max(last - first, 1)

    def x(round_number: int) -> float:
        return left + (round_number - first) / span * plot_w if last != first else left + plot_w / 2

    def y(total: int) -> float:
        return top + plot_h - total / y_max * plot_h

    for tick in range(0, y_max + 1, max(y_max // 4, 1)):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{GREY}">'
            f"{tick}</text>"
        )
    path = " ".join(f"{x(p.round):.1f},{y(p.total):.1f}" for p in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{GREY}" stroke-width="1.5"/>')
    for p in points:
        colour = GREEN if p.exact else RED
        title = f"round {p.round}: total {p.total}" + (
            "" if p.exact else f", {p.wrong_keys} key(s) wrong"
        )
        parts.append(
            f'<circle cx="{x(p.round):.1f}" cy="{y(p.total):.1f}" r="4" fill="{colour}">'
            f"<title>{esc(title)}</title></circle>"
        )
    step = max(1, len(points) // 10)
    for p in points[::step]:
        parts.append(
            f'<text x="{x(p.round):.1f}" y="{height - 10}" text-anchor="middle" '
            f'fill="{GREY}">{p.round}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 1}" text-anchor="middle" fill="{GREY}">'
        "round</text></svg>"
    )
    return "".join(parts)
