"""Probe events have the shape the functions read, and invocations wait out throttling."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from labkit.checks.probes import (
    Invocation,
    invoke,
    kinesis_event,
    reduce_stream_event,
    trade_message,
)
from labkit.lab.functions.pipeline import parse_trade, sum_reduce_records

from .conftest import ClientError, FakeClients, context


class Sts:
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012"}


def test_kinesis_event_carries_the_trade() -> None:
    """A probe trade decodes exactly as StateLambda decodes a generator message."""
    ctx = context(FakeClients(sts=Sts()))
    message = trade_message("t-1", 2, {"RiskType": "PV", "Region": "EMEA", "TradeDesk": "FXSpot"})
    event = kinesis_event(ctx, "IncomingDataStream", "arn:aws:iam::1:role/r", [message])
    record = event["Records"][0]
    trade = parse_trade(base64.b64decode(record["kinesis"]["data"]))
    assert trade["TradeID"] == "t-1" and trade["Version"] == 2 and trade["Value"] == Decimal("0")
    assert record["eventSourceARN"].endswith(":stream/IncomingDataStream")
    assert record["eventName"] == "aws:kinesis:record"


def test_reduce_event_sums_like_the_pipeline() -> None:
    """ReduceTable probe records add up with the pipeline's own summing."""
    ctx = context(FakeClients(sts=Sts()))
    batch = [("m1", {"k": Decimal("1.25")}), ("m2", {"k": Decimal("2.50"), "j": Decimal("1")})]
    event = reduce_stream_event(ctx, "arn:aws:dynamodb:us-east-1:1:table/R/stream/x", batch)
    assert sum_reduce_records(event["Records"]) == {"k": Decimal("3.75"), "j": Decimal("1")}
    assert {r["eventName"] for r in event["Records"]} == {"INSERT"}


class Lambda:
    """Throttles ``throttles`` times, then answers ``answer``."""

    def __init__(self, throttles: int, answer: dict[str, Any]) -> None:
        self.throttles = throttles
        self.answer = answer
        self.calls = 0

    def invoke(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.throttles:
            raise ClientError("TooManyRequestsException", "Rate Exceeded.")
        body = json.dumps(self.answer["body"]).encode()
        return {"Payload": io.BytesIO(body), **self.answer.get("extra", {})}


def test_invoke_waits_out_throttling_without_sleeping() -> None:
    """A throttled invocation is retried (through the injected sleep) until it runs."""
    slept: list[float] = []
    fake = Lambda(3, {"body": {"keys": 6}})
    ctx = context(FakeClients(**{"lambda": fake}), sleep=slept.append)
    result = invoke(ctx, "ReduceLambda", {"Records": []})
    assert result.ok and result.payload == {"keys": 6}
    assert fake.calls == 4 and len(slept) == 3


def test_invoke_gives_up_after_its_patience() -> None:
    """Throttled for longer than the patience: the error comes through."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    fake = Lambda(10_000, {"body": {}})
    ctx = context(FakeClients(**{"lambda": fake}), sleep=sleep, clock=lambda: now[0])
    with pytest.raises(ClientError):
        invoke(ctx, "ReduceLambda", {})


def test_function_errors_are_parsed() -> None:
    """A function error becomes an Invocation with its type and message."""
    fake = Lambda(
        0,
        {
            "body": {"errorType": "InjectedFailure", "errorMessage": "on purpose"},
            "extra": {"FunctionError": "Unhandled"},
        },
    )
    result = invoke(context(FakeClients(**{"lambda": fake})), "StateLambda", {})
    assert not result.ok and result.injected and not result.real_error
    assert result.describe() == "InjectedFailure: on purpose"


def test_invocation_mentions_is_case_insensitive() -> None:
    """mentions() looks in the type and the message, ignoring case."""
    found = Invocation(False, "ClientError", "ConditionalCheckFailedException: no")
    assert found.mentions("conditionalcheckfailed") and not found.mentions("Throttling")


def test_probes_wait_for_a_round_in_progress() -> None:
    """quiet_pipeline blocks while a round holds PIPELINE_LOCK, and runs right after."""
    import threading

    from labkit.checks.probes import PIPELINE_LOCK, quiet_pipeline

    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def round_in_progress() -> None:
        with PIPELINE_LOCK:
            holding.set()
            release.wait(5)
            order.append("round")

    thread = threading.Thread(target=round_in_progress)
    thread.start()
    holding.wait(5)
    release.set()
    with quiet_pipeline(context(FakeClients())):
        order.append("probe")
    thread.join(5)
    assert order == ["round", "probe"]
