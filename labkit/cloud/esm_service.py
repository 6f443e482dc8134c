"""Event source mappings in the local cloud: labkit's engine behind Lambda's ESM API.

Mappings never reach moto. The engine reads streams from moto's backends, invokes functions
through labkit's runtime, and sends discarded batches to SQS or SNS.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from labkit.esm import (
    Engine,
    EsmApiError,
    IdleTimeout,
    InvokeOutcome,
    JsonFileCheckpointStore,
    MappingConfig,
    Throttled,
)
from labkit.runtime import TooManyRequests

from .awsrequest import AwsRequest
from .esm_sources import SourceNotFound, open_source
from .front import Forward, Route
from .lambda_service import FunctionNotFound, LambdaService
from .mutex import MOTO_LOCK
from .replies import Reply, json_reply, rest_error
from .role_policies import role_policy_set
from .settings import ACCOUNT_ID, DEFAULT_REGION

log = logging.getLogger("labkit.cloud.esm")

MAPPINGS_PATH = re.compile(r"/2015-03-31/event-source-mappings/?")
MAPPING_PATH = re.compile(r"/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)/?")

#: What Lambda needs to read each kind of stream, as its error message names it.
STREAM_READ_ACTIONS = {
    "dynamodb": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
    "kinesis": (
        "kinesis:DescribeStream",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ),
}
CANNOT_ACCESS = {
    "dynamodb": "Cannot access stream {arn}. Please ensure the role can perform the GetRecords, "
    "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.",
    "kinesis": "Cannot access stream {arn}. Please ensure the role can perform the GetRecords, "
    "GetShardIterator, DescribeStream, and ListShards Actions on your stream in IAM.",
}


#: What the function's role needs to send to an on-failure destination, and AWS's refusal.
DESTINATION_ACTIONS = {"sqs": ("sqs:SendMessage", "SQS"), "sns": ("sns:Publish", "SNS")}
CANNOT_SEND = "The provided execution role does not have permissions to call {call} on {service}"


def _region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else DEFAULT_REGION


class RuntimeInvoker:
    """The engine's Invoker: synchronous invocations through labkit's runtime."""

    def __init__(self, lambdas: LambdaService) -> None:
        self.lambdas = lambdas

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        fn = self.lambdas.function(function_arn, _region(function_arn))
        try:
            result = self.lambdas.invoke(fn, payload)
        except TooManyRequests as throttled:
            raise Throttled(str(throttled)) from throttled
        return InvokeOutcome(
            status_code=200,
            payload=result.payload,
            function_error=result.function_error,
            executed_version=result.executed_version,
            request_id=result.request_id,
            duration_ms=result.duration_ms,
        )

    def reserved_concurrency(self, function_arn: str) -> int | None:
        try:
            fn = self.lambdas.function(function_arn, _region(function_arn))
        except FunctionNotFound:
            return None
        return self.lambdas.reserved_concurrency(fn)


def role_may_send(role_arn: str, destination_arn: str) -> bool:
    """Whether a function's role may send to an on-failure destination (Lambda sends the
    failure record with the function's execution role)."""
    action, _service = DESTINATION_ACTIONS[destination_arn.split(":")[2]]
    return role_policy_set(role_arn).is_allowed(action, destination_arn)


class MotoDestinations:
    """On-failure destinations: SQS queues and SNS topics of the local cloud, sent to with the
    function's role, as Lambda does: a role that lost the permission loses the record."""

    def __init__(self, lambdas: LambdaService) -> None:
        self.lambdas = lambdas

    def send(self, destination_arn: str, message: Any, *, function_arn: str) -> None:
        role = self.lambdas.function(function_arn, _region(function_arn)).role
        if not role_may_send(role, destination_arn):
            raise PermissionError(
                f"{role} may not send to {destination_arn}; the failure record is lost"
            )
        body = json.dumps(message)
        region = _region(destination_arn)
        with MOTO_LOCK:
            if destination_arn.startswith("arn:aws:sqs:"):
                from moto.sqs.models import sqs_backends

                queue = destination_arn.rsplit(":", 1)[-1]
                sqs_backends[ACCOUNT_ID][region].send_message(queue, body)
            elif destination_arn.startswith("arn:aws:sns:"):
                from moto.sns.models import sns_backends

                sns_backends[ACCOUNT_ID][region].publish(body, arn=destination_arn)
            else:
                raise ValueError(f"unsupported on-failure destination {destination_arn}")


