"""Event source mappings: matched to what exists by function and stream, updated in place.

Mappings of the lab's functions that the step does not want are removed, and so are
duplicates of a wanted mapping (two mappings on one stream would count everything twice) and
mappings left on a table's previous stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..plan import Call, Capture, Ref
from ..resources import EventSourceMapping
from ..state import FunctionState, MappingState
from .context import Context
from .functions import every_function
from .tables import TableDecision
from .waits import NO_PERMISSION_YET, STREAM_NOT_READABLE, mapping_gone, mapping_ready


def table_of_stream(arn: str) -> str | None:
    """``arn:aws:dynamodb:r:a:table/T/stream/label`` -> ``T``."""
    if ":dynamodb:" not in arn or "/stream/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0]


def kinesis_name(arn: str) -> str | None:
    if ":kinesis:" not in arn or ":stream/" not in arn:
        return None
    return arn.split(":stream/", 1)[1]


@dataclass
class MappingWork:
    removals: list[tuple[MappingState, str]] = field(default_factory=list)
    updates: list[tuple[EventSourceMapping, MappingState]] = field(default_factory=list)
    creations: list[EventSourceMapping] = field(default_factory=list)


def decide(
    ctx: Context,
    tables: Mapping[str, TableDecision],
    functions: Mapping[str, FunctionState | None],
) -> MappingWork:
    work = MappingWork()
    wanted = {m.key: m for m in ctx.desired.mappings}
    changing_streams = {name for name, d in tables.items() if d.stream_changes}
    for function in every_function(ctx):
        if functions.get(function.name) is None:
            existing: tuple[MappingState, ...] = ()
        else:
            existing = ctx.reader.mappings(function.name)
        matched: set[tuple[str, Any]] = set()
        for state in sorted(existing, key=lambda s: (s.state != "Enabled", s.uuid)):
            mapping = _match(ctx, function.name, state, wanted)
            if mapping is None:
                work.removals.append((state, "the step does not use it"))
                continue
            table = table_of_stream(state.source_arn)
            if table is not None and table in changing_streams:
                work.removals.append((state, f"{table}'s stream is replaced"))
                continue
            if table is not None and state.source_arn != ctx.stream_arns.get(table):
                work.removals.append((state, f"it reads an old stream of {table}"))
                continue
            if mapping.key in matched:
                work.removals.append((state, "it duplicates another mapping on that stream"))
                continue
            matched.add(mapping.key)
            if _differs(mapping, state):
                work.updates.append((mapping, state))
        for key, mapping in wanted.items():
            if key[0] == function.name and key not in matched:
                work.creations.append(mapping)
    return work


def _match(
    ctx: Context,
    function: str,
    state: MappingState,
    wanted: Mapping[tuple[str, Any], EventSourceMapping],
) -> EventSourceMapping | None:
    table = table_of_stream(state.source_arn)
    stream = kinesis_name(state.source_arn)
    for (name, source), mapping in wanted.items():
        if name != function:
            continue
        if source.kind == "dynamodb" and table == source.name:
            return mapping
        if (
            source.kind == "kinesis"
            and stream == source.name
            and state.source_arn == ctx.env.kinesis_stream_arn(source.name)
        ):
            return mapping
    return None


def _source_arn(ctx: Context, mapping: EventSourceMapping) -> str | Ref | None:
    if mapping.source.kind == "kinesis":
        return ctx.env.kinesis_stream_arn(mapping.source.name)
    return ctx.stream_arns.get(mapping.source.name)


# ----- removals ----------------------------------------------------------------------------
def remove(ctx: Context, work: MappingWork) -> None:
    for state, reason in work.removals:
        source = table_of_stream(state.source_arn) or kinesis_name(state.source_arn) or "?"
        ctx.add(
            Call(
                "lambda",
                "delete_event_source_mapping",
                {"UUID": state.uuid},
                f"Remove the mapping {source} -> {state.function_name} ({reason})",
                f"mapping {state.uuid}",
                wait=mapping_gone(state.uuid),
                tolerate=("ResourceNotFoundException",),
            )
        )


# ----- creations and updates -----------------------------------------------------------------
def ensure(ctx: Context, work: MappingWork) -> None:
    for mapping, state in work.updates:
        ctx.add(
            Call(
                "lambda",
                "update_event_source_mapping",
                {"UUID": state.uuid, **_settings(mapping), "Enabled": True},
                f"Update the {mapping.label} ({_summary(mapping)})",
                mapping.label,
                wait=mapping_ready(state.uuid),
                retry=(STREAM_NOT_READABLE, NO_PERMISSION_YET),
            )
        )
    for mapping in work.creations:
        source = _source_arn(ctx, mapping)
        if source is None:
            ctx.notes.append(
                f"{mapping.label} needs a stream on {mapping.source.name}, which the step "
                "does not have; skipped."
            )
            continue
        uuid = Ref(f"mapping:{mapping.function}:{mapping.source.name}")
        ctx.add(
            Call(
                "lambda",
                "create_event_source_mapping",
                {
                    "FunctionName": mapping.function,
                    "EventSourceArn": source,
                    "StartingPosition": mapping.starting_position,
                    "Enabled": True,
                    **_settings(mapping),
                },
                f"Connect {mapping.source.describe()} to {mapping.function} ({_summary(mapping)})",
                mapping.label,
                capture=(Capture(uuid.name, ("UUID",)),),
                wait=mapping_ready(uuid),
                retry=(STREAM_NOT_READABLE, NO_PERMISSION_YET),
            )
        )


def _settings(mapping: EventSourceMapping) -> dict[str, Any]:
    return {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "ParallelizationFactor": mapping.parallelization_factor,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts,
        "BisectBatchOnFunctionError": mapping.bisect_on_error,
    }


def _summary(mapping: EventSourceMapping) -> str:
    parts = [f"batch size {mapping.batch_size}"]
    if mapping.maximum_batching_window:
        parts.append(f"window {mapping.maximum_batching_window} s")
    if mapping.parallelization_factor != 1:
        parts.append(f"parallelization {mapping.parallelization_factor}")
    parts.append(mapping.starting_position)
    return ", ".join(parts)


def _differs(mapping: EventSourceMapping, state: MappingState) -> bool:
    return (
        state.state not in {"Enabled", "Enabling", "Creating", "Updating"}
        or state.batch_size != mapping.batch_size
        or state.maximum_batching_window != mapping.maximum_batching_window
        or state.parallelization_factor != mapping.parallelization_factor
        or state.maximum_retry_attempts != mapping.maximum_retry_attempts
        or state.bisect_on_error != mapping.bisect_on_error
    )
