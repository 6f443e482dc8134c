"""The scoreboard: play a round, wait until the pipeline has processed it, score it exactly.

A round works like this:

1. wait until the pipeline is idle, then read AggregateTable ("before");
2. send a burst of trades (lab 2's duplicates and stale versions once lab 2 is on) and keep the
   exact change it must cause: 18 value keys and ``message_count``;
3. wait until the pipeline has drained (locally ``Lab.wait_idle``, which knows when every
   invocation and mapping has caught up; on AWS, until ``message_count`` has moved by the
   expected amount and stopped moving);
4. read AggregateTable again and compare, per key, ``after - before`` with the expected change,
   as ``Decimal`` (exact to the cent). A round scores 100 points only if every key is exact.

The total, the number of rounds and the recent history live in ParameterTable's ``SCORE`` item,
so they survive restarts. When the total reaches 300, lab 2's failures and special trades are
switched on in ParameterTable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from .functions.pipeline import MESSAGE_COUNT, all_value_keys
from .generator import SentRound, play_in_process, play_with_lambda
from .names import FunctionId, LabSettings, Parameter

ROUND_POINTS = 100
LAB2_THRESHOLD = 300
HISTORY_LIMIT = 100
DEFAULT_MESSAGES = 10_000

ClientFactory = Callable[[str], Any]
Drain = Callable[[float], None]


class ScoreboardError(RuntimeError):
    """The round could not be played or scored; the message says why and what to do."""


@dataclass(frozen=True)
class KeyResult:
    key: str
    expected: Decimal
    actual: Decimal

    @property
    def error(self) -> Decimal:
        return self.actual - self.expected

    @property
    def exact(self) -> bool:
        return self.actual == self.expected


@dataclass(frozen=True)
class RoundResult:
    number: int
    seed: str
    messages: int
    special: bool
    stats: Mapping[str, int]
    keys: tuple[KeyResult, ...]
    points: int
    total: int
    drain_seconds: float
    lab2_started: bool = False

    @property
    def exact(self) -> bool:
        return all(k.exact for k in self.keys)

    @property
    def wrong(self) -> tuple[KeyResult, ...]:
        return tuple(k for k in self.keys if not k.exact)

    @property
    def max_error(self) -> Decimal:
        return max((abs(k.error) for k in self.keys), default=Decimal(0))

    @property
    def drifted(self) -> dict[str, Decimal]:
        """The keys that are not exact, and by how much each is off (actual - expected)."""
        return {k.key: k.error for k in self.keys if not k.exact}

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted": {key: str(error) for key, error in self.drifted.items()},
            "round": self.number,
            "seed": self.seed,
            "messages": self.messages,
            "special": self.special,
            "stats": dict(self.stats),
            "points": self.points,
            "total": self.total,
            "exact": self.exact,
            "max_error": str(self.max_error),
            "drain_seconds": round(self.drain_seconds, 3),
            "lab2_started": self.lab2_started,
            "keys": [
                {
                    "key": k.key,
                    "expected": str(k.expected),
                    "actual": str(k.actual),
                    "error": str(k.error),
                }
                for k in self.keys
            ],
        }

    def lines(self) -> list[str]:
        verdict = "exact" if self.exact else f"{len(self.wrong)} key(s) wrong"
        out = [
            f"Round {self.number}: {self.messages} messages, {verdict}: +{self.points} points "
            f"(total {self.total}); processed in {self.drain_seconds:.1f} s"
        ]
        for k in self.wrong:
            out.append(f"  {k.key:<22} expected {k.expected}, got {k.actual} (error {k.error})")
        if self.lab2_started:
            out.append("  300 points: lab 2 begins. Failures and special trades are now on.")
        return out


@dataclass(frozen=True)
class RoundSummary:
    """One round as the board remembers it."""

    number: int
    seed: str
    messages: int
    special: bool
    points: int
    wrong: int
    max_error: Decimal
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.number,
            "seed": self.seed,
            "messages": self.messages,
            "special": self.special,
            "points": self.points,
            "wrong_keys": self.wrong,
            "max_error": str(self.max_error),
            "at": self.at,
        }


@dataclass(frozen=True)
class Board:
    total: int
    played: int
    lab2: bool
    rounds: tuple[RoundSummary, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "played": self.played,
            "lab2": self.lab2,
            "rounds": [r.to_dict() for r in self.rounds],
        }

    def lines(self, shown: int = 10) -> list[str]:
        """The board as text: the total, then the newest ``shown`` rounds, and a line saying how
        many older rounds are not shown (numbers with thousands separators)."""
        mode = "lab 2 (failures and special trades on)" if self.lab2 else "lab 1"
        rounds = "round" if self.played == 1 else "rounds"
        out = [f"Score: {self.total:,} points after {self.played:,} {rounds}; {mode}"]
        recent = self.rounds[-shown:] if shown > 0 else ()
        for r in recent:
            verdict = (
                "exact" if r.wrong == 0 else f"{r.wrong} key(s) wrong, max error {r.max_error:,.2f}"
            )
            out.append(
                f"  round {r.number:>4,}: {r.messages:>7,} messages  +{r.points:<3} {verdict}"
            )
        hidden = self.played - len(recent)
        if hidden > 0:
            kept = len(self.rounds) - len(recent)
            where = (
                f"labkit score --json lists {kept:,} more"
                if kept
                else "only the newest rounds are kept"
            )
            out.append(f"  ({hidden:,} older round{'s' if hidden != 1 else ''} not shown; {where})")
        return out


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class Scoreboard:
    """Plays and scores rounds against one lab (tables named by ``settings``).

    ``drain`` waits until the pipeline is idle (``Lab.wait_idle``); without it the board
    watches ``message_count`` settle. ``switch_to_lab2=False`` keeps lab 1 whatever the
    score (benchmarks, instructors replaying lab 1).
    """

    def __init__(
        self,
        client: ClientFactory,
        settings: LabSettings,
        *,
        drain: Drain | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        quiet_seconds: float = 5.0,
        switch_to_lab2: bool = True,
    ) -> None:
        self._client = client
        self.switch_to_lab2 = switch_to_lab2
        self.settings = settings
        self.names = settings.names
        self._drain = drain
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self.quiet_seconds = quiet_seconds
        self._deserialise = TypeDeserializer().deserialize

    # ----- reading --------------------------------------------------------------------------
    def aggregates(self) -> dict[str, Decimal]:
        """AggregateTable as ``{Identifier: Value}`` (strongly consistent)."""
        dynamodb = self._client("dynamodb")
        found: dict[str, Decimal] = {}
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=self.names.aggregate_table, ConsistentRead=True
        )
        for page in pages:
            for item in page.get("Items", []):
                value = item.get("Value")
                if value is not None:
                    found[item["Identifier"]["S"]] = _number(self._deserialise(value))
        return found

    def parameter(self, name: str, default: Decimal = Decimal(0)) -> Decimal:
        item = self._client("dynamodb").get_item(
            TableName=self.names.parameter_table,
            Key={"parameter": {"S": name}},
            ConsistentRead=True,
        )
        value = item.get("Item", {}).get("value")
        return default if value is None else _number(self._deserialise(value))

    def set_parameter(self, name: str, value: int) -> None:
        """Set a number in ParameterTable (``FAILURE_SEED`` makes failures reproducible)."""
        self._client("dynamodb").update_item(
            TableName=self.names.parameter_table,
            Key={"parameter": {"S": name}},
            UpdateExpression="SET #value = :value",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":value": {"N": str(value)}},
        )

    def board(self) -> Board:
        """The total, the number of rounds and the recent rounds."""
        item = self._client("dynamodb").get_item(
            TableName=self.names.parameter_table,
            Key={"parameter": {"S": Parameter.SCORE.value}},
            ConsistentRead=True,
        )
        lab2 = self.parameter(Parameter.SPECIAL_TRADES) > 0
        raw = item.get("Item")
        if raw is None:
            return Board(0, 0, lab2)
        document = {k: self._deserialise(v) for k, v in raw.items()}
        rounds = tuple(
            RoundSummary(
                number=int(entry["round"]),
                seed=str(entry["seed"]),
                messages=int(entry["messages"]),
                special=bool(entry["special"]),
                points=int(entry["points"]),
                wrong=int(entry["wrong"]),
                max_error=_number(entry["max_error"]),
                at=float(entry["at"]),
            )
            for entry in document.get("history", [])
        )
        return Board(int(document.get("value", 0)), int(document.get("played", 0)), lab2, rounds)

    # ----- playing --------------------------------------------------------------------------
    def play_round(
        self,
        *,
        messages: int = DEFAULT_MESSAGES,
        seed: int | str | None = None,
        special: bool | None = None,
        generator: Literal["local", "lambda"] = "local",
        timeout: float = 300.0,
    ) -> RoundResult:
        """Send one round, wait for the pipeline to process it, and score it.

        ``seed`` makes the round reproducible (the round number is added, so every round has
        new trades); ``special`` forces lab 2's duplicates and stale versions on or off (by
        default ParameterTable's ``SPECIAL_TRADES`` decides); ``generator="lambda"`` has
        GeneratorLambda send the round instead of this process.
        """
        try:
            return self._play(messages, seed, special, generator, timeout)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise ScoreboardError(
                    f"A round needs {self.names.aggregate_table}, {self.names.parameter_table} "
                    f"and {self.names.incoming_stream}, and one of them does not exist yet. "
                    "Create the tables (lab1.step1) first."
                ) from None
            raise

    def _play(
        self,
        messages: int,
        seed: int | str | None,
        special: bool | None,
        generator: Literal["local", "lambda"],
        timeout: float,
    ) -> RoundResult:
        self._wait(timeout, None)
        before = self.aggregates()
        board = self.board()
        number = board.played + 1
        lab2 = board.lab2 if special is None else special
        base = seed if seed is not None else random.SystemRandom().getrandbits(32)
        round_seed = f"{base}/{number}"
        # Lab 2's failure schedule follows the round (see pipeline.scheduled_failure).
        self.set_parameter(Parameter.ROUND, number)
        started = self._monotonic()
        if generator == "lambda":
            sent = play_with_lambda(
                self._client("lambda"),
                self.names.function(FunctionId.GENERATOR),
                round_seed,
                messages,
                special=lab2,
            )
        else:
            sent = play_in_process(
                self._client("kinesis"),
                self.names.incoming_stream,
                round_seed,
                messages,
                special=lab2,
                clock=self._clock,
                sleep=self._sleep,
            )
        self._wait(timeout, (before, sent))
        drained = self._monotonic() - started
        after = self.aggregates()
        keys = compare(sent.expected, before, after)
        points = ROUND_POINTS if all(k.exact for k in keys) else 0
        total, started_lab2 = self._record(number, sent, keys, points, board)
        return RoundResult(
            number=number,
            seed=sent.seed,
            messages=sent.messages,
            special=sent.special,
            stats=sent.stats,
            keys=keys,
            points=points,
            total=total,
            drain_seconds=drained,
            lab2_started=started_lab2,
        )

    def reset_score(self) -> None:
        """Forget the score and the rounds (lab 2's switches stay as they are)."""
        self._client("dynamodb").delete_item(
            TableName=self.names.parameter_table,
            Key={"parameter": {"S": Parameter.SCORE.value}},
        )

    # ----- internals ------------------------------------------------------------------------
    def _wait(
        self, timeout: float, expecting: tuple[Mapping[str, Decimal], SentRound] | None
    ) -> None:
        if self._drain is not None:
            self._drain(timeout)
        elif expecting is not None:
            self._settle(timeout, *expecting)

    def _settle(self, timeout: float, before: Mapping[str, Decimal], sent: SentRound) -> None:
        """Without a local cloud to ask: wait until ``message_count`` moved by the expected
        amount and then stayed still for ``quiet_seconds`` (or the timeout passed)."""
        target = before.get(MESSAGE_COUNT, Decimal(0)) + sent.expected[MESSAGE_COUNT]
        deadline = self._monotonic() + timeout
        last: Decimal | None = None
        still_since = self._monotonic()
        while self._monotonic() < deadline:
            count = self.aggregates().get(MESSAGE_COUNT, Decimal(0))
            now = self._monotonic()
            if count != last:
                last, still_since = count, now
            elif count >= target and now - still_since >= self.quiet_seconds:
                return
            self._sleep(1.0)

    def _record(
        self, number: int, sent: SentRound, keys: tuple[KeyResult, ...], points: int, board: Board
    ) -> tuple[int, bool]:
        dynamodb = self._client("dynamodb")
        wrong = [k for k in keys if not k.exact]
        entry = {
            "M": {
                "round": {"N": str(number)},
                "seed": {"S": sent.seed},
                "messages": {"N": str(sent.messages)},
                "special": {"BOOL": sent.special},
                "points": {"N": str(points)},
                "wrong": {"N": str(len(wrong))},
                "max_error": {"N": str(max((abs(k.error) for k in keys), default=Decimal(0)))},
                "at": {"N": str(round(self._clock(), 3))},
            }
        }
        updated = dynamodb.update_item(
            TableName=self.names.parameter_table,
            Key={"parameter": {"S": Parameter.SCORE.value}},
            UpdateExpression="ADD #value :points, #played :one "
            "SET #history = list_append(if_not_exists(#history, :empty), :entry)",
            ExpressionAttributeNames={
                "#value": "value",
                "#played": "played",
                "#history": "history",
            },
            ExpressionAttributeValues={
                ":points": {"N": str(points)},
                ":one": {"N": "1"},
                ":empty": {"L": []},
                ":entry": {"L": [entry]},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        total = int(Decimal(updated["value"]["N"]))
        excess = len(updated["history"]["L"]) - HISTORY_LIMIT
        if excess > 0:
            dynamodb.update_item(
                TableName=self.names.parameter_table,
                Key={"parameter": {"S": Parameter.SCORE.value}},
                UpdateExpression="REMOVE " + ", ".join(f"#h[{i}]" for i in range(excess)),
                ExpressionAttributeNames={"#h": "history"},
            )
        started = False
        if self.switch_to_lab2 and total >= LAB2_THRESHOLD and not board.lab2:
            for parameter, rate in self.settings.failure_rates:
                self.set_parameter(parameter, rate)
            self.set_parameter(Parameter.SPECIAL_TRADES, 1)
            started = True
        return total, started


def compare(
    expected: Mapping[str, Decimal], before: Mapping[str, Decimal], after: Mapping[str, Decimal]
) -> tuple[KeyResult, ...]:
    """Every expected key (and any other key that moved), with its exact change."""
    keys = list(dict.fromkeys([*all_value_keys(), MESSAGE_COUNT, *expected]))
    moved = [k for k in after if k not in keys and after[k] != before.get(k, Decimal(0))]
    results = []
    for key in [*keys, *sorted(moved)]:
        change = after.get(key, Decimal(0)) - before.get(key, Decimal(0))
        results.append(KeyResult(key, expected.get(key, Decimal(0)), change))
    return tuple(results)
