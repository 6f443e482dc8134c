"""Snapshots of a large cloud are spaced out so that writing them never dominates."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cloud.snapshot import PAUSE_PER_SECOND_WRITING, Snapshotter


def _snapshotter(tmp_path: Path) -> Snapshotter:
    return Snapshotter(tmp_path, dict, interval=1.0)


def test_a_quick_snapshot_waits_the_interval(tmp_path: Path) -> None:
    snapshots = _snapshotter(tmp_path)
    snapshots.last_save_seconds = 0.01
    assert snapshots.pause() == 1.0


@pytest.mark.parametrize("seconds", [0.5, 2.0])
def test_a_slow_snapshot_keeps_writing_to_a_tenth_of_the_time(
    tmp_path: Path, seconds: float
) -> None:
    snapshots = _snapshotter(tmp_path)
    snapshots.last_save_seconds = seconds
    pause = snapshots.pause()
    assert pause == seconds * PAUSE_PER_SECOND_WRITING
    assert seconds / (seconds + pause) == pytest.approx(0.1)


def test_saving_records_how_long_it_took(tmp_path: Path) -> None:
    snapshots = _snapshotter(tmp_path)
    snapshots.save(fork=False)
    assert snapshots.saves == 1
    assert 0 < snapshots.last_save_seconds < 60
    assert snapshots.path.exists()
