"""Event source mappings: matched to what exists by function and stream, updated in place.

Mappings of the lab's functions that the step does not want are removed, and so are
duplicates of a wanted mapping (two mappings on one stream would count everything twice) and
mappings left on a table's previous stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..plan import Call, Capture, Change, Ref
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
    removals: list[tuple[MappingState, str, Change]] = field(default_factory=list)
    updates: list[tuple[EventSourceMapping, MappingState]] = field(default_factory=list)
    creations: list[tuple[EventSourceMapping, Change]] = field(default_factory=list)


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
        replaced: set[tuple[str, Any]] = set()
        for state in sorted(existing, key=lambda s: (s.state != "Enabled", s.uuid)):
            mapping = _match(ctx, function.name, state, wanted)
            if mapping is None:
                work.removals.append((state, "the step does not use it", "remove"))
                continue
            table = table_of_stream(state.source_arn)
            replacement = None
            if table is not None and table in changing_streams:
                replacement = f"{table}'s stream is replaced"
            elif table is not None and state.source_arn != ctx.stream_arns.get(table):
                replacement = f"it reads an old stream of {table}"
            elif mapping.key not in matched and _position_differs(mapping, state):
                replacement = (
                    f"it starts at {state.starting_position}, the step needs "
                    f"{mapping.starting_position}"
                )
            if replacement is not None:
                work.removals.append((state, replacement, "replace"))
                replaced.add(mapping.key)
                continue
            if mapping.key in matched:
                work.removals.append(
                    (state, "it duplicates another mapping on that stream", "remove")
                )
                continue
            matched.add(mapping.key)
            if _differences(ctx, mapping, state):
                work.updates.append((mapping, state))
        for key, mapping in wanted.items():
            if key[0] == function.name and key not in matched:
                work.creations.append((mapping, "replace" if key in replaced else "create"))
    return work


def _position_differs(mapping: EventSourceMapping, state: MappingState) -> bool:
    """A mapping's starting position cannot be changed, only set by creating it again."""
    return state.starting_position is not None and state.starting_position != (
        mapping.starting_position
    )


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
    for state, reason, change in work.removals:
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
                change=change,
            )
        )


# ----- creations and updates -----------------------------------------------------------------
def ensure(ctx: Context, work: MappingWork) -> None:
    for mapping, state in work.updates:
        differences = _differences(ctx, mapping, state)
        ctx.add(
            Call(
                "lambda",
                "update_event_source_mapping",
                {"UUID": state.uuid, **_update_settings(ctx, mapping, differences)},
                f"Update the {mapping.label} ({', '.join(differences)})",
                mapping.label,
                wait=mapping_ready(state.uuid),
                retry=RETRIES,
                change="update",
            )
        )
    for mapping, change in work.creations:
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
                    "Enabled": mapping.enabled,
                    **_create_settings(ctx, mapping),
                },
                f"Connect {mapping.source.describe()} to {mapping.function} "
                f"({summary(ctx, mapping)})",
                mapping.label,
                capture=(Capture(uuid.name, ("UUID",)),),
                wait=mapping_ready(uuid),
                retry=RETRIES,
                change=change,
            )
        )


RETRIES = (STREAM_NOT_READABLE, NO_PERMISSION_YET)


# ----- settings ----------------------------------------------------------------------------
def _base_settings(mapping: EventSourceMapping) -> dict[str, Any]:
    return {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "ParallelizationFactor": mapping.parallelization_factor,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts,
        "BisectBatchOnFunctionError": mapping.bisect_on_error,
    }


def _response_types(mapping: EventSourceMapping) -> list[str]:
    return ["ReportBatchItemFailures"] if mapping.report_batch_item_failures else []


def _destination(ctx: Context, mapping: EventSourceMapping) -> str | None:
    return None if mapping.on_failure is None else mapping.on_failure.arn(ctx.env)


