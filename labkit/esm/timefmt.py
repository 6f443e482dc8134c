"""ISO-8601 renderings of epoch seconds, as AWS writes them in events and records."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_seconds(epoch: float) -> str:
    """``2019-11-14T00:13:19Z``."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(epoch: float) -> str:
    """``2019-11-14T00:13:49.717Z``."""
    millis = round(epoch * 1000)
    seconds, remainder = divmod(millis, 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{remainder:03d}Z"
