"""Scoring rounds: exact per-key comparison, points, history and the switch to lab 2.

These tests run against moto in this process; a fake "pipeline" (the drain callback) reads
what the round sent to Kinesis and writes the aggregates, correctly or not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from labkit.deploy import Boto3Executor, Stack, plan_stack
from labkit.lab.functions import pipeline
from labkit.lab.progress import SilentProgress
from labkit.lab.scoreboard import LAB2_THRESHOLD, Scoreboard, ScoreboardError, compare
from labkit.lab.workshop import Workshop


@pytest.fixture
def workshop(tmp_path: Path, aws_env: None) -> Iterator[Workshop]:
    """A workshop in moto with the stream, tables and ParameterTable items of lab1.step2
    (no functions: the fake pipeline stands in for them)."""
    with mock_aws():
        lab = Workshop(
            region="us-east-1",
            data_dir=tmp_path,
            progress=SilentProgress(),
            sleep=lambda seconds: None,
        )
        full = lab.stack("lab1.step2")
        data_only = Stack(streams=full.streams, tables=full.tables, items=full.items)
        Boto3Executor(lab.client, propagation_timeout=0).run(plan_stack(data_only, lab.reader()))
        yield lab


class FakePipeline:
    """Reads everything sent to IncomingDataStream since last time and aggregates it.

    ``correct`` keeps the newest version per trade (the fixed pipeline); otherwise the last
    message wins (the starter StateLambda), which drifts on stale versions.
    """

    def __init__(self, workshop: Workshop, *, correct: bool = True) -> None:
        self.workshop = workshop
        self.correct = correct
        self.state: dict[str, dict[str, Any]] = {}
        self.seen: dict[str, str] = {}
        self.calls = 0

    def __call__(self, timeout: float) -> None:
        self.calls += 1
        kinesis = self.workshop.client("kinesis")
        stream = self.workshop.names.incoming_stream
        totals: dict[str, Decimal] = {}
        messages = 0
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            shard_id = shard["ShardId"]
            position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
            if shard_id in self.seen:
                position = {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "StartingSequenceNumber": self.seen[shard_id],
                }
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, **position)
            records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
            for record in records:
                self.seen[shard_id] = record["SequenceNumber"]
                trade = pipeline.parse_trade(record["Data"])
                old = self.state.get(trade["TradeID"])
                if old is not None and self.correct and old["Version"] >= trade["Version"]:
                    continue
                if old == trade:
                    continue
                self.state[trade["TradeID"]] = trade
                leaf = pipeline.leaf_key(trade["Hierarchy"])
                totals[leaf] = totals.get(leaf, Decimal(0)) + trade["Value"]
                if old is not None:
                    was = pipeline.leaf_key(old["Hierarchy"])
                    totals[was] = totals.get(was, Decimal(0)) - old["Value"]
                messages += 1
        rolled = pipeline.roll_up(totals)
        if messages:
            rolled["message_count"] = Decimal(messages)
        dynamodb = self.workshop.client("dynamodb")
        for key, value in rolled.items():
            dynamodb.update_item(
                TableName=self.workshop.names.aggregate_table,
                Key={"Identifier": {"S": key}},
                UpdateExpression="ADD #v :v",
                ExpressionAttributeNames={"#v": "Value"},
                ExpressionAttributeValues={":v": {"N": str(value)}},
            )


def board_with(workshop: Workshop, drain: Callable[[float], None]) -> Scoreboard:
    return Scoreboard(workshop.client, workshop.settings, drain=drain, clock=lambda: 1000.0)


def test_exact_round_scores_100(workshop: Workshop) -> None:
    """When every key changed by exactly what the round sent, the round scores 100."""
    scores = board_with(workshop, FakePipeline(workshop))
    result = scores.play_round(messages=300, seed=1)
    assert result.exact and result.points == 100 and result.total == 100
    assert len(result.keys) == 19
    assert result.max_error == 0
    assert "exact: +100 points" in result.lines()[0]


def test_one_wrong_key_scores_nothing_and_shows_the_error(workshop: Workshop) -> None:
    """A drifting pipeline scores 0 and each wrong key shows expected, actual and error."""
    scores = board_with(workshop, FakePipeline(workshop, correct=False))
    result = scores.play_round(messages=400, seed=2, special=True)
    assert result.stats["stale"] > 0
    assert not result.exact and result.points == 0
    wrong = {k.key: k for k in result.wrong}
    assert wrong and all(k.error == k.actual - k.expected for k in wrong.values())
    assert any(key in line for line in result.lines()[1:] for key in wrong)


def test_rounds_before_the_round_do_not_count(workshop: Workshop) -> None:
    """Only the change during a round is scored, whatever AggregateTable held before."""
    dynamodb = workshop.client("dynamodb")
    dynamodb.put_item(
        TableName="AggregateTable", Item={"Identifier": {"S": "PV"}, "Value": {"N": "12345.67"}}
    )
    result = board_with(workshop, FakePipeline(workshop)).play_round(messages=100, seed=2)
    assert result.exact


def test_total_history_and_the_switch_to_lab_2(workshop: Workshop) -> None:
    """Points add up in ParameterTable; at 300 the failure rates and special trades come on,
    and the next round is a lab 2 round."""
    scores = board_with(workshop, FakePipeline(workshop))
    results = [scores.play_round(messages=80, seed=s) for s in range(3)]
    assert [r.total for r in results] == [100, 200, 300]
    assert [r.lab2_started for r in results] == [False, False, True]
    board = scores.board()
    assert board.total == LAB2_THRESHOLD and board.played == 3 and board.lab2
    assert [r.number for r in board.rounds] == [1, 2, 3]
    assert scores.parameter("FAILURE_REDUCE_LAMBDA_PCT") == 10
    assert scores.parameter("FAILURE_STATE_LAMBDA_PCT") == 5
    assert scores.play_round(messages=80, seed=9).special is True
    assert json.loads(json.dumps(board.to_dict()))["total"] == 300


def test_each_round_gets_its_own_trades(workshop: Workshop) -> None:
    """The same seed in two rounds gives different trades (the round number is part of the
    generator's seed), so StateTable never sees an old TradeID again."""
    scores = board_with(workshop, FakePipeline(workshop))
    first = scores.play_round(messages=50, seed=5)
    second = scores.play_round(messages=50, seed=5)
    assert first.seed == "5/1" and second.seed == "5/2"
    assert second.exact


def test_drain_is_awaited_before_and_after(workshop: Workshop) -> None:
    """The scoreboard waits for the pipeline before reading "before" and after sending."""
    fake = FakePipeline(workshop)
    board_with(workshop, fake).play_round(messages=10, seed=3)
    assert fake.calls == 2


def test_reset_score_forgets_rounds(workshop: Workshop) -> None:
    """reset_score empties the total and the history."""
    scores = board_with(workshop, FakePipeline(workshop))
    scores.play_round(messages=10, seed=4)
    scores.reset_score()
    assert scores.board().total == 0 and scores.board().rounds == ()


def test_compare_lists_every_key_and_any_unexpected_one() -> None:
    """compare covers the 18 value keys and message_count, plus keys that moved unexpectedly."""
    expected = {"PV": Decimal("1.00"), "message_count": Decimal(1)}
    before = {"PV": Decimal("5")}
    after = {"PV": Decimal("6.00"), "message_count": Decimal(1), "odd": Decimal(2)}
    results = {k.key: k for k in compare(expected, before, after)}
    assert len(results) == 20
    assert results["PV"].exact
    assert results["odd"].error == 2
    assert results["Delta"].exact and results["Delta"].actual == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_without_a_local_cloud_the_board_waits_for_the_count_to_settle(
    workshop: Workshop,
) -> None:
    """On AWS (no wait_idle) the scoreboard polls AggregateTable until message_count has
    reached the expected change and stayed still for the quiet period."""
    clock = Clock()
    pipeline_run = FakePipeline(workshop)
    scores = Scoreboard(
        workshop.client,
        workshop.settings,
        drain=None,
        monotonic=clock.monotonic,
        sleep=lambda s: (clock.sleep(s), pipeline_run(0) if clock.now == 3 else None),  # type: ignore[func-returns-value]
        quiet_seconds=5,
    )
    result = scores.play_round(messages=40, seed=6, timeout=60)
    assert result.exact
    assert 8 <= clock.now <= 12


def test_lab_2_switch_can_be_turned_off(workshop: Workshop) -> None:
    """With switch_to_lab2=False the board stays in lab 1 past 300 points."""
    scores = Scoreboard(
        workshop.client, workshop.settings, drain=FakePipeline(workshop), switch_to_lab2=False
    )
    for seed in range(3):
        scores.play_round(messages=20, seed=seed)
    assert scores.board().total == 300 and not scores.board().lab2


def test_round_without_tables_is_a_clear_error(tmp_path: Path, aws_env: None) -> None:
    """Playing before the tables exist raises ScoreboardError saying what to create."""
    with mock_aws():
        lab = Workshop(region="us-east-1", data_dir=tmp_path, progress=SilentProgress())
        scores = Scoreboard(lab.client, lab.settings, drain=lambda timeout: None)
        with pytest.raises(ScoreboardError, match=r"lab1\.step1"):
            scores.play_round(messages=10, seed=1)


def test_workshop_round_reaching_300_completes_lab_1(workshop: Workshop) -> None:
    """Through Workshop.play_round, the round that starts lab 2 records lab1.step3 as done."""
    workshop._wait_idle = FakePipeline(workshop)
    for seed in range(3):
        workshop.play_round(messages=20, seed=seed)
    assert workshop.progress_record().current == "lab2.step1"
