"""Mapping configuration: AWS's defaults, ranges, error codes and messages, API shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from labkit.esm import EsmApiError, MappingConfig
from labkit.esm.testing import DDB_STREAM_ARN, FUNCTION_ARN, KINESIS_STREAM_ARN

from .conftest import DLQ_ARN, Harness


def create(**members: Any) -> MappingConfig:
    body = {"EventSourceArn": DDB_STREAM_ARN, "FunctionName": "fn", "StartingPosition": "LATEST"}
    body.update(members)
    return MappingConfig.from_create_request(body, uuid="u-1", now=1560209851.963)


def error_of(**members: Any) -> EsmApiError:
    with pytest.raises(EsmApiError) as caught:
        create(**members)
    return caught.value


def test_defaults_match_aws() -> None:
    """A minimal create request gets AWS's defaults in the exact API response shape."""
    assert create().to_api(state="Creating") == {
        "UUID": "u-1",
        "StartingPosition": "LATEST",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": DDB_STREAM_ARN,
        "FunctionArn": FUNCTION_ARN,
        "LastModified": 1560209851.963,
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "DestinationConfig": {},
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
        "FunctionResponseTypes": [],
        "EventSourceMappingArn": "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1",
    }


def test_every_setting_round_trips_to_the_api() -> None:
    """Every accepted member shows up in the API response as given."""
    api = create(
        BatchSize=500,
        MaximumBatchingWindowInSeconds=5,
        ParallelizationFactor=4,
        MaximumRetryAttempts=2,
        MaximumRecordAgeInSeconds=3600,
        BisectBatchOnFunctionError=True,
        TumblingWindowInSeconds=120,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}},
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
        Enabled=False,
    ).to_api(state="Disabled")
    assert api["BatchSize"] == 500
    assert api["MaximumBatchingWindowInSeconds"] == 5
    assert api["ParallelizationFactor"] == 4
    assert api["MaximumRetryAttempts"] == 2
    assert api["MaximumRecordAgeInSeconds"] == 3600
    assert api["BisectBatchOnFunctionError"] is True
    assert api["TumblingWindowInSeconds"] == 120
    assert api["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert api["DestinationConfig"] == {"OnFailure": {"Destination": DLQ_ARN}}
    assert api["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    assert api["State"] == "Disabled"


@pytest.mark.parametrize(
    ("member", "value", "label", "constraint"),
    [
        ("BatchSize", 0, "batchSize", "greater than or equal to 1"),
        ("BatchSize", 10001, "batchSize", "less than or equal to 10000"),
        (
            "MaximumBatchingWindowInSeconds",
            -1,
            "maximumBatchingWindowInSeconds",
            "greater than or equal to 0",
        ),
        (
            "MaximumBatchingWindowInSeconds",
            301,
            "maximumBatchingWindowInSeconds",
            "less than or equal to 300",
        ),
        ("ParallelizationFactor", 0, "parallelizationFactor", "greater than or equal to 1"),
        ("ParallelizationFactor", 11, "parallelizationFactor", "less than or equal to 10"),
        ("MaximumRetryAttempts", -2, "maximumRetryAttempts", "greater than or equal to -1"),
        ("MaximumRetryAttempts", 10001, "maximumRetryAttempts", "less than or equal to 10000"),
        (
            "MaximumRecordAgeInSeconds",
            -2,
            "maximumRecordAgeInSeconds",
            "greater than or equal to -1",
        ),
        (
            "MaximumRecordAgeInSeconds",
            604801,
            "maximumRecordAgeInSeconds",
            "less than or equal to 604800",
        ),
        ("TumblingWindowInSeconds", -1, "tumblingWindowInSeconds", "greater than or equal to 0"),
        ("TumblingWindowInSeconds", 901, "tumblingWindowInSeconds", "less than or equal to 900"),
    ],
)
def test_out_of_range_values_raise_validation_exception(
    member: str, value: int, label: str, constraint: str
) -> None:
    """A value outside the model's range is a ValidationException in AWS's wording."""
    error = error_of(**{member: value})
    assert (error.code, error.status) == ("ValidationException", 400)
    assert error.message == (
        f"1 validation error detected: Value '{value}' at '{label}' failed to satisfy "
        f"constraint: Member must have value {constraint}"
    )


def test_several_violations_are_reported_together() -> None:
    """Several model violations make one message, counted and joined with '; '."""
    error = error_of(BatchSize=0, ParallelizationFactor=11)
    assert error.message == (
        "2 validation errors detected: "
        "Value '0' at 'batchSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value '11' at 'parallelizationFactor' failed to satisfy constraint: "
        "Member must have value less than or equal to 10"
    )


@pytest.mark.parametrize("age", [0, 59])
def test_record_age_between_zero_and_sixty_is_invalid(age: int) -> None:
    """MaximumRecordAgeInSeconds must be -1 or at least 60 (InvalidParameterValueException)."""
    error = error_of(MaximumRecordAgeInSeconds=age)
    assert error.code == "InvalidParameterValueException"
    assert "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800" in error.message


@pytest.mark.parametrize("age", [-1, 60, 604800])
def test_record_age_limits_are_accepted(age: int) -> None:
    """-1, 60 and 604800 are all valid record ages."""
    assert create(MaximumRecordAgeInSeconds=age).maximum_record_age_in_seconds == age


def test_starting_position_is_required_for_streams() -> None:
    """A stream mapping without StartingPosition is rejected as AWS does."""
    body = {"EventSourceArn": DDB_STREAM_ARN, "FunctionName": "fn"}
    with pytest.raises(EsmApiError) as caught:
        MappingConfig.from_create_request(body)
    assert caught.value.code == "InvalidParameterValueException"
    assert caught.value.message == (
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null."
    )


def test_unknown_starting_position_is_a_validation_error() -> None:
    """StartingPosition must be one of the enum values."""
    error = error_of(StartingPosition="OLDEST")
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value 'OLDEST' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
    )


def test_at_timestamp_is_for_kinesis_only() -> None:
    """AT_TIMESTAMP is rejected for DynamoDB streams and accepted for Kinesis."""
    error = error_of(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1.0)
    assert error.code == "InvalidParameterValueException"
    assert error.message == f"Unsupported starting position for arn type: {DDB_STREAM_ARN}"
    config = MappingConfig.from_create_request(
        {
            "EventSourceArn": KINESIS_STREAM_ARN,
            "FunctionName": "fn",
            "StartingPosition": "AT_TIMESTAMP",
            "StartingPositionTimestamp": 1700000000,
        }
    )
    assert config.source_kind == "kinesis"
    assert config.to_api()["StartingPositionTimestamp"] == 1700000000.0


def test_function_response_types_must_be_known() -> None:
    """FunctionResponseTypes only accepts ReportBatchItemFailures."""
    error = error_of(FunctionResponseTypes=["ReportItemFailures"])
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value '[ReportItemFailures]' at 'functionResponseTypes' "
        "failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must satisfy enum value set: [ReportBatchItemFailures]]"
    )


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"OnSuccess": {"Destination": DLQ_ARN}}, "Unsupported DestinationConfig parameter"),
        (
            {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:123456789012:function:x"}},
            "The provided destination config",
        ),
    ],
)
def test_bad_destinations_are_rejected(config: dict[str, Any], fragment: str) -> None:
    """Only an SQS queue or SNS topic can be an on-failure destination of a stream."""
    error = error_of(DestinationConfig=config)
    assert error.code == "InvalidParameterValueException"
    assert fragment in error.message


