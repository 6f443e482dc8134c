"""AWS's validation of Lambda function settings, checked before moto sees the request."""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile
from typing import Any

from labkit.runtime import SUPPORTED_RUNTIMES

from .replies import Reply, rest_error

#: Runtimes AWS knows (so a learner gets "not here" rather than "no such thing").
OTHER_AWS_RUNTIMES = frozenset(
    {
        "nodejs18.x",
        "nodejs20.x",
        "nodejs22.x",
        "java11",
        "java17",
        "java21",
        "dotnet8",
        "ruby3.2",
        "ruby3.3",
        "provided.al2",
        "provided.al2023",
    }
)
DEPRECATED_RUNTIMES = frozenset({"python2.7", "python3.6", "python3.7", "python3.8"})
_ROLE_ARN = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")

LIMITS = {"timeout": ("Timeout", 1, 900), "memorySize": ("MemorySize", 128, 10240)}


def _validation_error(field: str, value: Any, constraint: str) -> Reply:
    return rest_error(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}",
    )


def check_settings(body: dict[str, Any]) -> Reply | None:
    """The first problem with the runtime, timeout or memory of a create/update, or None."""
    runtime = body.get("Runtime")
    if runtime is not None:
        if runtime in DEPRECATED_RUNTIMES:
            return rest_error(
                "InvalidParameterValueException",
                f"The runtime parameter of {runtime} is no longer supported for creating or "
                "updating AWS Lambda functions. We recommend you use a supported runtime "
                "such as python3.12.",
            )
        if runtime in OTHER_AWS_RUNTIMES:
            return rest_error(
                "InvalidParameterValueException",
                f"The local cloud runs Python functions only, so runtime {runtime} cannot run "
                "here. Use a Python runtime such as python3.12, or use the aws backend.",
            )
        if runtime not in SUPPORTED_RUNTIMES:
            allowed = ", ".join(sorted(SUPPORTED_RUNTIMES | OTHER_AWS_RUNTIMES))
            return _validation_error(
                "runtime", runtime, f"Member must satisfy enum value set: [{allowed}]"
            )
    for field, (key, low, high) in LIMITS.items():
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, int) or isinstance(value, bool):
            return _validation_error(field, value, "Member must be an integer")
        if value < low:
            return _validation_error(
                field, value, f"Member must have value greater than or equal to {low}"
            )
        if value > high:
            return _validation_error(
                field, value, f"Member must have value less than or equal to {high}"
            )
    return None


def check_zip(encoded: str | None) -> Reply | None:
    """A problem with base64 ``ZipFile`` content, or None."""
    if encoded is None:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("corrupt member")
    except (binascii.Error, ValueError, zipfile.BadZipFile):
        return rest_error(
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        )
    return None


def check_create(body: dict[str, Any], role_exists: bool) -> Reply | None:
    """The first problem with a CreateFunction request, or None."""
    if not body.get("FunctionName"):
        return _validation_error("functionName", None, "Member must not be null")
    if body.get("PackageType", "Zip") == "Zip" and not body.get("Runtime"):
        return rest_error(
            "InvalidParameterValueException",
            "Runtime is required for a .zip deployment package. Set Runtime, e.g. python3.12.",
        )
    problem = check_settings(body)
    if problem is not None:
        return problem
    code = body.get("Code") or {}
    if "ZipFile" not in code and "S3Bucket" not in code:
        return rest_error(
            "InvalidParameterValueException",
            "Code must contain ZipFile (the zip bytes) or S3Bucket and S3Key.",
        )
    problem = check_zip(code.get("ZipFile"))
    if problem is not None:
        return problem
    role = body.get("Role")
    if not isinstance(role, str) or not _ROLE_ARN.fullmatch(role):
        return _validation_error(
            "role",
            role,
            "Member must satisfy regular expression pattern: "
            r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        )
    if not role_exists:
        return rest_error(
            "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
        )
    return None
