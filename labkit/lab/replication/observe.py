"""Looking at the replication from outside: how many records a stream holds, and how long a
write in logfile takes to show up in the replica.

Both use plain boto3, so they work on the local cloud and on AWS alike.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ClientFactory = Callable[[str], Any]


def _shards(streams: Any, stream_arn: str) -> list[str]:
    shards: list[str] = []
    start: dict[str, Any] = {}
    while True:
        described = streams.describe_stream(StreamArn=stream_arn, **start)["StreamDescription"]
        shards.extend(shard["ShardId"] for shard in described.get("Shards", []))
        last = described.get("LastEvaluatedShardId")
        if not last:
            return shards
        start = {"ExclusiveStartShardId": last}


@dataclass(frozen=True)
class StreamMark:
    """A place in a stream: where each of its shards ends now."""

    stream_arn: str
    iterators: dict[str, str]


def mark_stream(streams: Any, stream_arn: str) -> StreamMark:
    """Remember where the stream ends now (``streams`` is a boto3 ``dynamodbstreams`` client)."""
    iterators = {
        shard: streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST"
        )["ShardIterator"]
        for shard in _shards(streams, stream_arn)
    }
    return StreamMark(stream_arn, iterators)


def records_since(streams: Any, mark: StreamMark) -> int:
    """How many records the stream got after ``mark`` (in its shards then, and in any shard
    that opened since)."""
    total = 0
    for shard in _shards(streams, mark.stream_arn):
        iterator = mark.iterators.get(shard) or streams.get_shard_iterator(
            StreamArn=mark.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            total += len(records)
            if not records:
                break  # caught up with this shard (an open shard never ends)
            iterator = page.get("NextShardIterator")
    return total


@dataclass
class LagReport:
    """Replication lag of a sample of writes: seconds from ``put_item`` returning in logfile to
    the item being readable in the replica."""

    lags: list[float] = field(default_factory=list)
    missing: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.lags) if self.lags else float("nan")

    @property
    def worst(self) -> float:
        return max(self.lags) if self.lags else float("nan")

    def __str__(self) -> str:
        if not self.lags:
            return "Replication lag: nothing was measured (no sampled item reached the replica)."
        text = (
            f"Replication lag over {len(self.lags)} sampled writes: median "
            f"{self.median * 1000:.0f} ms, worst {self.worst * 1000:.0f} ms"
        )
        return text + (f"; {self.missing} never arrived." if self.missing else ".")

    def __repr__(self) -> str:
        return str(self)

    def chart(self) -> Any:
        """A small matplotlib chart of the lag of each sampled write, in write order."""
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(6, 2.4))
        axes.plot([lag * 1000 for lag in self.lags], marker=".", linewidth=0.8)
        axes.axhline(self.median * 1000, linestyle="--", linewidth=0.8, label="median")
        axes.set_xlabel("sampled write (in load order)")
        axes.set_ylabel("lag (ms)")
        axes.set_title("logfile → replica")
        axes.legend(loc="upper right")
        figure.tight_layout()
        plt.close(figure)
        return figure


class LagWatch:
    """Measures replication lag while a load runs.

    Pass :meth:`written` as the loader's ``on_write``: every ``every``-th write is sampled, and
    a background thread reads the sampled items from the replica until each appears (it looks
    again after ``poll`` seconds). :meth:`finish` waits for the samples still outstanding (at
    most ``timeout`` seconds) and returns a :class:`LagReport`. Nothing is ever printed.
    """

    def __init__(
        self,
        dynamodb: Any,
        replica: str,
        *,
        every: int = 20,
        poll: float = 0.02,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = dynamodb
        self._replica = replica
        self._every = max(1, every)
        self._poll = poll
        self._clock = clock
        self._sleep = sleep
        self._count = 0
        self._pending: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._report = LagReport()
        self._stop = threading.Event()
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._watch, name="labkit-lag", daemon=True)
        self._thread.start()

    def written(self, key: str, at: float) -> None:
        """The loader wrote ``key`` at time ``at``."""
        self._count += 1
        if self._count % self._every == 0:
            with self._lock:
                self._pending.append((key, at))

    def _arrived(self, key: str) -> bool:
        found = self._client.get_item(TableName=self._replica, Key={"PK": {"S": key}})
        return "Item" in found

    def _watch(self) -> None:
        while True:
            with self._lock:
                head = self._pending[0] if self._pending else None
            if head is None:
                if self._stop.is_set():
                    return
                self._sleep(self._poll)
                continue
            key, written_at = head
            if self._arrived(key):
                self._report.lags.append(self._clock() - written_at)
                with self._lock:
                    self._pending.pop(0)
                continue
            if self._deadline is not None and self._clock() > self._deadline:
                with self._lock:
                    self._report.missing += len(self._pending)
                    self._pending.clear()
                return
            self._sleep(self._poll)

    def finish(self, timeout: float = 60.0) -> LagReport:
        """Wait for the outstanding samples (up to ``timeout`` s) and return the report."""
        self._deadline = self._clock() + timeout
        self._stop.set()
        self._thread.join(timeout + 5)
        return self._report