class EsmService:
    def __init__(self, lambdas: LambdaService, state_dir: Path) -> None:
        self.lambdas = lambdas
        state_dir.mkdir(parents=True, exist_ok=True)
        self.engine = Engine(
            RuntimeInvoker(lambdas),
            MotoDestinations(lambdas),
            JsonFileCheckpointStore(state_dir / "esm-checkpoints.json"),
        )

    # ----- persistence ----------------------------------------------------------------------
    def saved_state(self) -> list[MappingConfig]:
        return [self.engine.config(m["UUID"]) for m in self.engine.list()]

    def restore(self, configs: list[MappingConfig]) -> None:
        for config in configs:
            try:
                self.engine.add(config, open_source(config.event_source_arn))
            except (SourceNotFound, EsmApiError) as problem:
                log.warning("mapping %s not restored: %s", config.uuid, problem)

    # ----- routes ---------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("lambda", self.handle_create, "POST", MAPPINGS_PATH),
            Route("lambda", self.handle_list, "GET", MAPPINGS_PATH),
            Route("lambda", self.handle_one, None, MAPPING_PATH),
        ]

    def handle_create(self, request: AwsRequest, forward: Forward) -> Reply:
        body = request.json()
        region = request.region or DEFAULT_REGION
        try:
            config = MappingConfig.from_create_request(
                body, function_arn=self._function_arn(body, region)
            )
            fn = self.lambdas.function(config.function_arn, region)
            try:
                source = open_source(config.event_source_arn)
            except SourceNotFound:
                return rest_error(
                    "InvalidParameterValueException",
                    f"Stream not found: {config.event_source_arn}",
                )
            problem = self._cannot_read(fn.role, config) or self._cannot_send(fn.role, config)
            if problem is not None:
                return problem
            return json_reply(self.engine.add(config, source), 202)
        except FunctionNotFound as missing:
            return rest_error("ResourceNotFoundException", str(missing), 404)
        except EsmApiError as error:
            return rest_error(error.code, error.message, error.status)

    def _function_arn(self, body: dict[str, Any], region: str) -> str | None:
        name = body.get("FunctionName")
        if not isinstance(name, str) or not name:
            return None
        try:
            fn = self.lambdas.function(name, region)
        except FunctionNotFound:
            source = body.get("EventSourceArn")
            if isinstance(source, str) and source.count(":") >= 5:
                region = _region(source)
            return (
                name
                if name.startswith("arn:")
                else (f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}")
            )
        return str(fn.function_arn)

    def _cannot_read(self, role_arn: str, config: MappingConfig) -> Reply | None:
        policies = role_policy_set(role_arn)
        for action in STREAM_READ_ACTIONS[config.source_kind]:
            if not policies.is_allowed(action, config.event_source_arn):
                message = CANNOT_ACCESS[config.source_kind].format(arn=config.event_source_arn)
                return rest_error("InvalidParameterValueException", message)
        return None

    def _cannot_send(self, role_arn: str, config: MappingConfig) -> Reply | None:
        """AWS's refusal when the role cannot send to the on-failure destination."""
        destination = config.on_failure_destination
        if not destination:
            return None
        if role_may_send(role_arn, destination):
            return None
        action, service = DESTINATION_ACTIONS[destination.split(":")[2]]
        call = action.split(":", 1)[1]
        return rest_error(
            "InvalidParameterValueException", CANNOT_SEND.format(call=call, service=service)
        )

    def handle_list(self, request: AwsRequest, forward: Forward) -> Reply:
        region = request.region or DEFAULT_REGION
        function = request.query.get("FunctionName", [None])[0]
        source = request.query.get("EventSourceArn", [None])[0]
        function_arn = None
        if function:
            try:
                function_arn = str(self.lambdas.function(function, region).function_arn)
            except FunctionNotFound as missing:
                return rest_error("ResourceNotFoundException", str(missing), 404)
        mappings = self.engine.list(event_source_arn=source, function_arn=function_arn)
        start = int(request.query.get("Marker", ["0"])[0] or 0)
        size = int(request.query.get("MaxItems", ["100"])[0] or 100)
        page = mappings[start : start + size]
        document: dict[str, Any] = {"EventSourceMappings": page}
        if start + size < len(mappings):
            document["NextMarker"] = str(start + size)
        return json_reply(document)

    def handle_one(self, request: AwsRequest, forward: Forward) -> Reply:
        found = MAPPING_PATH.fullmatch(request.path)
        assert found is not None
        uuid = unquote(found.group("uuid"))
        try:
            if request.method == "GET":
                return json_reply(self.engine.get(uuid))
            if request.method == "DELETE":
                return json_reply(self.engine.remove(uuid), 202)
            if request.method == "PUT":
                body = request.json()
                function_arn = None
                region = request.region or DEFAULT_REGION
                if body.get("FunctionName"):
                    function_arn = str(
                        self.lambdas.function(body["FunctionName"], region).function_arn
                    )
                if "DestinationConfig" in body or function_arn is not None:
                    updated = self.engine.config(uuid).apply_update(body, function_arn=function_arn)
                    role = self.lambdas.function(updated.function_arn, region).role
                    problem = self._cannot_send(role, updated)
                    if problem is not None:
                        return problem
                return json_reply(self.engine.update(uuid, body, function_arn=function_arn), 202)
        except FunctionNotFound as missing:
            return rest_error("ResourceNotFoundException", str(missing), 404)
        except EsmApiError as error:
            return rest_error(error.code, error.message, error.status)
        return rest_error("InvalidParameterValueException", f"Unsupported method {request.method}")

    # ----- waiting --------------------------------------------------------------------------
    def wait_idle(self, timeout: float) -> None:
        """Raise IdleTimeout unless mappings and invocations all catch up within ``timeout``."""
        import time

        deadline = time.monotonic() + timeout
        # Two rounds: async invocations can write to streams that mappings then deliver.
        for _ in range(2):
            self.engine.wait_idle(max(deadline - time.monotonic(), 0.0))
            if not self.lambdas.runtime.wait_idle(max(deadline - time.monotonic(), 0.0)):
                raise IdleTimeout(
                    f"Lambda invocations were still running after {timeout:.0f} s: "
                    + ", ".join(
                        f"{name} ({figures.get('busy_workers', 0)} running, "
                        f"{figures.get('queued', 0)} queued)"
                        for name, figures in self.lambdas.runtime.stats().items()
                        if figures.get("busy_workers") or figures.get("queued")
                    )
                )
