"""Rounds through the whole pipeline on the local cloud, scored exactly.

Lab 1 rounds are exact and 300 points switch lab 2 on. Under lab 2's failures, duplicates and
stale versions the aggregates are exact only with both fixes; without either they drift. The
failures are seeded (FAILURE_SEED) so that every stage certainly fails at least once, and the
rounds are seeded so that they certainly contain a stale version.
"""

from __future__ import annotations

import pytest

from labkit.lab.names import CodeVersion, FunctionId
from labkit.lab.packages import package
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

from .conftest import (
    SEED_ALL_FAIL_FIRST,
    SEED_REDUCE_FAILS_FIRST,
    errors_by_function,
    seed_with_stale,
)

pytestmark = pytest.mark.slow

TIMEOUT = 150.0


def test_lab_1_rounds_are_exact_and_300_points_start_lab_2(workshop: Workshop) -> None:
    """With the lab-1 pipeline connected, three rounds score 100 each; the third reaches 300
    points and switches lab 2's failures and special trades on."""
    workshop.reset("lab1.step3", solved=True, confirm=True)
    scores = workshop.scoreboard()
    results = [scores.play_round(messages=300, seed=s, timeout=TIMEOUT) for s in (1, 2, 3)]
    assert [r.exact for r in results] == [True] * 3, [r.lines() for r in results]
    assert [r.total for r in results] == [100, 200, 300]
    assert results[-1].lab2_started
    assert scores.parameter("SPECIAL_TRADES") == 1
    assert scores.parameter("FAILURE_STATE_LAMBDA_PCT") == 5


def test_round_sent_by_generator_lambda_is_exact(workshop: Workshop) -> None:
    """GeneratorLambda, with only PutRecords and ParameterTable reads, sends a round whose
    expected totals it computed itself; the pipeline matches them exactly."""
    workshop.reset("lab1.step3", solved=True, confirm=True)
    result = workshop.scoreboard().play_round(
        messages=400, seed=5, generator="lambda", timeout=TIMEOUT
    )
    assert result.exact, result.lines()
    assert result.stats["new"] == 400


def test_both_fixes_are_exact_under_failures_duplicates_and_stale_versions(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """With the fixed StateLambda and ReduceLambda, a lab 2 round is exact although every
    stage failed after its writes at least once."""
    workshop.reset("lab2.step2", solved=True, confirm=True)
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED_ALL_FAIL_FIRST[0])
    number = scores.board().played + 1
    before = errors_by_function(lab_cloud)
    result = scores.play_round(messages=2000, seed=seed_with_stale(number, 2000), timeout=TIMEOUT)
    after = errors_by_function(lab_cloud)
    assert result.special and result.stats["duplicate"] > 0 and result.stats["stale"] > 0
    for function in ("StateLambda", "MapLambda", "ReduceLambda"):
        assert after.get(function, 0) > before.get(function, 0), f"{function} never failed"
    assert result.exact, result.lines()
    assert result.points == 100


def test_starter_code_drifts_under_lab_2(workshop: Workshop) -> None:
    """The starter StateLambda and ReduceLambda under lab 2: the aggregates drift."""
    workshop.reset("lab2.step1", confirm=True)
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED_ALL_FAIL_FIRST[1])
    number = scores.board().played + 1
    result = scores.play_round(messages=1000, seed=seed_with_stale(number, 1000), timeout=TIMEOUT)
    assert not result.exact and result.points == 0
    assert result.max_error > 0


def test_state_fix_alone_still_double_counts_retried_reduce_batches(
    workshop: Workshop,
) -> None:
    """Fixed StateLambda but starter ReduceLambda: a ReduceLambda batch that fails after its
    transaction is added again on retry, so the counts come out too high."""
    workshop.reset("lab2.step2", confirm=True)
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED_REDUCE_FAILS_FIRST[0])
    result = scores.play_round(messages=1000, seed=21, timeout=TIMEOUT)
    count = next(k for k in result.keys if k.key == "message_count")
    assert not result.exact
    assert count.actual > count.expected


def test_reduce_fix_alone_still_lets_stale_versions_through(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """Fixed ReduceLambda but starter StateLambda: stale versions overwrite newer ones and
    the aggregates drift."""
    workshop.reset("lab2.step2", solved=True, confirm=True)
    lambda_client = lab_cloud.client("lambda")
    lambda_client.update_function_code(
        FunctionName="StateLambda",
        ZipFile=package(FunctionId.STATE, CodeVersion.STARTER).zip_bytes,
    )
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED_ALL_FAIL_FIRST[2])
    number = scores.board().played + 1
    result = scores.play_round(messages=1000, seed=seed_with_stale(number, 1000), timeout=TIMEOUT)
    assert not result.exact, result.lines()
