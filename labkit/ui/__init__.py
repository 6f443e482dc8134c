"""What learners see: check reports, the scoreboard, a logs viewer and progress.

Every view shows as a live widget in a notebook (ipywidgets), as HTML where widgets do not
render, and as text in a terminal. Views update widget values only; nothing here prints from a
background thread.
"""

from __future__ import annotations

from .html import money
from .logs import LogLine, LogsView, read_log_lines
from .progress import ProgressView
from .scoreboard import RoundsPlayed, ScoreboardView
from .steps import Deployed, StepChange
from .svg import Point, score_chart
from .widgets import View, in_kernel, widgets_available

__all__ = [
    "Deployed",
    "LogLine",
    "LogsView",
    "Point",
    "ProgressView",
    "RoundsPlayed",
    "ScoreboardView",
    "StepChange",
    "View",
    "in_kernel",
    "money",
    "read_log_lines",
    "score_chart",
    "widgets_available",
]
