"""The logs viewer: newest first, filtered, and calm about a missing log group."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from labkit.ui.logs import LogsView, read_log_lines

from .conftest import FakeLab


class ResourceNotFoundException(Exception):
    pass


class Logs:
    def __init__(self, streams: dict[str, list[tuple[int, str]]] | None) -> None:
        self.streams = streams

    def describe_log_streams(self, **_: Any) -> dict[str, Any]:
        if self.streams is None:
            raise ResourceNotFoundException("The specified log group does not exist.")
        return {"logStreams": [{"logStreamName": name} for name in self.streams]}

    def get_log_events(self, logStreamName: str, **_: Any) -> dict[str, Any]:
        assert self.streams is not None
        events = self.streams[logStreamName]
        return {"events": [{"timestamp": t, "message": m} for t, m in events]}


LOGS = {
    "a": [(1000, "START RequestId: 1"), (1005, "ERROR boom"), (1005, "END RequestId: 1")],
    "b": [(2000, "START RequestId: 2"), (2001, "Skipped 3 of 40 messages")],
}


def test_newest_first_across_streams() -> None:
    """Lines from every stream come newest first; lines of one millisecond stay in order."""
    lines = read_log_lines(Logs(LOGS), "/aws/lambda/F")
    assert [line.message for line in lines] == [
        "Skipped 3 of 40 messages",
        "START RequestId: 2",
        "END RequestId: 1",
        "ERROR boom",
        "START RequestId: 1",
    ]


def test_filter_is_case_insensitive_and_limit_applies() -> None:
    """The filter keeps matching lines only; the limit keeps the newest."""
    assert [line.message for line in read_log_lines(Logs(LOGS), "g", contains="error")] == [
        "ERROR boom"
    ]
    assert len(read_log_lines(Logs(LOGS), "g", limit=2)) == 2


def test_missing_log_group_means_no_lines(tmp_path: Path) -> None:
    """A function that never ran has no log group yet: the view says 'no log lines'."""
    lab = FakeLab(tmp_path)
    lab.workshop.logs = Logs(None)
    view = LogsView(cast(Any, lab), "ReduceLambda")
    assert view.lines == [] and "no log lines" in view.text()


def test_errors_are_highlighted(tmp_path: Path) -> None:
    """Lines that look like failures are listed by errors() and coloured red."""
    lab = FakeLab(tmp_path)
    lab.workshop.logs = Logs(LOGS)
    view = LogsView(cast(Any, lab), "F")
    assert [line.message for line in view.errors()] == ["ERROR boom"]
    assert "#cf222e" in view.html()
    assert view.refresh(filter="skipped").lines[0].message.startswith("Skipped")
