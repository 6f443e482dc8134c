"""Lab 2's failure schedule: fixed by the seed and the round, never by timing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from labkit.lab.functions import pipeline

from .conftest import FakeDynamoDB


def test_schedule_is_a_function_of_seed_round_function_and_batch() -> None:
    """The same inputs give the same answer; the first batch of a round always fails."""
    rate = Decimal(10)
    for round_number in (Decimal(1), Decimal(7)):
        assert pipeline.scheduled_failure(Decimal(39), round_number, "ReduceLambda", 1, rate)
    answers = [
        pipeline.scheduled_failure(Decimal(39), Decimal(3), "MapLambda", n, rate)
        for n in range(2, 400)
    ]
    again = [
        pipeline.scheduled_failure(Decimal(39), Decimal(3), "MapLambda", n, rate)
        for n in range(2, 400)
    ]
    assert answers == again
    assert 10 < sum(answers) < 80  # about 10 % of the later batches


def test_every_round_starts_with_a_failure_then_follows_the_schedule() -> None:
    """maybe_fail with FAILURE_SEED fails the first batch of each round a worker sees."""
    pipeline._round_counts.clear()
    dynamodb = FakeDynamoDB()
    dynamodb.parameters = {"FAILURE_REDUCE_LAMBDA_PCT": "10", "FAILURE_SEED": "39", "ROUND": "1"}

    def outcomes(count: int) -> list[bool]:
        found = []
        for _ in range(count):
            try:
                pipeline.maybe_fail(dynamodb, "ReduceLambda", "FAILURE_REDUCE_LAMBDA_PCT")
                found.append(False)
            except pipeline.InjectedFailure:
                found.append(True)
        return found

    first = outcomes(20)
    assert first[0]
    dynamodb.parameters["ROUND"] = "2"
    second = outcomes(20)
    assert second[0]
    pipeline._round_counts.clear()
    dynamodb.parameters["ROUND"] = "1"
    assert outcomes(20) == first  # a fresh worker replays round 1 exactly


@pytest.mark.parametrize("seed", ["a/1", "b/2", 7])
def test_every_lab_2_round_has_a_stale_version(seed: object) -> None:
    """Even a short round of 80 messages has an older version of a changed trade."""
    found = pipeline.generate_round(str(seed), 80, special=True)
    assert found.stats()["stale"] >= 1 and found.stats()["modified"] >= 1
