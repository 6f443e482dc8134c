"""Lambda in the local cloud: moto keeps the functions, labkit's runtime runs them.

The front sends every function-changing request through here so the runtime retires stale
workers, and serves Invoke itself so invocations never hold the moto lock while code runs.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from labkit.runtime import FunctionSpec, InvocationResult, LogLine, Runtime, TooManyRequests

from . import lambda_validation
from .auth_keys import Credentials, role_credentials
from .awsrequest import AwsRequest
from .mutex import MOTO_LOCK
from .replies import Reply, rest_error
from .settings import ACCOUNT_ID, DEFAULT_REGION

log = logging.getLogger("labkit.cloud.lambda")

Forward = Callable[[bytes | None], Reply]
LOG_TAIL_BYTES = 4096


class FunctionNotFound(Exception):
    def __init__(self, name: str, region: str) -> None:
        arn = (
            name
            if name.startswith("arn:")
            else (f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}")
        )
        super().__init__(f"Function not found: {arn}")


class RoleKeys:
    """Credentials a function runs with: one key per (execution role, function).

    They are derived from the data directory's secret, so they are the same after a restart
    and no one without that secret can make them; the front can tell which role (and which
    function, the session name) signed a request.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._roles: dict[str, tuple[str, str, Credentials]] = {}
        self._lock = threading.Lock()

    def credentials_for(self, role_arn: str, session: str) -> Credentials:
        credentials = role_credentials(self._secret, role_arn, session)
        with self._lock:
            self._roles[credentials.access_key] = (role_arn, session, credentials)
        return credentials

    def role_for(self, access_key: str | None) -> tuple[str, str] | None:
        """(role ARN, session name) of a function key, or None for any other key."""
        if access_key is None:
            return None
        with self._lock:
            found = self._roles.get(access_key)
        return None if found is None else (found[0], found[1])

    def lookup(self, access_key: str) -> Credentials | None:
        """The temporary credentials issued under ``access_key``, if any."""
        with self._lock:
            found = self._roles.get(access_key)
        return None if found is None else found[2]

    def credentials_env(self, role_arn: str, session: str) -> dict[str, str]:
        credentials = self.credentials_for(role_arn, session)
        return {
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.session_token or "",
        }