def _create_settings(ctx: Context, mapping: EventSourceMapping) -> dict[str, Any]:
    """The settings of a new mapping: the main five, then any other option that is set."""
    settings = _base_settings(mapping)
    if mapping.maximum_record_age != -1:
        settings["MaximumRecordAgeInSeconds"] = mapping.maximum_record_age
    if mapping.tumbling_window:
        settings["TumblingWindowInSeconds"] = mapping.tumbling_window
    if mapping.report_batch_item_failures:
        settings["FunctionResponseTypes"] = _response_types(mapping)
    destination = _destination(ctx, mapping)
    if destination is not None:
        settings["DestinationConfig"] = {"OnFailure": {"Destination": destination}}
    if mapping.filters:
        settings["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in mapping.filters]}
    return settings


def _update_settings(
    ctx: Context, mapping: EventSourceMapping, differences: list[str]
) -> dict[str, Any]:
    """Every option with its wanted value (an option left out would keep its old value);
    the on-failure destination and filters only when they change."""
    settings = _base_settings(mapping)
    settings["Enabled"] = mapping.enabled
    settings["MaximumRecordAgeInSeconds"] = mapping.maximum_record_age
    settings["TumblingWindowInSeconds"] = mapping.tumbling_window
    settings["FunctionResponseTypes"] = _response_types(mapping)
    if "on-failure destination" in differences:
        destination = _destination(ctx, mapping)
        settings["DestinationConfig"] = {
            "OnFailure": {} if destination is None else {"Destination": destination}
        }
    if "filters" in differences:
        settings["FilterCriteria"] = (
            {"Filters": [{"Pattern": p} for p in mapping.filters]} if mapping.filters else {}
        )
    return settings


def _patterns(patterns: tuple[str, ...]) -> list[Any]:
    parsed: list[Any] = []
    for pattern in patterns:
        try:
            parsed.append(json.loads(pattern))
        except ValueError:
            parsed.append(pattern)
    return sorted(parsed, key=lambda p: json.dumps(p, sort_keys=True))


ACTIVE = {"Enabled", "Enabling", "Creating", "Updating"}
INACTIVE = {"Disabled", "Disabling"}


def _differences(ctx: Context, mapping: EventSourceMapping, state: MappingState) -> list[str]:
    """What differs between the wanted mapping and the existing one, in words."""
    found: list[str] = []
    if state.state not in (ACTIVE if mapping.enabled else INACTIVE):
        found.append("enabled" if mapping.enabled else "disabled")
    compared = (
        ("batch size", state.batch_size, mapping.batch_size),
        ("batching window", state.maximum_batching_window, mapping.maximum_batching_window),
        ("parallelization", state.parallelization_factor, mapping.parallelization_factor),
        ("retry attempts", state.maximum_retry_attempts, mapping.maximum_retry_attempts),
        ("bisect on error", state.bisect_on_error, mapping.bisect_on_error),
        ("maximum record age", state.maximum_record_age, mapping.maximum_record_age),
        ("tumbling window", state.tumbling_window, mapping.tumbling_window),
        (
            "partial batch responses",
            "ReportBatchItemFailures" in state.function_response_types,
            mapping.report_batch_item_failures,
        ),
        ("on-failure destination", state.on_failure, _destination(ctx, mapping)),
        ("filters", _patterns(state.filters), _patterns(mapping.filters)),
    )
    found.extend(name for name, current, wanted in compared if current != wanted)
    return found


def summary(ctx: Context, mapping: EventSourceMapping) -> str:
    """The mapping's settings in words: what a dry run shows."""
    parts = [f"batch size {mapping.batch_size}"]
    if mapping.maximum_batching_window:
        parts.append(f"window {mapping.maximum_batching_window} s")
    if mapping.parallelization_factor != 1:
        parts.append(f"parallelization {mapping.parallelization_factor}")
    if mapping.maximum_retry_attempts != -1:
        parts.append(f"{mapping.maximum_retry_attempts} retries")
    if mapping.maximum_record_age != -1:
        parts.append(f"records up to {mapping.maximum_record_age} s old")
    if mapping.bisect_on_error:
        parts.append("bisect on error")
    if mapping.report_batch_item_failures:
        parts.append("partial batch responses")
    if mapping.on_failure is not None:
        parts.append(f"failures to {mapping.on_failure.describe()}")
    if mapping.tumbling_window:
        parts.append(f"tumbling window {mapping.tumbling_window} s")
    if mapping.filters:
        parts.append(f"{len(mapping.filters)} filter(s)")
    if not mapping.enabled:
        parts.append("disabled")
    parts.append(mapping.starting_position)
    return ", ".join(parts)
