"""The requests labkit serves itself, per service, and the hooks that follow moto's replies."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from .awsrequest import AwsRequest
from .ddb_idempotency import Mismatch, TokenStore, request_fingerprint
from .front import Forward, Route
from .lambda_service import LambdaService
from .replies import Reply, dynamodb_error
from .settings import ACCOUNT_ID

FUNCTION = r"/20\d\d-\d\d-\d\d/functions/[^/]+"
SQS_LONG_POLL_STEP = 0.05


def lambda_routes(lambdas: LambdaService) -> list[Route]:
    def path(suffix: str) -> re.Pattern[str]:
        return re.compile(FUNCTION + suffix)

    return [
        Route("lambda", lambdas.handle_create, "POST", re.compile(r"/2015-03-31/functions/?")),
        Route("lambda", lambdas.handle_invoke, "POST", path("/invocations/?")),
        Route("lambda", lambdas.handle_update_code, "PUT", path("/code/?")),
        Route("lambda", lambdas.handle_update_configuration, "PUT", path("/configuration/?")),
        Route("lambda", lambdas.handle_delete, "DELETE", path("/?")),
        Route("lambda", lambdas.handle_concurrency, None, path("/concurrency/?")),
    ]


def dynamodb_routes(tokens: TokenStore) -> list[Route]:
    def transact_write_items(request: AwsRequest, forward: Forward) -> Reply:
        body = request.json()
        token = body.get("ClientRequestToken")
        if not token:
            return forward(None)
        if not isinstance(token, str) or not 1 <= len(token) <= 36:
            return dynamodb_error(
                "ValidationException",
                f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed "
                "to satisfy constraint: Member must have length less than or equal to 36",
            )
        fingerprint = request_fingerprint(body)
        try:
            remembered = tokens.lookup(ACCOUNT_ID, token, fingerprint)
        except Mismatch:
            return dynamodb_error(
                "IdempotentParameterMismatchException",
                "One or more parameter values were invalid: The request uses the same client "
                "token as a previous, but non-identical request. Use a new ClientRequestToken "
                "for a different transaction.",
            )
        if remembered is not None:
            return Reply(200, remembered, {"Content-Type": "application/x-amz-json-1.0"})
        reply = forward(None)
        if reply.status == 200:
            tokens.remember(ACCOUNT_ID, token, fingerprint, reply.body)
        return reply

    return [Route("dynamodb", transact_write_items, target="TransactWriteItems")]


def sqs_routes(sleep: Callable[[float], None] = time.sleep) -> list[Route]:
    """ReceiveMessage long polls here, outside the moto lock, so other requests go on."""

    def receive_message(request: AwsRequest, forward: Forward) -> Reply:
        body = request.json()
        wait = float(body.get("WaitTimeSeconds") or 0)
        if wait <= 0:
            return forward(None)
        short = json.dumps({**body, "WaitTimeSeconds": 0}).encode()
        deadline = time.monotonic() + min(wait, 20.0)
        while True:
            reply = forward(short)
            if reply.status != 200 or json.loads(reply.body or b"{}").get("Messages"):
                return reply
            if time.monotonic() >= deadline:
                return reply
            sleep(SQS_LONG_POLL_STEP)

    return [Route("sqs", receive_message, target="ReceiveMessage")]


class KinesisWriteListener:
    """After a PutRecord(s) that moto accepted, tell listeners which stream has new records."""

    def __init__(self, notify: Callable[[str], None]) -> None:
        self.notify = notify
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, request: AwsRequest, reply: Reply) -> None:
        if request.service != "kinesis" or request.target not in {"PutRecord", "PutRecords"}:
            return
        if reply.status != 200:
            return
        body: Any = request.json()
        arn = body.get("StreamARN")
        if not arn and body.get("StreamName"):
            region = request.region or "us-east-1"
            arn = f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{body['StreamName']}"
        if arn:
            self.notify(arn)
