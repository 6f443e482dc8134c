"""How large a request body the local cloud accepts, per kind of request.

The limits admit everything the labs send and what AWS itself admits where it matters:
Invoke payloads up to 6 MB, function zips up to 50 MB (69,905,067 bytes once base64-encoded in
the request, as AWS states), S3 objects up to 256 MiB in one request, anything else 16 MiB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIB = 1024 * 1024
INVOKE_LIMIT = 6 * MIB
ZIP_REQUEST_LIMIT = 69_905_067
S3_OBJECT_LIMIT = 256 * MIB
DEFAULT_LIMIT = 16 * MIB

_INVOKE = re.compile(r"/20\d\d-\d\d-\d\d/functions/[^/]+/(invocations|invoke-async)/?")
_CREATE = re.compile(r"/2015-03-31/functions/?")
_CODE = re.compile(r"/20\d\d-\d\d-\d\d/functions/[^/]+/code/?")


@dataclass(frozen=True)
class Limit:
    size: int
    operation: str | None = None

    def message(self) -> str:
        if self.operation:
            return (
                f"Request must be smaller than {self.size} bytes for the {self.operation} operation"
            )
        return f"Request must be smaller than {self.size} bytes."


def body_limit(service: str | None, method: str, path: str) -> Limit:
    """The largest body this request may have."""
    if service == "s3":
        return Limit(S3_OBJECT_LIMIT)
    if service == "lambda":
        if method == "POST" and _INVOKE.fullmatch(path):
            return Limit(INVOKE_LIMIT, "InvokeFunction")
        if method == "POST" and _CREATE.fullmatch(path):
            return Limit(ZIP_REQUEST_LIMIT, "CreateFunction")
        if method == "PUT" and _CODE.fullmatch(path):
            return Limit(ZIP_REQUEST_LIMIT, "UpdateFunctionCode")
    return Limit(DEFAULT_LIMIT)
