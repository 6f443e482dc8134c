"""An event source mapping's configuration: AWS defaults, ranges and API representation."""

from __future__ import annotations

import dataclasses
import time
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from labkit.esm import validation as v
from labkit.esm.errors import invalid_parameter
from labkit.esm.filters import MAX_PATTERN_LENGTH, patterns_from_criteria
from labkit.esm.ports import SourceKind

MappingState = Literal[
    "Creating", "Enabling", "Enabled", "Disabling", "Disabled", "Updating", "Deleting"
]
NO_RECORDS = "No records processed"
RESULT_OK = "OK"
RESULT_PROBLEM = "PROBLEM: Function call failed"

DEFAULT_BATCH_SIZE = 100
STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
RESPONSE_TYPES = ("ReportBatchItemFailures",)
MIN_RECORD_AGE = 60
MAX_RECORD_AGE = 604800

_SERVICE_LABELS = {"dynamodb": "DynamoDB", "kinesis": "Kinesis"}


@dataclass(frozen=True)
class MappingConfig:
    """Everything CreateEventSourceMapping/UpdateEventSourceMapping can set, for a stream."""

    uuid: str
    event_source_arn: str
    function_arn: str
    source_kind: SourceKind
    starting_position: str
    starting_position_timestamp: float | None = None
    enabled: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE
    maximum_batching_window_in_seconds: int = 0
    parallelization_factor: int = 1
    on_failure_destination: str | None = None
    maximum_record_age_in_seconds: int = -1
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1
    tumbling_window_in_seconds: int = 0
    function_response_types: tuple[str, ...] = ()
    filter_patterns: tuple[str, ...] = ()
    last_modified: float = 0.0

    # -- derived -------------------------------------------------------------------------
    @property
    def region(self) -> str:
        """The region, taken from the event source ARN."""
        return _arn_parts(self.event_source_arn)[3]

    @property
    def account(self) -> str:
        """The account, taken from the event source ARN."""
        return _arn_parts(self.event_source_arn)[4]

    @property
    def mapping_arn(self) -> str:
        """``arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>``."""
        partition = _arn_parts(self.event_source_arn)[1]
        return (
            f"arn:{partition}:lambda:{self.region}:{self.account}:event-source-mapping:{self.uuid}"
        )

    @property
    def function_name(self) -> str:
        """The function's name (with its qualifier, if any) as AWS shows it in messages."""
        parts = self.function_arn.split(":")
        return ":".join(parts[6:]) if len(parts) > 6 else self.function_arn

    @property
    def report_batch_item_failures(self) -> bool:
        """True when FunctionResponseTypes contains ReportBatchItemFailures."""
        return "ReportBatchItemFailures" in self.function_response_types

    @property
    def service_label(self) -> str:
        """ "DynamoDB" or "Kinesis", as used in AWS's conflict message."""
        return _SERVICE_LABELS[self.source_kind]

    # -- API -----------------------------------------------------------------------------
    @classmethod
    def from_create_request(
        cls,
        body: Mapping[str, Any],
        *,
        function_arn: str | None = None,
        uuid: str | None = None,
        now: float | None = None,
    ) -> MappingConfig:
        """Validate a CreateEventSourceMapping body and apply AWS's defaults.

        ``function_arn`` is the resolved function ARN (the cloud knows the function); without
        it, it is derived from ``FunctionName`` and the source ARN's region and account.
        """
        problems = v.Problems()
        settings = _check_settings(problems, body)
        position = v.enum(
            problems, body, "StartingPosition", "startingPosition", STARTING_POSITIONS
        )
        if body.get("FunctionName") is None and function_arn is None:
            problems.add(None, "functionName", "Member must not be null")
        problems.raise_if_any()

        source_arn = body.get("EventSourceArn")
        kind = _source_kind(source_arn)
        assert isinstance(source_arn, str)
        if body.get("StartingPosition") is None:
            raise invalid_parameter(
                "1 validation error detected: Value null at 'startingPosition' failed to "
                "satisfy constraint: Member must not be null."
            )
        timestamp: float | None = None
        if position == "AT_TIMESTAMP":
            if kind == "dynamodb":
                raise invalid_parameter(f"Unsupported starting position for arn type: {source_arn}")
            timestamp = _timestamp(body.get("StartingPositionTimestamp"))
            if timestamp is None:
                raise invalid_parameter(
                    "StartingPositionTimestamp must be provided when StartingPosition is "
                    "AT_TIMESTAMP."
                )
        _check_semantics(settings, body)
        resolved_function = function_arn or _function_arn(str(body["FunctionName"]), source_arn)
        config = cls(
            uuid=uuid or str(uuid_module.uuid4()),
            event_source_arn=source_arn,
            function_arn=resolved_function,
            source_kind=kind,
            starting_position=str(position),
            starting_position_timestamp=timestamp,
            last_modified=time.time() if now is None else now,
        )
        return dataclasses.replace(config, **settings)

    def apply_update(
        self,
        body: Mapping[str, Any],
        *,
        function_arn: str | None = None,
        now: float | None = None,
    ) -> MappingConfig:
        """Validate an UpdateEventSourceMapping body and return the updated configuration.

        Members that UpdateEventSourceMapping does not accept (StartingPosition,
        EventSourceArn, ...) are ignored.
        """
        problems = v.Problems()
        settings = _check_settings(problems, body)
        problems.raise_if_any()
        _check_semantics(settings, body)
        if function_arn is not None:
            settings["function_arn"] = function_arn
        elif body.get("FunctionName"):
            settings["function_arn"] = _function_arn(
                str(body["FunctionName"]), self.event_source_arn
            )
        settings["last_modified"] = time.time() if now is None else now
        return dataclasses.replace(self, **settings)

    def to_api(
        self,
        *,
        state: MappingState = "Enabled",
        last_processing_result: str = NO_RECORDS,
        state_transition_reason: str = "User action",
    ) -> dict[str, Any]:
        """The mapping as Create/Get/Update/Delete/ListEventSourceMappings return it."""
        document: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": self.starting_position,
        }
        if self.starting_position_timestamp is not None:
            document["StartingPositionTimestamp"] = self.starting_position_timestamp
        document.update(
            {
                "BatchSize": self.batch_size,
                "MaximumBatchingWindowInSeconds": self.maximum_batching_window_in_seconds,
                "ParallelizationFactor": self.parallelization_factor,
                "EventSourceArn": self.event_source_arn,
            }
        )
        if self.filter_patterns:
            document["FilterCriteria"] = {
                "Filters": [{"Pattern": pattern} for pattern in self.filter_patterns]
            }
        destination: dict[str, Any] = {}
        if self.on_failure_destination:
            destination = {"OnFailure": {"Destination": self.on_failure_destination}}
        document.update(
            {
                "FunctionArn": self.function_arn,
                "LastModified": self.last_modified,
                "LastProcessingResult": last_processing_result,
                "State": state,
                "StateTransitionReason": state_transition_reason,
                "DestinationConfig": destination,
                "MaximumRecordAgeInSeconds": self.maximum_record_age_in_seconds,
                "BisectBatchOnFunctionError": self.bisect_batch_on_function_error,
                "MaximumRetryAttempts": self.maximum_retry_attempts,
                "TumblingWindowInSeconds": self.tumbling_window_in_seconds,
                "FunctionResponseTypes": list(self.function_response_types),
                "EventSourceMappingArn": self.mapping_arn,
            }
        )
        return document


