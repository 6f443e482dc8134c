"""Workshop: provision, reset, restore and teardown (against moto in-process), and progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from moto import mock_aws

from labkit.lab.progress import SilentProgress, TextProgress, TqdmProgress
from labkit.lab.steps import STEP_IDS
from labkit.lab.workshop import AWS_PROPAGATION_TIMEOUT, ProgressRecord, Workshop


@pytest.fixture
def moto_workshop(tmp_path: Path, aws_env: None) -> Iterator[Workshop]:
    """A local-style workshop whose boto3 calls go to moto in this process."""
    with mock_aws():
        yield Workshop(
            region="us-east-1",
            data_dir=tmp_path,
            progress=SilentProgress(),
            sleep=lambda seconds: None,
        )


def test_every_step_provisions_and_a_second_plan_is_empty(moto_workshop: Workshop) -> None:
    """Provisioning each step's start (then the final solution) leaves nothing to do."""
    for step in STEP_IDS:
        moto_workshop.provision(step)
        assert moto_workshop.plan(step).empty, moto_workshop.plan(step).lines()
    moto_workshop.provision(STEP_IDS[-1], solved=True)
    assert moto_workshop.plan(STEP_IDS[-1], solved=True).empty


def test_resetting_to_an_earlier_step_takes_the_lab_back(moto_workshop: Workshop) -> None:
    """A confirmed reset to lab1.step1 removes the tables and mappings and restores starter
    code."""
    moto_workshop.provision("lab2.step2", solved=True)
    report = moto_workshop.reset("lab1.step1", confirm=True)
    done = [o.call.description for o in report.outcomes]
    assert any("Delete table StateTable" in d for d in done)
    assert any("StateLambda:starter" in d for d in done)
    assert moto_workshop.plan("lab1.step1").empty
    assert moto_workshop.client("dynamodb").list_tables()["TableNames"] == []


def test_teardown_removes_everything_and_nothing_else(moto_workshop: Workshop) -> None:
    """After teardown none of the lab's resources exist; other resources are untouched."""
    dynamodb = moto_workshop.client("dynamodb")
    dynamodb.create_table(
        TableName="NotTheLab",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    moto_workshop.provision("lab2.step2", solved=True)
    moto_workshop.teardown()
    assert moto_workshop.plan_teardown().empty
    assert dynamodb.list_tables()["TableNames"] == ["NotTheLab"]
    assert moto_workshop.client("lambda").list_functions()["Functions"] == []
    assert moto_workshop.client("iam").list_roles()["Roles"] == []
    assert moto_workshop.client("iam").list_policies(Scope="Local")["Policies"] == []
    assert moto_workshop.client("kinesis").list_streams()["StreamNames"] == []
    assert moto_workshop.client("logs").describe_log_groups()["logGroups"] == []


def test_dry_run_changes_nothing(
    moto_workshop: Workshop, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dry run prints the plan and makes no call that changes anything."""
    report = moto_workshop.provision("lab1.step2", dry_run=True)
    assert report.dry_run and report.calls_made == 0
    assert "Create table StateTable" in capsys.readouterr().out
    assert moto_workshop.client("dynamodb").list_tables()["TableNames"] == []
    assert not moto_workshop.progress_path.exists()


def test_provision_records_progress_and_restore_returns_there(moto_workshop: Workshop) -> None:
    """Provisioning a step marks the steps before it as done; restore rebuilds the start of
    the step after the last completed one."""
    moto_workshop.provision("lab1.step3")
    assert moto_workshop.progress_record().completed == ("lab1.step1", "lab1.step2")
    moto_workshop.mark_completed("lab1.step3")
    assert moto_workshop.progress_record().current == "lab2.step1"
    moto_workshop.teardown()
    assert moto_workshop.progress_record() == ProgressRecord()
    moto_workshop.mark_completed("lab1.step3")
    report = moto_workshop.restore()
    assert report.plan.title.startswith("lab2.step1 (start)")
    assert moto_workshop.plan("lab2.step1").empty


def test_restore_after_the_last_step_builds_the_finished_lab(moto_workshop: Workshop) -> None:
    """With every step completed, restore provisions the last step's solution."""
    moto_workshop.mark_completed("lab2.step2")
    report = moto_workshop.restore()
    assert report.plan.title.startswith("lab2.step2 (solution)")


def test_restore_without_progress_starts_at_the_beginning(tmp_path: Path) -> None:
    """No progress file means the start of lab1.step1."""
    workshop = Workshop(region="us-east-1", data_dir=tmp_path)
    assert workshop.progress_record().current == "lab1.step1"


def test_progress_is_kept_per_lab(tmp_path: Path) -> None:
    """One progress file holds each backend/region/prefix separately and survives garbage."""
    local = Workshop(region="us-east-1", data_dir=tmp_path)
    aws = Workshop(region="eu-west-1", data_dir=tmp_path, backend="aws")
    local.mark_completed("lab1.step2")
    aws.mark_completed("lab1.step1")
    document = json.loads((tmp_path / "progress.json").read_text())
    assert document["local:us-east-1:"]["completed"] == ["lab1.step1", "lab1.step2"]
    assert document["aws:eu-west-1:labkit-"]["completed"] == ["lab1.step1"]
    (tmp_path / "progress.json").write_text("{not json")
    assert local.progress_record() == ProgressRecord()


def test_completing_a_step_never_forgets_later_ones(tmp_path: Path) -> None:
    """Marking an earlier step keeps later completed steps."""
    workshop = Workshop(region="us-east-1", data_dir=tmp_path)
    workshop.mark_completed("lab2.step1")
    workshop.mark_completed("lab1.step1")
    assert workshop.progress_record().last_completed == "lab2.step1"


@dataclass
class _Backend:
    name: str
    region: str
    endpoint: str | None
    data_dir: Path


class _Lab:
    def __init__(self, backend: _Backend) -> None:
        self.backend = backend
        self.waited: list[float] = []

    def wait_idle(self, timeout: float = 60.0) -> None:
        self.waited.append(timeout)


def test_from_lab_takes_backend_region_endpoint_and_idle_wait(tmp_path: Path) -> None:
    """A Lab's backend decides the workshop's settings; locally its wait_idle drains rounds."""
    lab = _Lab(_Backend("local", "us-east-1", "http://127.0.0.1:9", tmp_path))
    workshop = Workshop.from_lab(lab)
    assert (workshop.backend, workshop.endpoint_url, workshop.settings.prefix) == (
        "local",
        "http://127.0.0.1:9",
        "",
    )
    assert workshop.scoreboard()._drain == lab.wait_idle
    remote = Workshop.from_lab(_Lab(_Backend("aws", "eu-west-1", None, tmp_path)))
    assert remote.settings.prefix == "labkit-" and remote.scoreboard()._drain is None
    assert remote._executor().propagation_timeout == AWS_PROPAGATION_TIMEOUT
    assert workshop._executor().propagation_timeout == 0


def test_text_progress_and_tqdm_progress_report_each_call() -> None:
    """Both reporters accept begin/advance/end without a notebook."""
    lines: list[str] = []
    text = TextProgress(lines.append)
    text.begin(2, "t")
    text.advance("a")
    text.advance("b")
    text.end()
    assert lines == ["t: 2 call(s)", "[1/2] a", "[2/2] b"]
    bar = TqdmProgress()
    bar.begin(2, "t")
    bar.advance("a")
    bar.advance("b")
    bar.end()
