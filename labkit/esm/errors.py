"""Errors the engine raises: API errors shaped like AWS Lambda's, and the idle timeout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

INVALID_PARAMETER = "InvalidParameterValueException"
VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"


class EsmApiError(Exception):
    """An error the HTTP layer returns as-is: ``code`` goes to ``x-amzn-ErrorType``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON body Lambda sends with this error."""
        return {"Type": "User", "message": self.message}


def invalid_parameter(message: str) -> EsmApiError:
    """InvalidParameterValueException (400)."""
    return EsmApiError(INVALID_PARAMETER, message, 400)


def validation_failed(problems: Sequence[str]) -> EsmApiError:
    """ValidationException (400) in the service framework's "N validation errors" style."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return EsmApiError(VALIDATION, f"{count} validation {noun} detected: " + "; ".join(problems))


def not_found() -> EsmApiError:
    """ResourceNotFoundException (404) for an unknown mapping UUID."""
    return EsmApiError(NOT_FOUND, "The resource you requested does not exist.", 404)


def already_exists(
    service_label: str, source_arn: str, function_name: str, uuid: str
) -> EsmApiError:
    """ResourceConflictException (409) for a second mapping of one function to one source."""
    return EsmApiError(
        CONFLICT,
        f'An event source mapping with {service_label} arn (" {source_arn} ") and function '
        f'(" {function_name} ") already exists. Please update or delete the existing mapping '
        f"with UUID {uuid}",
        409,
    )


class IdleTimeout(TimeoutError):
    """``Engine.wait_idle`` gave up; ``behind`` describes each mapping that is not caught up."""

    def __init__(self, message: str, behind: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.behind = list(behind)
