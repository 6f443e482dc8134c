"""Lab 2's story happens every time: with the starter StateLambda and ReduceLambda and a
fixed FAILURE_SEED the very first round drifts, on a first run and on a second one with warm
workers; the round says which keys drifted; only real retries are listed as retries; and
deploying the starter code unchanged says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit import Lab
from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

from .test_provisioning import ENVIRONMENT

SEED = 39  # the notebook's FAILURE_SEED
TIMEOUT = 150.0


@pytest.fixture
def lab(lab_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    """A learner's Lab on the module's cloud (its environment put back afterwards)."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    yield Lab(port=lab_cloud.port, data_dir=lab_cloud.data_dir)


def test_the_first_lab_2_round_drifts_on_every_run(workshop: Workshop) -> None:
    """Two runs of notebook 04's first round (the second with warm workers): both drift,
    and the result names the drifted keys and by how much."""
    for run in range(2):
        workshop.reset("lab2.step1", confirm=True)
        scores = workshop.scoreboard()
        scores.set_parameter("FAILURE_SEED", SEED)
        result = scores.play_round(messages=200, seed=f"story-{run}", timeout=TIMEOUT)
        assert result.special and result.stats["stale"] > 0
        assert not result.exact, f"run {run}: {result.lines()}"
        assert result.drifted and all(error != 0 for error in result.drifted.values())
        assert result.to_dict()["drifted"] == {k: str(e) for k, e in result.drifted.items()}


def test_both_fixes_are_exact_under_the_same_schedule(workshop: Workshop) -> None:
    """The same seed and round with the reference fixes: exact."""
    workshop.reset("lab2.step2", solved=True, confirm=True)
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED)
    result = scores.play_round(messages=200, seed="story-0", timeout=TIMEOUT)
    assert result.exact, result.lines()


def test_retries_lists_only_batches_sent_again(workshop: Workshop, lab: Lab) -> None:
    """After a round with failures, every row of lab.retries() belongs to a batch that was
    retried, and the first failure of each function is among them."""
    workshop.reset("lab2.step1", confirm=True)
    scores = workshop.scoreboard()
    scores.set_parameter("FAILURE_SEED", SEED)
    scores.play_round(messages=200, seed="retries", timeout=TIMEOUT)
    retries = lab.retries()
    assert retries and len(retries) < len(lab.invocations())
    batches: dict[tuple[object, ...], list[int]] = {}
    for row in retries:
        key = (row["function"], row["shard_id"], row["first_sequence"], row["last_sequence"])
        batches.setdefault(key, []).append(int(row["retry_count"]))
    assert all(0 in counts and max(counts) > 0 for counts in batches.values())
    assert {"ReduceLambda"} <= {key[0] for key in batches}


def test_deploying_the_starter_code_unchanged_says_so(workshop: Workshop, lab: Lab) -> None:
    """lab.deploy of the untouched starter StateLambda says it is unchanged, and so does the
    check."""
    workshop.reset("lab2.step1", confirm=True)
    deployed = lab.deploy("StateLambda", lab.source("StateLambda") + "\n\n")
    assert deployed.starter_unchanged and "unchanged" in deployed.text()
    report = lab.check("lab2.step1")
    item = report.item("state-not-deployed")
    assert "unchanged" in item.detail
    changed = lab.deploy("StateLambda", lab.source("StateLambda", "solution"))
    assert not changed.starter_unchanged
