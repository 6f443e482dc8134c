"""Rounds of trades: generated in this process (the default) or by GeneratorLambda.

The scoreboard normally generates a round here, in the notebook's process, and sends it with
the notebook's own boto3 client: it then knows the expected totals without asking anyone, the
round is reproducible from its seed, and nothing depends on GeneratorLambda's timeout.
:func:`play_with_lambda` invokes GeneratorLambda instead; both produce the same messages for
the same seed (the generator is the same ``pipeline.generate_round``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .functions.pipeline import GeneratedRound, generate_round, send_records


@dataclass(frozen=True)
class SentRound:
    """A round that was sent: its seed, size, composition and expected totals."""

    seed: str
    messages: int
    special: bool
    stats: Mapping[str, int]
    expected: Mapping[str, Decimal]
    put_records_calls: int


def play_in_process(
    kinesis: Any,
    stream_name: str,
    seed: int | str,
    count: int,
    *,
    special: bool,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> SentRound:
    """Generate a round here and send it to ``stream_name``."""
    burst: GeneratedRound = generate_round(seed, count, special=special, start=clock())
    calls = send_records(kinesis, stream_name, burst.records(), sleep=sleep)
    return SentRound(
        burst.seed, len(burst.messages), special, burst.stats(), burst.expected(), calls
    )


def play_with_lambda(
    lambda_client: Any, function_name: str, seed: int | str, count: int, *, special: bool
) -> SentRound:
    """Have GeneratorLambda generate and send the round; it answers with the expected totals."""
    answer = lambda_client.invoke(
        FunctionName=function_name,
        Payload=json.dumps({"seed": seed, "messages": count, "special": special}).encode(),
    )
    body = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise RuntimeError(
            f"{function_name} failed: {body.get('errorType')}: {body.get('errorMessage')}"
        )
    return SentRound(
        seed=str(body["seed"]),
        messages=int(body["messages"]),
        special=bool(body["special"]),
        stats={k: int(v) for k, v in body["stats"].items()},
        expected={k: Decimal(v) for k, v in body["expected"].items()},
        put_records_calls=int(body.get("put_records_calls", 0)),
    )
