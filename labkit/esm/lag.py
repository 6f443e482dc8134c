"""How far a mapping is behind its stream, and a learner-readable account of it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit.esm.mapping import MappingRunner
from labkit.esm.ports import StartPosition
from labkit.esm.shard import MAX_RECORDS_PER_READ


@dataclass
class ShardLag:
    """A shard whose checkpoint is below its latest record."""

    shard_id: str
    checkpoint: str | None
    latest: str
    records_behind: int | None = None
    oldest_waiting_s: float | None = None


@dataclass
class MappingLag:
    """A mapping that is not idle: shards behind, batches in flight, or paused."""

    uuid: str
    function_arn: str
    event_source_arn: str
    shards: list[ShardLag] = field(default_factory=list)
    in_flight: int = 0
    paused: bool = False
    last_error: str | None = None
    last_retry_count: int = 0
    source_errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (for ``IdleTimeout.behind``)."""
        return dataclasses.asdict(self)


def measure(runner: MappingRunner) -> MappingLag | None:
    """None when the mapping is caught up with every shard and has nothing in flight."""
    checkpoints = runner.checkpoints()
    lag = MappingLag(
        uuid=runner.config.uuid,
        function_arn=runner.config.function_arn,
        event_source_arn=runner.config.event_source_arn,
        in_flight=runner.in_flight,
        paused=runner.paused,
    )
    for shard in runner.source.shards():
        latest = runner.source.latest_sequence_number(shard.shard_id)
        checkpoint = checkpoints.get(shard.shard_id)
        if latest is not None and (checkpoint is None or int(checkpoint) < int(latest)):
            lag.shards.append(ShardLag(shard.shard_id, checkpoint, latest))
    if not lag.shards and not lag.in_flight:
        return None
    return lag


def enrich(runner: MappingRunner, lag: MappingLag, now: float) -> None:
    """Add record counts, waiting times and the last error (costs a read per shard)."""
    stats = runner.stats()
    lag.source_errors = dict(stats["source_errors"])
    for entry in reversed(stats["recent"]):
        if entry["outcome"] in ("error", "partial", "discarded"):
            lag.last_error = f"{entry['error_type'] or entry['outcome']}: {entry['error_message']}"
            lag.last_retry_count = int(entry["retry_count"])
            break
        if entry["outcome"] == "ok":
            break
    position: StartPosition = "TRIM_HORIZON"
    if runner.config.starting_position == "AT_TIMESTAMP":
        position = "AT_TIMESTAMP"
    for shard in lag.shards:
        try:
            waiting = runner.source.read(
                shard.shard_id,
                after=shard.checkpoint,
                position=position,
                timestamp=runner.config.starting_position_timestamp,
                limit=MAX_RECORDS_PER_READ,
            )
        except Exception:
            continue
        shard.records_behind = len(waiting)
        if waiting:
            shard.oldest_waiting_s = max(now - waiting[0].approximate_arrival, 0.0)


def _function_name(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[6:]) if len(parts) > 6 else arn


def describe(lags: Sequence[MappingLag], *, waited: float, started: bool) -> str:
    """A message for ``IdleTimeout`` that names each mapping still behind and how far."""
    if not started:
        head = "The event source mapping engine is not running, so these mappings cannot catch up:"
    elif lags and all(lag.paused for lag in lags):
        head = "Event source mappings are paused and cannot catch up:"
    else:
        head = f"Event source mappings did not catch up within {waited:.1f} s:"
    lines = [head]
    for lag in lags:
        lines.append(
            f"- mapping {lag.uuid} (function {_function_name(lag.function_arn)}, "
            f"source {lag.event_source_arn}):"
        )
        for shard in lag.shards:
            if shard.records_behind is None:
                count = "records"
            elif shard.records_behind >= MAX_RECORDS_PER_READ:
                count = f"at least {shard.records_behind} records"
            else:
                count = f"{shard.records_behind} record(s)"
            detail = f"    shard {shard.shard_id}: {count} not yet processed"
            detail += f" (checkpoint {shard.checkpoint or 'none'}, latest {shard.latest})"
            if shard.oldest_waiting_s is not None:
                detail += f"; the oldest has waited {shard.oldest_waiting_s:.1f} s"
            lines.append(detail)
        if lag.in_flight and not lag.paused:
            lines.append(f"    {lag.in_flight} batch(es) in progress")
        if lag.paused:
            lines.append(
                "    paused: the function's reserved concurrency is 0, so it cannot run. "
                "Raise it (put_function_concurrency) or remove it "
                "(delete_function_concurrency); nothing is lost meanwhile."
            )
        if lag.last_error:
            lines.append(
                f"    the last invocation failed with {lag.last_error} "
                f"(retry {lag.last_retry_count}); the batch is retried until it succeeds, "
                "its retries run out or its records get too old"
            )
        for shard_id, error in lag.source_errors.items():
            lines.append(f"    reading the stream failed ({shard_id}): {error}")
    return "\n".join(lines)
