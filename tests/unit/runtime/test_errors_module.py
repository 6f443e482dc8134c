"""The wording of platform errors and the API exceptions."""

from __future__ import annotations

import pytest

from labkit.runtime import errors


@pytest.mark.parametrize(
    ("returncode", "reason"),
    [
        (1, "Runtime exited with error: exit status 1"),
        (0, "Runtime exited without providing a reason"),
        (-9, "Runtime exited with error: signal: killed"),
        (-11, "Runtime exited with error: signal: segmentation fault"),
        (-6, "Runtime exited with error: signal: aborted"),
        (None, "Runtime exited without providing a reason"),
    ],
)
def test_exit_reasons_use_lambdas_words(returncode: int | None, reason: str) -> None:
    """Exit codes and signals are described as Lambda does."""
    assert errors.exit_reason(returncode) == reason


def test_timeout_message() -> None:
    """Timeouts are reported with two decimals."""
    assert (
        errors.timeout_message("r1", 3) == "RequestId: r1 Error: Task timed out after 3.00 seconds"
    )


def test_throttle_carries_its_reason() -> None:
    """TooManyRequests names the limit that was hit and the API error code."""
    error = errors.TooManyRequests("ConcurrentInvocationLimitExceeded", "fn")
    assert error.reason == "ConcurrentInvocationLimitExceeded"
    assert error.error_code == "TooManyRequestsException" and error.status_code == 429
    assert isinstance(error, errors.InvokeError)
