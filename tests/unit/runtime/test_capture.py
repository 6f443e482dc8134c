"""Splitting a worker's raw output into per-invocation log lines."""

from __future__ import annotations

from labkit.runtime.capture import MAX_EVENT_BYTES, OutputCollector
from labkit.runtime.protocol import output_marker

MARKER = output_marker("feedface")


def collector(limit: int = 1024) -> OutputCollector:
    return OutputCollector(MARKER, lambda: 1_800_000_000.5, limit=limit)


def test_lines_before_the_marker_belong_to_the_phase() -> None:
    """Bytes up to the marker become lines; bytes after it are kept for the next phase."""
    out = collector()
    assert not out.feed(b"one\ntw")
    assert out.feed(b"o\n" + MARKER + b"next")
    assert [line.message for line in out.finish()] == ["one", "two"]
    assert out.rest == b"next"
    assert out.lines[0].timestamp_ms == 1_800_000_000_500


def test_marker_split_across_reads_is_found() -> None:
    """A marker arriving in several pieces is still recognised."""
    out = collector()
    data = b"hello\n" + MARKER + b"after"
    for i in range(len(data)):
        out.feed(data[i : i + 1])
    assert out.complete
    assert [line.message for line in out.finish()] == ["hello"]
    assert out.rest == b"after"


def test_unterminated_last_line_is_kept() -> None:
    """Output without a final newline still becomes a line."""
    out = collector()
    out.feed(b"partial" + MARKER)
    assert [line.message for line in out.finish()] == ["partial"]


def test_cr_marks_a_multiline_record() -> None:
    """A CR inside a line (a multi-line logging record) becomes a newline; CRLF endings drop."""
    out = collector()
    out.feed(b"[ERROR] boom\rTraceback\r  File x\nwindows\r\n" + MARKER)
    assert [line.message for line in out.finish()] == [
        "[ERROR] boom\nTraceback\n  File x",
        "windows",
    ]


def test_output_over_the_limit_is_dropped_with_a_note() -> None:
    """Past the limit, bytes are counted and dropped, and a final note says so."""
    out = collector(limit=10)
    out.feed(b"0123456789abcdef\nmore\n")
    out.feed(MARKER)
    lines = [line.message for line in out.finish()]
    assert lines[0] == "0123456789"
    assert lines[1] == (
        "[labkit] output truncated: this invocation wrote more than 10 bytes; 12 bytes were dropped"
    )


def test_very_long_lines_are_split_into_events() -> None:
    """A line longer than a CloudWatch event is split into several lines."""
    out = collector(limit=1024 * 1024)
    out.feed(b"y" * (MAX_EVENT_BYTES + 5) + b"\n" + MARKER)
    assert [len(line.message) for line in out.finish()] == [MAX_EVENT_BYTES, 5]


def test_invalid_utf8_is_replaced() -> None:
    """Bytes that are not UTF-8 do not break decoding."""
    out = collector()
    out.feed(b"caf\xe9\n" + MARKER)
    assert out.finish()[0].message == "caf\ufffd"
