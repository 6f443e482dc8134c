"""Behaviour probes: synthetic stream events sent to the learner's deployed functions.

A probe invokes the real function with an event shaped exactly like the one its event source
mapping delivers, then looks at what the function did to its table. Probe data never looks like
a trade round: it uses its own keys (``labkit-check-…``), carries zero values where it passes
through the pipeline, and is removed afterwards.

Rounds of the scoreboard and probes must not overlap (a probe moving AggregateTable during a
round would spoil the round's score), so both hold :data:`PIPELINE_LOCK`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .context import CheckContext, error_code

__all__ = [
    "PIPELINE_LOCK",
    "Invocation",
    "invoke",
    "kinesis_event",
    "nonce",
    "quiet_pipeline",
    "reduce_stream_event",
]

#: Held while a round is played or a probe runs, so that the two never overlap.
PIPELINE_LOCK = threading.RLock()

#: How long to keep retrying an invocation that is throttled (reserved concurrency 1).
THROTTLE_PATIENCE = 60.0


def nonce() -> str:
    """A short unique tag for one probe's data."""
    return uuid.uuid4().hex[:12]


@contextmanager
def quiet_pipeline(ctx: CheckContext, timeout: float = 30.0) -> Iterator[None]:
    """Hold the pipeline lock with the pipeline idle before and after the block."""
    with PIPELINE_LOCK:
        ctx.settle(timeout)
        try:
            yield
        finally:
            ctx.settle(timeout)


@dataclass(frozen=True)
class Invocation:
    """What one direct invocation of a function returned."""

    ok: bool
    error_type: str = ""
    error_message: str = ""
    payload: Any = None

    @property
    def injected(self) -> bool:
        """The lab's own random failure (raised after the function's writes)."""
        return self.error_type == "InjectedFailure"

    @property
    def real_error(self) -> bool:
        """A failure that is not the lab's injected one."""
        return not self.ok and not self.injected

    def mentions(self, *words: str) -> bool:
        text = f"{self.error_type} {self.error_message}".lower()
        return any(word.lower() in text for word in words)

    def describe(self) -> str:
        message = self.error_message.strip().splitlines()[0] if self.error_message else ""
        return f"{self.error_type}: {message[:300]}" if message else self.error_type


def invoke(
    ctx: CheckContext, function: str, event: Mapping[str, Any], qualifier: str | None = None
) -> Invocation:
    """Invoke ``function`` synchronously with ``event``, waiting out throttling."""
    client = ctx.client("lambda")
    options: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(event).encode()}
    if qualifier is not None:
        options["Qualifier"] = qualifier
    deadline = ctx.clock() + THROTTLE_PATIENCE
    delay = 0.1
    while True:
        try:
            answer = client.invoke(**options)
            break
        except Exception as error:
            if error_code(error) != "TooManyRequestsException" or ctx.clock() > deadline:
                raise
            ctx.sleep(delay)
            delay = min(delay * 2, 2.0)
    raw = answer["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    if answer.get("FunctionError"):
        body = payload if isinstance(payload, dict) else {}
        return Invocation(
            False,
            str(body.get("errorType", "Error")),
            str(body.get("errorMessage", payload)),
            payload,
        )
    return Invocation(True, payload=payload)


# ---------------------------------------------------------------------------------------------
# Events


def _sequence(index: int) -> str:
    base = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    return str(base + int(time.time() * 1000) * 1000 + index)


def kinesis_event(
    ctx: CheckContext, stream: str, role_arn: str, messages: Sequence[str]
) -> dict[str, Any]:
    """A Kinesis event with one record per JSON message, as Lambda's poller builds it."""
    stream_arn = f"arn:{ctx.partition}:kinesis:{ctx.region}:{ctx.account}:stream/{stream}"
    records = []
    now = round(time.time(), 3)
    for index, message in enumerate(messages):
        sequence = _sequence(index)
        key = str(json.loads(message).get("TradeID", "key"))[:256]
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(message.encode()).decode(),
                    "approximateArrivalTimestamp": now,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": ctx.region,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": records}


def trade_message(
    trade_id: str, version: int, hierarchy: Mapping[str, str], value: str = "0.00"
) -> str:
    """A trade as the generator sends it (field order and number format included)."""
    return (
        "{"
        f'"TradeID": {json.dumps(trade_id)}, '
        f'"Version": {version}, '
        f'"Value": {value}, '
        f'"Hierarchy": {json.dumps(dict(hierarchy), sort_keys=True)}, '
        f'"Timestamp": {time.time():.3f}'
        "}"
    )


def reduce_stream_event(
    ctx: CheckContext, stream_arn: str, messages: Sequence[tuple[str, Mapping[str, Decimal]]]
) -> dict[str, Any]:
    """ReduceTable stream INSERT records, one per (MessageId, totals), NEW_IMAGE view."""
    records = []
    created = int(time.time())
    for index, (message_id, totals) in enumerate(messages):
        text = json.dumps({key: str(value) for key, value in totals.items()}, sort_keys=True)
        image = {"MessageId": {"S": message_id}, "Message": {"S": text}}
        records.append(
            {
                "eventID": uuid.uuid5(uuid.NAMESPACE_URL, f"{stream_arn}/{message_id}").hex,
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": ctx.region,
                "dynamodb": {
                    "ApproximateCreationDateTime": created,
                    "Keys": {"MessageId": {"S": message_id}},
                    "NewImage": image,
                    "SequenceNumber": str(10**20 + created * 1000 + index),
                    "SizeBytes": len(text) + len(message_id) + 20,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": records}
