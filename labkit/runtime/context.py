"""The ``context`` object a handler receives, with the attributes of AWS's Python runtime.

Imported by the worker subprocess: standard library only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import sys
import time
from typing import Any


class CognitoIdentity:
    """``context.identity``: set only for calls from the AWS Mobile SDK, so empty here."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity_id: str | None = None, pool_id: str | None = None) -> None:
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile app that made the call."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    """``context.client_context``: what the caller passed as ``ClientContext``."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = data.get("custom")
        self.env = data.get("env")

    def __repr__(self) -> str:
        return f"ClientContext([client={self.client},custom={self.custom},env={self.env}])"


def parse_client_context(raw: str | None) -> ClientContext | None:
    """Accept the Invoke API's base64-encoded JSON, or plain JSON; anything else is ignored."""
    if not raw:
        return None
    text = raw
    with contextlib.suppress(binascii.Error, UnicodeDecodeError):
        text = base64.b64decode(raw, validate=True).decode()
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return ClientContext(data) if isinstance(data, dict) else None


class LambdaContext:
    """Information about the invocation, the function and the execution environment."""

    def __init__(
        self,
        *,
        request_id: str,
        invoked_function_arn: str,
        deadline: float,
        client_context: ClientContext | None = None,
    ) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity()
        self.client_context = client_context
        self.tenant_id: str | None = None
        self._deadline = deadline  # time.monotonic() value

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, msg: str) -> None:
        """Write ``msg`` to the function's log, as ``context.log`` does on AWS."""
        sys.stdout.write(msg)
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity}])"
        )
