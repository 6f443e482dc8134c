"""Helpers shared by the lab's four Lambda functions.

labkit copies this file into every function's deployment package, next to
``lambda_function.py``, so a function imports it as plain ``import pipeline`` on AWS and on the
local cloud alike. The notebook process imports it as ``labkit.lab.functions.pipeline`` to
generate rounds of trades in-process. It needs only the standard library; boto3 clients are
passed in.

Money is never a float here: values travel as JSON numbers with two decimals, are parsed into
``Decimal`` and summed exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

RISK_TYPES = ("PV", "Delta")
TRADE_DESKS = ("FXSpot", "FXOptions")
REGIONS = ("EMEA", "APAC", "AMER")
#: The parts of an aggregate key, outermost first: ``Delta:FXSpot:EMEA``.
HIERARCHY = ("RiskType", "TradeDesk", "Region")
MESSAGE_COUNT = "message_count"

#: Where each function finds its tables and stream (set by labkit, prefixed on AWS).
DEFAULT_NAMES = {
    "STATE_TABLE": "StateTable",
    "REDUCE_TABLE": "ReduceTable",
    "AGGREGATE_TABLE": "AggregateTable",
    "PARAMETER_TABLE": "ParameterTable",
    "INCOMING_STREAM": "IncomingDataStream",
}

FAILURE_SEED = "FAILURE_SEED"
SPECIAL_TRADES = "SPECIAL_TRADES"


def resource_name(variable: str) -> str:
    """The name of a table or stream, from the function's environment."""
    return os.environ.get(variable) or DEFAULT_NAMES[variable]


# ----- aggregate keys --------------------------------------------------------------------------
def leaf_key(hierarchy: Mapping[str, str]) -> str:
    """``{"RiskType": "PV", "Region": "EMEA", "TradeDesk": "FXSpot"}`` -> ``PV:FXSpot:EMEA``."""
    return ":".join(hierarchy[level] for level in HIERARCHY)


def leaf_keys() -> list[str]:
    """The 12 leaf keys."""
    return [f"{r}:{d}:{g}" for r in RISK_TYPES for d in TRADE_DESKS for g in REGIONS]


def all_value_keys() -> list[str]:
    """The 18 value keys: 12 leaves, 4 ``RiskType:TradeDesk`` and 2 ``RiskType``."""
    parents = [f"{r}:{d}" for r in RISK_TYPES for d in TRADE_DESKS]
    return [*leaf_keys(), *parents, *RISK_TYPES]


