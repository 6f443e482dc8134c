"""Every stream option of an event source mapping is created, compared and updated in place;
a new starting position means a new mapping."""

from __future__ import annotations

import dataclasses

import pytest

from labkit.deploy.planner import plan_stack
from labkit.deploy.resources import EventSourceMapping, Stack, Target, filter_pattern

from .conftest import ENV, reader_for, small_stack

QUEUE = Target("sqs", "failures")
POISON = filter_pattern({"dynamodb": {"NewImage": {"kind": {"S": ["poison"]}}}})


def hardened(mapping: EventSourceMapping) -> EventSourceMapping:
    return dataclasses.replace(
        mapping,
        maximum_retry_attempts=2,
        maximum_record_age=60,
        bisect_on_error=True,
        report_batch_item_failures=True,
        on_failure=QUEUE,
        tumbling_window=30,
        parallelization_factor=2,
        maximum_batching_window=1,
        filters=(POISON,),
    )


def stack_with(mapping: EventSourceMapping) -> Stack:
    return dataclasses.replace(small_stack(), mappings=(mapping,))


BASE = small_stack().mappings[0]


def test_new_mapping_carries_every_option() -> None:
    """A new mapping is created with each option that is set, the destination as an ARN."""
    stack = stack_with(hardened(BASE))
    bare = dataclasses.replace(stack, mappings=())
    plan = plan_stack(stack, reader_for(bare))
    assert [c.api for c in plan] == ["lambda.create_event_source_mapping"]
    params = plan.calls[0].params
    assert params["MaximumRetryAttempts"] == 2
    assert params["MaximumRecordAgeInSeconds"] == 60
    assert params["BisectBatchOnFunctionError"] is True
    assert params["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert params["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE.arn(ENV)}}
    assert params["TumblingWindowInSeconds"] == 30
    assert params["ParallelizationFactor"] == 2
    assert params["MaximumBatchingWindowInSeconds"] == 1
    assert params["FilterCriteria"] == {"Filters": [{"Pattern": POISON}]}
    assert params["StartingPosition"] == "TRIM_HORIZON"
    assert "2 retries" in plan.calls[0].description
    assert "failures to queue failures" in plan.calls[0].description


def test_default_mapping_leaves_unset_options_out() -> None:
    """Options at their defaults are not sent when creating (AWS's defaults apply)."""
    plan = plan_stack(stack_with(BASE), reader_for(dataclasses.replace(small_stack(), mappings=())))
    params = plan.calls[0].params
    for absent in ("DestinationConfig", "FilterCriteria", "FunctionResponseTypes"):
        assert absent not in params


def test_second_plan_with_every_option_is_empty() -> None:
    """A mapping that already has every option set as wanted needs no call."""
    stack = stack_with(hardened(BASE))
    assert plan_stack(stack, reader_for(stack)).empty


@pytest.mark.parametrize(
    ("change", "key", "value", "words"),
    [
        ({"maximum_retry_attempts": 5}, "MaximumRetryAttempts", 5, "retry attempts"),
        ({"maximum_record_age": 120}, "MaximumRecordAgeInSeconds", 120, "maximum record age"),
        ({"bisect_on_error": False}, "BisectBatchOnFunctionError", False, "bisect"),
        ({"report_batch_item_failures": False}, "FunctionResponseTypes", [], "partial batch"),
        ({"tumbling_window": 0}, "TumblingWindowInSeconds", 0, "tumbling window"),
        ({"parallelization_factor": 1}, "ParallelizationFactor", 1, "parallelization"),
        ({"maximum_batching_window": 5}, "MaximumBatchingWindowInSeconds", 5, "batching window"),
        ({"on_failure": None}, "DestinationConfig", {"OnFailure": {}}, "on-failure"),
        ({"filters": ()}, "FilterCriteria", {}, "filters"),
        ({"enabled": False}, "Enabled", False, "disabled"),
    ],
)
def test_each_changed_option_is_updated_in_place(
    change: dict[str, object], key: str, value: object, words: str
) -> None:
    """One option that differs is one update_event_source_mapping on the same UUID that
    names it; a removed destination or filter is cleared explicitly."""
    current = stack_with(hardened(BASE))
    wanted = stack_with(dataclasses.replace(hardened(BASE), **change))  # type: ignore[arg-type]
    plan = plan_stack(wanted, reader_for(current))
    assert [c.api for c in plan] == ["lambda.update_event_source_mapping"]
    call = plan.calls[0]
    assert call.params["UUID"] == "uuid-0"
    assert call.params[key] == value
    assert words in call.description
    assert call.change == "update"


def test_new_destination_is_set_on_update() -> None:
    """A destination added to an existing mapping is sent as its ARN."""
    wanted = stack_with(dataclasses.replace(BASE, on_failure=Target("sns", "alerts")))
    plan = plan_stack(wanted, reader_for(stack_with(BASE)))
    assert plan.calls[0].params["DestinationConfig"] == {
        "OnFailure": {"Destination": ENV.topic_arn("alerts")}
    }


def test_filters_compare_as_patterns_not_text() -> None:
    """The same filter pattern written with other spacing or key order is not a change."""
    current = stack_with(dataclasses.replace(BASE, filters=('{"b": [1], "a": ["x"]}',)))
    wanted = stack_with(dataclasses.replace(BASE, filters=('{"a":["x"],"b":[1]}',)))
    assert plan_stack(wanted, reader_for(current)).empty


def test_another_starting_position_recreates_the_mapping() -> None:
    """A starting position cannot be updated: the mapping is deleted and created again."""
    latest = dataclasses.replace(BASE, starting_position="LATEST")
    plan = plan_stack(stack_with(BASE), reader_for(stack_with(latest)))
    assert [c.api for c in plan] == [
        "lambda.delete_event_source_mapping",
        "lambda.create_event_source_mapping",
    ]
    assert "starts at LATEST" in plan.calls[0].description
    assert {c.change for c in plan} == {"replace"}
    assert plan.calls[1].params["StartingPosition"] == "TRIM_HORIZON"