# -- checks shared by create and update ------------------------------------------------------
def _check_settings(problems: v.Problems, body: Mapping[str, Any]) -> dict[str, Any]:
    """Model-level checks of the members both Create and Update accept.

    Returns the dataclass fields to set; semantic checks come later, in ``_check_semantics``.
    """
    settings: dict[str, Any] = {}
    numbers = (
        ("BatchSize", "batchSize", 1, 10000, "batch_size"),
        (
            "MaximumBatchingWindowInSeconds",
            "maximumBatchingWindowInSeconds",
            0,
            300,
            "maximum_batching_window_in_seconds",
        ),
        ("ParallelizationFactor", "parallelizationFactor", 1, 10, "parallelization_factor"),
        ("MaximumRetryAttempts", "maximumRetryAttempts", -1, 10000, "maximum_retry_attempts"),
        (
            "MaximumRecordAgeInSeconds",
            "maximumRecordAgeInSeconds",
            -1,
            MAX_RECORD_AGE,
            "maximum_record_age_in_seconds",
        ),
        (
            "TumblingWindowInSeconds",
            "tumblingWindowInSeconds",
            0,
            900,
            "tumbling_window_in_seconds",
        ),
    )
    for key, label, low, high, field in numbers:
        value = v.integer(problems, body, key, label, low, high)
        if value is not None:
            settings[field] = value
    enabled = v.boolean(problems, body, "Enabled", "enabled")
    if enabled is not None:
        settings["enabled"] = enabled
    bisect = v.boolean(problems, body, "BisectBatchOnFunctionError", "bisectBatchOnFunctionError")
    if bisect is not None:
        settings["bisect_batch_on_function_error"] = bisect
    types = v.enum_list(
        problems, body, "FunctionResponseTypes", "functionResponseTypes", RESPONSE_TYPES, 1
    )
    if types is not None:
        settings["function_response_types"] = types
    criteria = body.get("FilterCriteria")
    if isinstance(criteria, Mapping) and isinstance(criteria.get("Filters"), list):
        for index, entry in enumerate(criteria["Filters"], start=1):
            pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
            if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
                problems.add(
                    pattern,
                    f"filterCriteria.filters.{index}.member.pattern",
                    f"Member must have length less than or equal to {MAX_PATTERN_LENGTH}",
                )
    return settings


