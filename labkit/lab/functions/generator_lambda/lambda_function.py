"""GeneratorLambda: sends one round of trades to IncomingDataStream.

Invoke it with ``{"seed": 42, "messages": 10000}`` (both optional). In lab 2 mode
(``SPECIAL_TRADES`` set in ParameterTable) the round also has duplicates and stale versions.
It answers with the exact change the round must cause in AggregateTable, so whoever invoked it
can score the pipeline once the round is processed.
"""

from __future__ import annotations

import random
import time
from typing import Any

import boto3
import pipeline

kinesis = boto3.client("kinesis")
dynamodb = boto3.client("dynamodb")
STREAM = pipeline.resource_name("INCOMING_STREAM")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    seed = event.get("seed")
    if seed is None:
        seed = random.SystemRandom().getrandbits(48)
    count = int(event.get("messages", 10_000))
    special = event.get("special")
    if special is None:
        special = pipeline.read_parameter(dynamodb, pipeline.SPECIAL_TRADES) > 0
    burst = pipeline.generate_round(seed, count, special=bool(special), start=time.time())
    calls = pipeline.send_records(kinesis, STREAM, burst.records())
    return {
        "seed": burst.seed,
        "messages": len(burst.messages),
        "special": burst.special,
        "put_records_calls": calls,
        "stats": burst.stats(),
        "expected": {key: str(value) for key, value in burst.expected().items()},
    }
