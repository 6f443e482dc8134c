"""Running notebooks again never loses work: with the lab complete, every code cell of every
notebook, run again in a shuffled order in a real kernel against a live local cloud, leaves
every check green and the score history in place."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from labkit import Lab
from labkit.lab.core_part import CORE
from labkit.testing import RunningCloud, local_cloud

from .test_provisioning import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = sorted((ROOT / "solutions").glob("0[0-4]-*.ipynb"))
SHUFFLE_SEED = 10

pytestmark = pytest.mark.slow


@pytest.fixture
def finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningCloud]:
    """A cloud of its own whose lab is complete: every step solved, rounds scored, and the
    kernel's labkit.Lab() pointed at it."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    with local_cloud(tmp_path / "cloud") as cloud:
        monkeypatch.setenv("LABKIT_DATA_DIR", str(cloud.data_dir))
        monkeypatch.setenv("LABKIT_PORT", str(cloud.port))
        workshop = cloud.workshop()
        workshop.reset("lab2.step2", solved=True, confirm=True)
        workshop.scoreboard().play_round(messages=100, seed="done", timeout=150)
        workshop.mark_completed("lab2.step2")
        yield cloud


def _cells() -> list[str]:
    sources = []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        sources += [c.source for c in notebook.cells if c.cell_type == "code" and c.source]
    return sources


def test_every_cell_again_in_any_order_keeps_the_lab_green(
    finished: RunningCloud, tmp_path: Path
) -> None:
    """After the lab is complete, all code cells of notebooks 00–04 in a seeded shuffle (after
    one set-up cell) leave every check passing and the score history whole."""
    assert len(NOTEBOOKS) == 5
    cells = _cells()
    setup = next(c for c in cells if "WORK = lab.workdir" in c)
    order = cells[:]
    random.Random(SHUFFLE_SEED).shuffle(order)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in ["import json, time", setup, *order]]
    lab = Lab(port=finished.port, data_dir=finished.data_dir)
    before = lab.workshop.board()
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    provisioned = [c for c in notebook.cells if c.source.startswith("lab.provision(")]
    assert provisioned
    for cell in provisioned:
        outputs = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert outputs and "your work is kept" in outputs[0]["data"]["text/plain"], cell.outputs
    core = [step.id for step in CORE.steps]
    reports = lab.check_all()
    failed = [str(reports[step]) for step in core if not reports[step].passed]
    assert not failed, "\n\n".join(failed)
    after = lab.workshop.board()
    assert after.played >= before.played and after.total >= before.total
    assert after.rounds[: len(before.rounds)] == before.rounds
    assert set(core) <= set(lab.workshop.progress_record().completed)