def test_unsupported_event_source_is_rejected() -> None:
    """An ARN that is neither a DynamoDB stream nor a Kinesis stream is rejected."""
    error = error_of(EventSourceArn="arn:aws:sns:us-east-1:123456789012:topic")
    assert error.code == "InvalidParameterValueException"
    assert error.message.startswith("Unrecognized event source")


def test_update_changes_only_what_is_given() -> None:
    """apply_update keeps unspecified settings, clears a destination with an empty OnFailure."""
    config = create(DestinationConfig={"OnFailure": {"Destination": DLQ_ARN}})
    updated = config.apply_update({"MaximumRetryAttempts": 2}, now=5.0)
    assert (updated.maximum_retry_attempts, updated.on_failure_destination) == (2, DLQ_ARN)
    assert updated.last_modified == 5.0
    assert updated.starting_position == "LATEST"
    cleared = updated.apply_update({"DestinationConfig": {"OnFailure": {}}})
    assert cleared.on_failure_destination is None
    with pytest.raises(EsmApiError) as caught:
        config.apply_update({"BatchSize": 0})
    assert caught.value.code == "ValidationException"


def test_unknown_uuid_is_resource_not_found(harness: Harness) -> None:
    """Get, Update and Delete of an unknown UUID raise ResourceNotFoundException (404)."""
    calls: list[Callable[[], object]] = [
        lambda: harness.engine.get("nope"),
        lambda: harness.engine.update("nope", {"BatchSize": 5}),
        lambda: harness.engine.remove("nope"),
    ]
    for call in calls:
        with pytest.raises(EsmApiError) as caught:
            call()
        assert (caught.value.code, caught.value.status) == ("ResourceNotFoundException", 404)
        assert caught.value.message == "The resource you requested does not exist."


def test_duplicate_mapping_is_a_conflict(harness: Harness) -> None:
    """A second mapping of the same function and stream raises ResourceConflictException."""
    first = harness.create()
    with pytest.raises(EsmApiError) as caught:
        harness.create(BatchSize=10)
    assert (caught.value.code, caught.value.status) == ("ResourceConflictException", 409)
    assert caught.value.message == (
        f'An event source mapping with DynamoDB arn (" {DDB_STREAM_ARN} ") and function '
        f'(" fn ") already exists. Please update or delete the existing mapping with UUID {first}'
    )


def test_api_states_follow_the_lifecycle(harness: Harness) -> None:
    """Create says Creating, updates say Updating/Disabling/Enabling, delete says Deleting."""
    body = {
        "EventSourceArn": harness.source.arn,
        "FunctionName": "fn",
        "StartingPosition": "LATEST",
    }
    created = harness.engine.create(body, harness.source)
    uuid = created["UUID"]
    assert created["State"] == "Creating"
    assert harness.engine.get(uuid)["State"] == "Enabled"
    assert harness.engine.update(uuid, {"BatchSize": 7})["State"] == "Updating"
    assert harness.engine.update(uuid, {"Enabled": False})["State"] == "Disabling"
    assert harness.engine.get(uuid)["State"] == "Disabled"
    assert harness.engine.update(uuid, {"Enabled": True})["State"] == "Enabling"
    assert harness.engine.get(uuid)["BatchSize"] == 7
    assert [m["UUID"] for m in harness.engine.list(event_source_arn=harness.source.arn)] == [uuid]
    assert harness.engine.remove(uuid)["State"] == "Deleting"
    assert harness.engine.list() == []
