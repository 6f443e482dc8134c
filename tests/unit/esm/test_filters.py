"""FilterCriteria: matching records are delivered, others skipped with the checkpoint moving."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from labkit.esm import EsmApiError, MappingConfig
from labkit.esm.filters import RecordFilter
from labkit.esm.testing import DDB_STREAM_ARN

from .conftest import Harness


def criteria(*patterns: object) -> dict[str, object]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_only_matching_records_are_delivered(harness: Harness) -> None:
    """Records matching no pattern are skipped and the checkpoint still reaches the last one."""
    inserts = [
        harness.source.put({"id": {"S": "a"}}, new_image={"id": {"S": "a"}}).sequence_number,
        harness.source.put({"id": {"S": "b"}}, new_image={"id": {"S": "b"}}).sequence_number,
    ]
    last = harness.source.put(
        {"id": {"S": "a"}}, old_image={"id": {"S": "a"}}, event_name="REMOVE"
    ).sequence_number
    uuid = harness.create(FilterCriteria=criteria({"eventName": ["INSERT"]}))
    harness.engine.wait_idle(5)
    assert harness.delivered() == inserts
    stats = harness.engine.stats()[uuid]
    assert stats["counters"]["records_filtered"] == 1
    assert stats["shards"][harness.source.shards()[0].shard_id]["checkpoint"] == last


def test_filters_are_ored_and_match_inside_images(harness: Harness) -> None:
    """Several filters are OR'ed; patterns can reach into DynamoDB images."""
    active = harness.source.put(
        {"id": {"S": "1"}}, new_image={"id": {"S": "1"}, "status": {"S": "active"}}
    ).sequence_number
    harness.source.put({"id": {"S": "2"}}, new_image={"id": {"S": "2"}, "status": {"S": "idle"}})
    removed = harness.source.put(
        {"id": {"S": "3"}}, old_image={"id": {"S": "3"}}, event_name="REMOVE"
    ).sequence_number
    harness.create(
        FilterCriteria=criteria(
            {"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}},
            {"eventName": ["REMOVE"]},
        )
    )
    harness.engine.wait_idle(5)
    assert harness.delivered() == [active, removed]


def test_all_records_filtered_out_still_catch_up(harness: Harness) -> None:
    """When nothing matches, nothing is invoked and the mapping is still idle."""
    harness.put(4)
    harness.create(FilterCriteria=criteria({"eventName": ["MODIFY"]}))
    harness.engine.wait_idle(5)
    assert harness.invoker.calls == []


def test_kinesis_data_is_matched_as_json(make_harness: Callable[..., Harness]) -> None:
    """For Kinesis, patterns on ``data`` match the decoded JSON payload."""
    harness = make_harness(kind="kinesis")
    trade = harness.source.put_data("p1", {"kind": "trade"}).sequence_number
    harness.source.put_data("p1", {"kind": "quote"})
    harness.engine.create(
        {
            "EventSourceArn": harness.source.arn,
            "FunctionName": "fn",
            "StartingPosition": "TRIM_HORIZON",
            "FilterCriteria": criteria({"data": {"kind": ["trade"]}}),
        },
        harness.source,
    )
    harness.engine.wait_idle(5)
    assert harness.delivered() == [trade]


@pytest.mark.parametrize(
    "pattern",
    ["not json", "[1, 2]", '{"eventName": "INSERT"}', '{"eventName": []}', ""],
    ids=["not JSON", "not an object", "scalar value", "empty array", "empty"],
)
def test_invalid_patterns_are_rejected_at_create(pattern: str) -> None:
    """An invalid pattern is an InvalidParameterValueException when the mapping is created."""
    body = {
        "EventSourceArn": DDB_STREAM_ARN,
        "FunctionName": "fn",
        "StartingPosition": "LATEST",
        "FilterCriteria": {"Filters": [{"Pattern": pattern}]},
    }
    with pytest.raises(EsmApiError) as caught:
        MappingConfig.from_create_request(body)
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == "Invalid filter pattern definition."


def test_at_most_five_filters() -> None:
    """Six filters are rejected."""
    body = {
        "EventSourceArn": DDB_STREAM_ARN,
        "FunctionName": "fn",
        "StartingPosition": "LATEST",
        "FilterCriteria": criteria(*({"eventName": [f"E{i}"]} for i in range(6))),
    }
    with pytest.raises(EsmApiError) as caught:
        MappingConfig.from_create_request(body)
    assert caught.value.code == "InvalidParameterValueException"


def test_record_filter_without_patterns_matches_everything() -> None:
    """An empty filter lets every record through."""
    assert RecordFilter([]).matches({"eventName": "MODIFY"})