def _check_semantics(settings: dict[str, Any], body: Mapping[str, Any]) -> None:
    """Checks beyond the model's ranges (raising InvalidParameterValueException).

    Adds the filter patterns and the on-failure destination to ``settings``.
    """
    age = settings.get("maximum_record_age_in_seconds")
    if age is not None and 0 <= age < MIN_RECORD_AGE:
        raise invalid_parameter(
            f"MaximumRecordAgeInSeconds must be -1 or between {MIN_RECORD_AGE} and "
            f"{MAX_RECORD_AGE}, but was {age}."
        )
    if "FilterCriteria" in body:
        settings["filter_patterns"] = patterns_from_criteria(body["FilterCriteria"])
    if "DestinationConfig" in body:
        settings["on_failure_destination"] = _on_failure(body["DestinationConfig"])


def _on_failure(config: Any) -> str | None:
    if config is None:
        return None
    if not isinstance(config, Mapping):
        raise invalid_parameter("The provided destination config is invalid.")
    if config.get("OnSuccess"):
        raise invalid_parameter(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    on_failure = config.get("OnFailure")
    if not on_failure:
        return None
    destination = on_failure.get("Destination") if isinstance(on_failure, Mapping) else None
    if not destination:
        return None
    if not isinstance(destination, str) or _arn_service(destination) not in ("sqs", "sns"):
        raise invalid_parameter(
            "The provided destination config DestinationConfig(onSuccess=null, "
            f"onFailure=OnFailure(destination={destination})) is invalid."
        )
    return destination


# -- ARNs and values -------------------------------------------------------------------------
def _arn_parts(arn: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return ["arn", "aws", "", "us-east-1", "000000000000", arn]
    return parts


def _arn_service(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[2] if len(parts) == 6 and parts[0] == "arn" else ""


def _source_kind(arn: Any) -> SourceKind:
    if not isinstance(arn, str) or not arn:
        raise invalid_parameter("Unrecognized event source.")
    service = _arn_service(arn)
    resource = arn.split(":", 5)[-1]
    if service == "dynamodb" and "/stream/" in resource:
        return "dynamodb"
    if service == "kinesis" and resource.startswith("stream/"):
        return "kinesis"
    if service == "dynamodb":
        raise invalid_parameter(
            f"Invalid DynamoDB stream ARN: {arn}. Enable a stream on the table and use the "
            "table's LatestStreamArn."
        )
    raise invalid_parameter(
        "Unrecognized event source, must be kinesis, dynamodb stream or sqs. "
        f"(labkit's engine handles DynamoDB and Kinesis streams; got {arn})"
    )


def _function_arn(function_name: str, source_arn: str) -> str:
    if function_name.startswith("arn:"):
        return function_name
    parts = _arn_parts(source_arn)
    prefix = f"arn:{parts[1]}:lambda:{parts[3]}"
    pieces = function_name.split(":")
    if len(pieces) >= 3 and pieces[1] == "function":  # 123456789012:function:name[:qualifier]
        return f"{prefix}:{function_name}"
    return f"{prefix}:{parts[4]}:function:{function_name}"


def _timestamp(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None