def roll_up(leaves: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Leaf totals plus the totals of every parent key (``A:B:C`` adds to ``A:B`` and ``A``)."""
    totals: dict[str, Decimal] = {}
    for key, value in leaves.items():
        parts = key.split(":")
        for depth in range(len(parts), 0, -1):
            parent = ":".join(parts[:depth])
            totals[parent] = totals.get(parent, Decimal(0)) + value
    return totals


# ----- hashing a batch -------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """One serialisation for one value: sorted keys, no spaces, Decimals as their text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def batch_hash(records: Sequence[Any], algorithm: str = "sha256") -> str:
    """A hash of a batch of records; the same batch, retried, gives the same hash."""
    digest = hashlib.new(algorithm)
    digest.update(canonical_json(list(records)).encode("utf-8"))
    return digest.hexdigest()


# ----- stream records --------------------------------------------------------------------------
def image_trade(image: Mapping[str, Any]) -> tuple[str, Decimal]:
    """(leaf key, value) of a StateTable item as a DynamoDB stream image shows it."""
    hierarchy = {level: image["Hierarchy"]["M"][level]["S"] for level in HIERARCHY}
    return leaf_key(hierarchy), Decimal(image["Value"]["N"])


def pre_aggregate(records: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """What a batch of StateTable stream records changes in the aggregates.

    A new image adds its value to its leaf; an old image takes its value away from *its* leaf
    (a trade may move between leaves); a removed item only takes its value away. Every new or
    changed trade counts as one message. Parent keys are rolled up; keys that end at zero stay
    (they record that the batch touched them).
    """
    leaves: dict[str, Decimal] = {}
    messages = 0
    for record in records:
        change = record.get("dynamodb", {})
        new, old = change.get("NewImage"), change.get("OldImage")
        if new is not None:
            key, value = image_trade(new)
            leaves[key] = leaves.get(key, Decimal(0)) + value
            messages += 1
        if old is not None:
            key, value = image_trade(old)
            leaves[key] = leaves.get(key, Decimal(0)) - value
    totals = roll_up(leaves)
    if messages:
        totals[MESSAGE_COUNT] = Decimal(messages)
    return totals


def encode_totals(totals: Mapping[str, Decimal]) -> str:
    """Totals as the JSON text MapLambda stores in ReduceTable (numbers as strings)."""
    return json.dumps({key: str(value) for key, value in totals.items()}, sort_keys=True)


def decode_totals(text: str) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in json.loads(text).items()}


def sum_reduce_records(records: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Add up the totals of every new ReduceTable item in a batch of stream records."""
    totals: dict[str, Decimal] = {}
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # items are written once; anything else is not a new batch of totals
        image = record.get("dynamodb", {}).get("NewImage")
        if image is None:
            continue
        for key, value in decode_totals(image["Message"]["S"]).items():
            totals[key] = totals.get(key, Decimal(0)) + value
    return totals


# ----- parameters and failure injection ------------------------------------------------------
class InjectedFailure(Exception):
    """A failure the lab injects on purpose (lab 2), after the function's writes."""


def read_parameter(dynamodb: Any, name: str, default: Decimal = Decimal(0)) -> Decimal:
    """A number from ParameterTable (strongly consistent), or ``default`` if it is not set."""
    found = dynamodb.get_item(
        TableName=resource_name("PARAMETER_TABLE"),
        Key={"parameter": {"S": name}},
        ConsistentRead=True,
    )
    value = found.get("Item", {}).get("value", {})
    if "N" in value:
        return Decimal(value["N"])
    if "S" in value:
        return Decimal(value["S"])
    return default


#: ParameterTable's round number, set by the scoreboard as each round starts.
ROUND = "ROUND"

_random: dict[str, tuple[Decimal | None, random.Random]] = {}
#: Per function: the round this worker last saw, and how many batches it has handled in it.
_round_counts: dict[str, tuple[Decimal, int]] = {}


def _generator_for(who: str, seed: Decimal | None) -> random.Random:
    """One random generator per function, for failures without a seed."""
    known = _random.get(who)
    if known is None or known[0] != seed:
        rng = random.Random()
        known = (seed, rng)
        _random[who] = known
    return known[1]


def scheduled_failure(
    seed: Decimal, round_number: Decimal, who: str, batch: int, rate: Decimal
) -> bool:
    """Whether ``who``'s ``batch``-th batch (1, 2, …) of a round fails, with a failure seed.

    The schedule depends only on the seed, the round and the function, never on timing: the
    first batch of every round fails (so lab 2's drift shows from the first round on), and
    each later batch fails at ``rate`` percent, decided by a hash of the four.
    """
    if batch <= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{round_number}:{who}:{batch}".encode()).digest()
    draw = Decimal(int.from_bytes(digest[:8], "big") % 10_000) / 100
    return draw < rate


def _next_batch(who: str, round_number: Decimal) -> int:
    seen, count = _round_counts.get(who, (Decimal(-1), 0))
    count = count + 1 if seen == round_number else 1
    _round_counts[who] = (round_number, count)
    return count


def maybe_fail(dynamodb: Any, who: str, rate_parameter: str) -> None:
    """Fail at the rate (in percent) ParameterTable sets for this function.

    Called *after* the function's writes: the batch is retried although its effects are
    already stored, which is what makes a non-idempotent stage drift. With ``FAILURE_SEED``
    set, failures follow :func:`scheduled_failure` for the round the scoreboard is playing
    (``ROUND``): the same for every learner and every run. Without it, they are random.
    """
    rate = read_parameter(dynamodb, rate_parameter)
    if rate <= 0:
        return
    seed_value = read_parameter(dynamodb, FAILURE_SEED, Decimal(-1))
    if seed_value >= 0:
        round_number = read_parameter(dynamodb, ROUND, Decimal(0))
        fails = scheduled_failure(
            seed_value, round_number, who, _next_batch(who, round_number), rate
        )
    else:
        fails = Decimal(str(_generator_for(who, None).uniform(0, 100))) < rate
    if fails:
        raise InjectedFailure(
            f"{who} failed on purpose after its writes ({rate_parameter} = {rate}%); "
            "the event source mapping retries the batch"
        )


# ----- trades ----------------------------------------------------------------------------------
BATCH_SIZE = 40
DUPLICATES_PER_BATCH = 5
MODIFY_PERCENT = 3
#: In lab 2 the first batch of every round changes a trade (v1) at this position and sends an
#: older version of a changed trade at the second, so every round has a stale version.
FORCED_CHANGES = (10, 20)
MAX_CENTS = 10_000_000  # values from 0.00 to 100,000.00


class Kind(StrEnum):
    """What a message is, from the pipeline's point of view."""

    NEW = "new"
    MODIFIED = "modified"  # the next version of a trade, in order
    STALE = "stale"  # an older version than the one already sent
    DUPLICATE = "duplicate"  # an exact copy of an earlier message


def format_cents(cents: int) -> str:
    """``123456`` -> ``1234.56`` (exact, no float involved)."""
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Trade:
    trade_id: str
    version: int
    cents: int
    risk_type: str
    region: str
    trade_desk: str
    timestamp: float

    @property
    def value(self) -> Decimal:
        return Decimal(format_cents(self.cents))

    @property
    def hierarchy(self) -> dict[str, str]:
        return {"RiskType": self.risk_type, "Region": self.region, "TradeDesk": self.trade_desk}

    @property
    def leaf_key(self) -> str:
        return leaf_key(self.hierarchy)

    def to_json(self) -> str:
        """The Kinesis record: ``{"TradeID": …, "Version": 0, "Value": 1234.56, …}``."""
        return (
            "{"
            f'"TradeID": {json.dumps(self.trade_id)}, '
            f'"Version": {self.version}, '
            f'"Value": {format_cents(self.cents)}, '
            f'"Hierarchy": {json.dumps(self.hierarchy, sort_keys=True)}, '
            f'"Timestamp": {self.timestamp:.3f}'
            "}"
        )


def parse_trade(data: str | bytes) -> dict[str, Any]:
    """A trade message as Python values; ``Value`` is an exact ``Decimal``."""
    parsed: dict[str, Any] = json.loads(data, parse_float=Decimal, parse_int=int)
    parsed["Value"] = Decimal(parsed["Value"])
    return parsed


@dataclass(frozen=True)
class Message:
    trade: Trade
    kind: Kind


@dataclass(frozen=True)
class GeneratedRound:
    """A burst of messages and what the aggregates must change by once it is processed."""

    seed: str
    special: bool
    messages: tuple[Message, ...]
    latest: tuple[Trade, ...]  # the newest version of every trade in the round

    def stats(self) -> dict[str, int]:
        counts = {kind.value: 0 for kind in Kind}
        for message in self.messages:
            counts[message.kind.value] += 1
        return counts

    def expected(self) -> dict[str, Decimal]:
        """All 18 value keys and ``message_count``: the exact change the round must cause."""
        leaves = {key: Decimal(0) for key in leaf_keys()}
        for trade in self.latest:
            leaves[trade.leaf_key] += trade.value
        totals = roll_up(leaves)
        accepted = sum(1 for m in self.messages if m.kind in (Kind.NEW, Kind.MODIFIED))
        totals[MESSAGE_COUNT] = Decimal(accepted)
        return totals

    def records(self) -> list[tuple[str, bytes]]:
        """(partition key, data) in send order. The partition key is the TradeID, so every
        version of a trade lands on one shard, in the order it was sent."""
        return [(m.trade.trade_id, m.trade.to_json().encode()) for m in self.messages]


def _new_trade(rng: random.Random, timestamp: float) -> Trade:
    return Trade(
        trade_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        version=0,
        cents=rng.randint(0, MAX_CENTS),
        risk_type=rng.choice(RISK_TYPES),
        region=rng.choice(REGIONS),
        trade_desk=rng.choice(TRADE_DESKS),
        timestamp=timestamp,
    )


def generate_round(
    seed: int | str, count: int = 10_000, *, special: bool = False, start: float = 0.0
) -> GeneratedRound:
    """``count`` messages, in batches of 40, from a seeded random generator.

    Without ``special`` every message is a new trade. With it (lab 2), each batch of 40 has
    35 generated messages and 5 exact duplicates of earlier messages of the batch, placed after
    their originals; 3 % of the generated messages modify a trade of the round: the next
    version (v1) if the trade is at v0, otherwise an *older* version than the one already sent,
    with a new value; the first batch always has one of each (:data:`FORCED_CHANGES`), so
    every lab-2 round has a stale version. Only the newest version of each trade counts in the
    expected totals.
    """
    rng = random.Random(f"labkit-round:{seed}")
    latest: dict[str, Trade] = {}
    order: list[str] = []
    modified: list[str] = []
    messages: list[Message] = []
    clock = 0
    for batch_start in range(0, count, BATCH_SIZE):
        size = min(BATCH_SIZE, count - batch_start)
        duplicates = min(DUPLICATES_PER_BATCH, size - 1) if special and size > 1 else 0
        batch: list[Message] = []
        for position in range(size - duplicates):
            timestamp = round(start + clock / 1000, 3)
            clock += 1
            forced = special and batch_start == 0 and position in FORCED_CHANGES
            drawn = special and bool(order) and rng.random() * 100 < MODIFY_PERCENT
            if special and order and (forced or drawn):
                stale_wanted = position == FORCED_CHANGES[1] and batch_start == 0 and modified
                current = latest[rng.choice(modified if stale_wanted else order)]
                changed = _new_trade(rng, timestamp)
                if current.version == 0:
                    trade = replace(changed, trade_id=current.trade_id, version=1)
                    latest[trade.trade_id] = trade
                    modified.append(trade.trade_id)
                    batch.append(Message(trade, Kind.MODIFIED))
                else:
                    stale = replace(changed, trade_id=current.trade_id, version=current.version - 1)
                    batch.append(Message(stale, Kind.STALE))
                continue
            trade = _new_trade(rng, timestamp)
            latest[trade.trade_id] = trade
            order.append(trade.trade_id)
            batch.append(Message(trade, Kind.NEW))
        for _ in range(duplicates):
            original = rng.randrange(len(batch))
            position = rng.randint(original + 1, len(batch))
            batch.insert(position, Message(batch[original].trade, Kind.DUPLICATE))
        messages.extend(batch)
    return GeneratedRound(str(seed), special, tuple(messages), tuple(latest.values()))


# ----- sending to Kinesis ----------------------------------------------------------------------
MAX_RECORDS_PER_CALL = 500
SEND_ATTEMPTS = 8


def send_records(
    kinesis: Any,
    stream_name: str,
    records: Sequence[tuple[str, bytes]],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send (partition key, data) records with PutRecords, at most 500 per call, in order.

    Records Kinesis rejects (throttling on a busy shard) are sent again, with a growing pause,
    before the next chunk. Returns the number of PutRecords calls.
    """
    calls = 0
    for start in range(0, len(records), MAX_RECORDS_PER_CALL):
        pending = [
            {"PartitionKey": key, "Data": data}
            for key, data in records[start : start + MAX_RECORDS_PER_CALL]
        ]
        delay = 0.1
        for attempt in range(SEND_ATTEMPTS):
            calls += 1
            answer = kinesis.put_records(StreamName=stream_name, Records=pending)
            if not answer.get("FailedRecordCount"):
                break
            pending = [
                entry
                for entry, result in zip(pending, answer["Records"], strict=True)
                if result.get("ErrorCode")
            ]
            if attempt == SEND_ATTEMPTS - 1:
                raise RuntimeError(
                    f"Kinesis kept rejecting {len(pending)} records of {stream_name}; "
                    "the stream may need more shards"
                )
            sleep(delay)
            delay = min(delay * 2, 2.0)
    return calls
