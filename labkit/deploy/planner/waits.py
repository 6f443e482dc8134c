"""The waits and "not yet" retry rules that the planner attaches to calls."""

from __future__ import annotations

from ..plan import Ref, RetryOn, Wait

ROLE_NOT_READY = RetryOn("InvalidParameterValueException", "cannot be assumed")
STREAM_NOT_READABLE = RetryOn("InvalidParameterValueException", "cannot access stream")
NO_PERMISSION_YET = RetryOn("InvalidParameterValueException", "does not have permission")
FUNCTION_BUSY = RetryOn("ResourceConflictException", "", "the function is still being updated")
TABLE_BUSY = RetryOn("ResourceInUseException", "", "the table is still changing")


def table_active(name: str) -> Wait:
    return Wait("describe_table", {"TableName": name}, ("Table", "TableStatus"), ("ACTIVE",))


def table_gone(name: str) -> Wait:
    return Wait(
        "describe_table",
        {"TableName": name},
        ("Table", "TableStatus"),
        gone="ResourceNotFoundException",
        what="deleted",
    )


def stream_active(name: str) -> Wait:
    return Wait(
        "describe_stream_summary",
        {"StreamName": name},
        ("StreamDescriptionSummary", "StreamStatus"),
        ("ACTIVE",),
    )


def stream_gone(name: str) -> Wait:
    return Wait(
        "describe_stream_summary",
        {"StreamName": name},
        ("StreamDescriptionSummary", "StreamStatus"),
        gone="ResourceNotFoundException",
        what="deleted",
    )


def function_active(name: str) -> Wait:
    return Wait(
        "get_function_configuration",
        {"FunctionName": name},
        ("State",),
        ("Active",),
        ("Failed",),
        what="active",
    )


def function_updated(name: str) -> Wait:
    return Wait(
        "get_function_configuration",
        {"FunctionName": name},
        ("LastUpdateStatus",),
        ("Successful",),
        ("Failed",),
        what="updated",
    )


def mapping_ready(uuid: str | Ref) -> Wait:
    return Wait(
        "get_event_source_mapping",
        {"UUID": uuid},
        ("State",),
        ("Enabled", "Disabled"),
        what="enabled",
    )


def mapping_gone(uuid: str) -> Wait:
    return Wait(
        "get_event_source_mapping",
        {"UUID": uuid},
        ("State",),
        gone="ResourceNotFoundException",
        what="deleted",
    )


QUEUE_NAME_RESTING = (
    RetryOn(
        "AWS.SimpleQueueService.QueueDeletedRecently",
        "",
        "AWS lets a deleted queue's name be used again only after 60 seconds",
    ),
    RetryOn(
        "QueueDeletedRecently",
        "",
        "AWS lets a deleted queue's name be used again only after 60 seconds",
    ),
)
DESTINATION_NOT_VALID_YET = RetryOn(
    "InvalidArgument",
    "Unable to validate",
    "the destination's policy or permission is still propagating",
)