def _lambda_backend(region: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[ACCOUNT_ID][region]


def _role_exists(role_arn: str) -> bool:
    from moto.iam.models import iam_backends

    name = role_arn.rsplit("/", 1)[-1]
    backend = iam_backends[ACCOUNT_ID]["global"]
    return any(role.name == name for role in backend.roles.values())


class LambdaService:
    def __init__(self, runtime: Runtime, roles: RoleKeys) -> None:
        self.runtime = runtime
        self.roles = roles
        self._log_regions: dict[str, str] = {}
        #: Called with a function ARN after its reserved concurrency changed.
        self.concurrency_listeners: list[Callable[[str], None]] = []

    # ----- looking functions up -------------------------------------------------------------
    def function(self, name: str, region: str, qualifier: str | None = None) -> Any:
        """moto's function object (caller holds no lock); raises FunctionNotFound."""
        from moto.awslambda.exceptions import UnknownFunctionException

        if name.startswith("arn:"):
            region = name.split(":")[3]
        with MOTO_LOCK:
            try:
                return _lambda_backend(region).get_function(name, qualifier)
            except UnknownFunctionException as missing:
                raise FunctionNotFound(name, region) from missing

    def spec_for(self, fn: Any) -> FunctionSpec:
        return FunctionSpec(
            name=fn.function_name,
            arn=fn.function_arn,
            handler=fn.handler or "",
            runtime=fn.run_time or "",
            timeout=int(fn.timeout),
            memory_size=int(fn.memory_size),
            code_sha256=fn.code_sha_256,
            code_zip=fn.code_bytes,
            environment=dict(fn.environment_vars or {}),
            region=fn.region,
            version=str(fn.version),
            log_group=fn.logs_group_name,
        )

    @staticmethod
    def reserved_concurrency(fn: Any) -> int | None:
        value = fn.reserved_concurrency
        return None if value is None else int(value)

    # ----- running functions ----------------------------------------------------------------
    def invoke(self, fn: Any, payload: bytes, *, wait: bool = False) -> InvocationResult:
        """Run a function synchronously; raises TooManyRequests when throttled."""
        spec = self.spec_for(fn)
        self._log_regions[spec.log_group] = spec.region
        return self.runtime.invoke(
            spec,
            payload,
            reserved_concurrency=self.reserved_concurrency(fn),
            extra_env=self.roles.credentials_env(fn.role, fn.function_name),
            wait=wait,
        )

    def invoke_async(self, fn: Any, payload: bytes) -> str:
        spec = self.spec_for(fn)
        self._log_regions[spec.log_group] = spec.region
        return self.runtime.invoke_async(
            spec,
            payload,
            reserved_concurrency=self.reserved_concurrency(fn),
            extra_env=self.roles.credentials_env(fn.role, fn.function_name),
        )

    def invoke_from_moto(self, fn: Any, payload: bytes) -> None:
        """SNS and S3 invoke asynchronously, as on AWS (moto calls this under its lock)."""
        try:
            self.invoke_async(fn, payload)
        except Exception:  # never break the publishing request
            log.exception("could not queue an invocation of %s", fn.function_name)

    def write_logs(self, group: str, stream: str, lines: Any) -> None:
        """Runtime log sink: append lines to CloudWatch Logs (creating group and stream)."""
        region = self._log_regions.get(group, DEFAULT_REGION)
        events = [{"timestamp": line.timestamp_ms, "message": line.message} for line in lines]
        append_log_events(region, group, stream, events)

    # ----- HTTP handlers --------------------------------------------------------------------
    def handle_create(self, request: AwsRequest, forward: Forward) -> Reply:
        body = request.json()
        role = body.get("Role")
        exists = isinstance(role, str) and _role_exists(role)
        problem = lambda_validation.check_create(body, exists)
        return problem if problem is not None else forward(None)

    def handle_update_code(self, request: AwsRequest, forward: Forward) -> Reply:
        problem = lambda_validation.check_zip(request.json().get("ZipFile"))
        if problem is not None:
            return problem
        return self._then_retire(request, forward)

    def handle_update_configuration(self, request: AwsRequest, forward: Forward) -> Reply:
        problem = lambda_validation.check_settings(request.json())
        if problem is not None:
            return problem
        return self._then_retire(request, forward)

    def handle_delete(self, request: AwsRequest, forward: Forward) -> Reply:
        return self._then_retire(request, forward)

    def handle_concurrency(self, request: AwsRequest, forward: Forward) -> Reply:
        if request.method == "PUT":
            value = request.json().get("ReservedConcurrentExecutions")
            if not isinstance(value, int) or value < 0:
                return rest_error(
                    "InvalidParameterValueException",
                    f"1 validation error detected: Value '{value}' at "
                    "'reservedConcurrentExecutions' failed to satisfy constraint: Member must "
                    "have value greater than or equal to 0",
                )
        reply = forward(None)
        if reply.status < 300:
            region = request.region or DEFAULT_REGION
            fn = self.function(_function_name_from_path(request.path), region)
            self.runtime.set_reserved_concurrency(fn.function_name, self.reserved_concurrency(fn))
            for listener in self.concurrency_listeners:
                listener(fn.function_arn)
        return reply

    def _then_retire(self, request: AwsRequest, forward: Forward) -> Reply:
        reply = forward(None)
        if reply.status < 300:
            self.runtime.retire(_function_name_from_path(request.path).rsplit(":", 1)[-1])
        return reply

    def handle_invoke(self, request: AwsRequest, forward: Forward) -> Reply:
        region = request.region or DEFAULT_REGION
        name = _function_name_from_path(request.path)
        qualifier = request.query.get("Qualifier", [None])[0]
        try:
            fn = self.function(name, region, qualifier)
        except FunctionNotFound as missing:
            return rest_error("ResourceNotFoundException", str(missing), 404)
        payload = request.body or b"{}"
        try:
            json.loads(payload)
        except ValueError as bad:
            return rest_error(
                "InvalidRequestContentException",
                f"Could not parse request body into json: {bad}",
            )
        invocation_type = request.header("x-amz-invocation-type", "RequestResponse")
        if invocation_type == "DryRun":
            return Reply(204)
        if invocation_type == "Event":
            self.invoke_async(fn, payload)
            return Reply(202, b"", {"X-Amz-Executed-Version": str(fn.version)})
        try:
            result = self.invoke(fn, payload)
        except TooManyRequests as throttled:
            return rest_error(
                "TooManyRequestsException", "Rate Exceeded.", 429, Reason=throttled.reason
            )
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": result.executed_version,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if request.header("x-amz-log-type") == "Tail":
            headers["X-Amz-Log-Result"] = _log_tail(result.log_lines)
        return Reply(200, result.payload, headers)


def append_log_events(region: str, group: str, stream: str, events: list[dict[str, Any]]) -> None:
    """Append ``{"timestamp", "message"}`` events to CloudWatch Logs (creating group and stream)."""
    from moto.logs.models import logs_backends

    if not events:
        return
    with MOTO_LOCK:
        backend = logs_backends[ACCOUNT_ID][region]
        if group not in backend.groups:
            backend.create_log_group(group, {})
        log_group = backend.groups[group]
        if stream not in log_group.streams:
            backend.create_log_stream(group, stream)
        backend.put_log_events(group, stream, events)


def _function_name_from_path(path: str) -> str:
    # /2015-03-31/functions/NAME[/invocations|/code|/configuration]
    # /2017-10-31/functions/NAME/concurrency
    parts = path.split("/")
    return unquote(parts[3]) if len(parts) > 3 else ""


def _log_tail(lines: tuple[LogLine, ...]) -> str:
    text = "".join(
        line.message if line.message.endswith("\n") else line.message + "\n" for line in lines
    )
    return base64.b64encode(text.encode()[-LOG_TAIL_BYTES:]).decode()
