"""A logs viewer: a function's CloudWatch Logs, newest first, with a filter box.

It reads ``/aws/lambda/NAME`` with plain boto3 (the same calls work on AWS): the most recently
written log streams, their last events, merged and sorted newest first. The filter keeps lines
that contain the text (case-insensitive), so ``lab.logs("ReduceLambda", filter="error")``
shows the failures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .html import GREY, INK, RED, box, esc, heading
from .widgets import LiveView, widgets_available

if TYPE_CHECKING:
    from labkit.session import Lab

STREAMS_TO_READ = 10
#: How many of the newest lines the filter box searches as the learner types.
LINES_TO_FILTER = 1000
ERROR_WORDS = ("error", "exception", "traceback", "task timed out", "denied")


@dataclass(frozen=True)
class LogLine:
    timestamp: int  # milliseconds since the epoch
    message: str
    stream: str

    @property
    def when(self) -> str:
        seconds = self.timestamp / 1000
        return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{self.timestamp % 1000:03d}"

    @property
    def looks_bad(self) -> bool:
        lowered = self.message.lower()
        return any(word in lowered for word in ERROR_WORDS)


def read_log_lines(logs: Any, group: str, limit: int = 50, contains: str = "") -> list[LogLine]:
    """The newest ``limit`` lines of ``group`` containing ``contains``, newest first."""
    try:
        streams = logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", descending=True, limit=STREAMS_TO_READ
        ).get("logStreams", [])
    except Exception as error:
        if "ResourceNotFound" in type(error).__name__ or "ResourceNotFound" in str(error):
            return []
        raise
    needle = contains.lower()
    lines: list[LogLine] = []
    for stream in streams:
        name = stream["logStreamName"]
        events = logs.get_log_events(
            logGroupName=group, logStreamName=name, startFromHead=False, limit=10_000
        ).get("events", [])
        for event in events:
            message = str(event.get("message", "")).rstrip("\n")
            if needle and needle not in message.lower():
                continue
            lines.append(LogLine(int(event.get("timestamp", 0)), message, name))
    # Newest first; lines of the same millisecond keep their order, reversed with the rest.
    ordered = sorted(enumerate(lines), key=lambda pair: (pair[1].timestamp, pair[0]))
    return [line for _, line in reversed(ordered)][:limit]


class LogsView(LiveView):
    """The newest log lines of one function; ``.refresh()`` reads them again.

    The filter box narrows the lines as the learner types (over the last lines read);
    ``refresh()`` reads the log group again and stores the view in the saved output.
    """

    def __init__(self, lab: Lab, function: str, limit: int = 50, filter: str = "") -> None:
        self._lab = lab
        self.function = function
        self.group = f"/aws/lambda/{function}"
        self.limit = limit
        self.filter = filter
        self.lines: list[LogLine] = []
        self._read: list[LogLine] = []
        self.error = ""
        self._widget: Any = None
        self._html: Any = None
        self.refresh()

    def refresh(self, filter: str | None = None) -> LogsView:
        """Read the log group again (with a new ``filter`` if given)."""
        if filter is not None:
            self.filter = filter
        try:
            logs = self._lab.workshop.client("logs")
            self._read = read_log_lines(logs, self.group, max(self.limit, LINES_TO_FILTER))
            self.error = ""
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"[:300]
        self._narrow()
        self.publish()
        return self

    def _narrow(self) -> None:
        needle = self.filter.lower()
        self.lines = [line for line in self._read if needle in line.message.lower()][: self.limit]
        if self._html is not None:
            self._html.value = self.html()

    def _typed(self, text: str) -> None:
        self.filter = text
        self._narrow()

    def errors(self) -> list[LogLine]:
        """The lines that look like failures."""
        return [line for line in self.lines if line.looks_bad]

    def headline(self) -> str:
        where = f" containing {self.filter!r}" if self.filter else ""
        if not self.lines:
            return f"{self.group}: no log lines{where} yet."
        return f"{self.group}: the newest {len(self.lines)} line(s){where}, newest first"

    def text(self) -> str:
        out = [self.headline()]
        if self.error:
            out.append(f"✗ {self.error}")
        out.extend(f"{line.when}  {line.message}" for line in self.lines)
        return "\n".join(out)

    def html(self) -> str:
        parts = [heading(self.headline())]
        if self.error:
            parts.append(f'<div style="color:{RED}">✗ {esc(self.error)}</div>')
        if self.lines:
            rows = []
            for line in self.lines:
                colour = RED if line.looks_bad else INK
                rows.append(
                    f'<tr><td style="color:{GREY};padding-right:10px;vertical-align:top;'
                    f'white-space:nowrap">{esc(line.when)}</td>'
                    f'<td style="color:{colour};white-space:pre-wrap;font-family:monospace;'
                    f'font-size:12px">{esc(line.message)}</td></tr>'
                )
            parts.append(
                '<div style="max-height:360px;overflow-y:auto"><table style="border-collapse:'
                f'collapse">{"".join(rows)}</table></div>'
            )
        return box("".join(parts))

    def widget(self) -> Any:
        if self._widget is None and widgets_available():
            import ipywidgets as widgets

            self._html = widgets.HTML(value=self.html())
            box_ = widgets.Text(
                value=self.filter,
                placeholder="filter, e.g. error",
                description="Filter:",
                continuous_update=True,
            )
            refresh = widgets.Button(description="Refresh", icon="refresh")
            box_.observe(lambda change: self._typed(str(change["new"])), names="value")
            refresh.on_click(lambda _: self.refresh())
            self._widget = widgets.VBox([widgets.HBox([box_, refresh]), self._html])
        return self._widget
