"""``Workshop``: provision any step, tear everything down, restore, and keep the score.

One class for both backends. It builds the lab's resources for a step
(:mod:`labkit.lab.stack`), plans the calls against what exists (:mod:`labkit.deploy`), and makes
them with one executor, or only shows them (``dry_run=True``).

Progress through the workshop is kept in ``<data_dir>/progress.json``, one record per lab
(backend, region and prefix), so ``restore()`` can rebuild the lab where the learner was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from labkit.deploy import (
    Boto3Executor,
    Boto3StateReader,
    DisplayExecutor,
    ExecutionReport,
    Plan,
    Progress,
    Stack,
    plan_stack,
)
from labkit.deploy.cloudformation import template as cloudformation_template
from labkit.deploy.plan import Call
from labkit.deploy.planner import ADD_MISSING, CONVERGE, PlanPolicy
from labkit.deploy.resources import merge
from labkit.jsonfile import load_json, write_json

from .core_part import CORE
from .course import (
    PARTS,
    STEP_IDS,
    get_step,
    next_step,
    part_named,
    part_of,
    step_ids,
    steps_before,
)
from .names import LabSettings, Names
from .parts import LabPart
from .progress import SilentProgress, default_progress
from .results import SCORE_ARCHIVE_FILE, ResetPlan, ScoreArchive, StepResult
from .safety import (
    Sorted,
    changed_resources,
    changes_to_existing,
    resource_labels,
    without_protected,
)
from .scoreboard import DEFAULT_MESSAGES, Board, RoundResult, Scoreboard

PROGRESS_FILE = "progress.json"
#: How long AWS may take to make new roles and policies usable (retried with backoff).
AWS_PROPAGATION_TIMEOUT = 120.0


class _BackendLike(Protocol):
    name: str
    region: str
    endpoint: str | None
    data_dir: Path


class LabLike(Protocol):
    """What :meth:`Workshop.from_lab` needs of a ``labkit.Lab``."""

    backend: _BackendLike

    def wait_idle(self, timeout: float = ...) -> None: ...


@dataclass(frozen=True)
class ProgressRecord:
    """Which steps a learner has completed, in every lab, and which lab they work on.

    ``part`` is the key of the lab worked on last (the core lab until another is started);
    ``started`` lists every lab that was ever provisioned, so ``restore()`` rebuilds those.
    """

    completed: tuple[str, ...] = ()
    part: str = CORE.key
    started: tuple[str, ...] = ()

    def _ids(self) -> tuple[str, ...]:
        return step_ids(part_named(self.part))

    @property
    def last_completed(self) -> str | None:
        """The last completed step of the lab worked on last."""
        done = [s for s in self._ids() if s in self.completed]
        return done[-1] if done else None

    @property
    def current(self) -> str | None:
        """The step to work on now in the lab worked on last (None once it is all done)."""
        last = self.last_completed
        if last is None:
            return self._ids()[0]
        following = next_step(last)
        return following.id if following else None

    def with_part(self, part: LabPart, completed: tuple[str, ...]) -> ProgressRecord:
        """This record with ``part``'s completed steps replaced by ``completed``."""
        own = set(step_ids(part))
        kept = [s for s in self.completed if s not in own]
        merged = tuple(s for s in STEP_IDS if s in kept or s in completed)
        started = tuple(p.key for p in PARTS if p.key in self.started or p is part)
        return ProgressRecord(merged, part.key, started)


class Workshop:
    """The lab on one backend: ``provision(step)``, ``teardown()``, ``restore()``, scoring.

    ``backend`` is ``"local"`` or ``"aws"``; ``endpoint_url`` is the local cloud's address
    (None on AWS); ``session`` is the boto3 session to use (by default one built from the
    environment, which ``labkit.Lab()`` points at the local cloud); ``prefix`` goes in front of
    every name (default ``""`` locally, ``"labkit-"`` on AWS); ``wait_idle`` is
    ``Lab.wait_idle`` (how the scoreboard knows the pipeline drained; on AWS it watches the
    aggregates instead). ``sleep`` and ``clock`` are injected for tests.
    """

    def __init__(
        self,
        *,
        region: str,
        data_dir: Path | str,
        backend: Literal["local", "aws"] = "local",
        endpoint_url: str | None = None,
        session: Any = None,
        prefix: str | None = None,
        settings: LabSettings | None = None,
        wait_idle: Callable[[float], None] | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.region = region
        self.endpoint_url = endpoint_url
        self.data_dir = Path(data_dir).expanduser()
        self.settings = settings or LabSettings.for_backend(backend, prefix)
        self.progress = progress
        self._session = session
        self._wait_idle = wait_idle
        self._sleep = sleep
        self._clock = clock
        self._clients: dict[str, Any] = {}

    @classmethod
    def from_lab(cls, lab: LabLike, **options: Any) -> Workshop:
        """The workshop of a ``labkit.Lab`` (same backend, region, data dir, idle wait, and
        the Lab's ``settings`` if it has them)."""
        backend = lab.backend
        options.setdefault("settings", getattr(lab, "settings", None))
        return cls(
            region=backend.region,
            data_dir=backend.data_dir,
            backend="aws" if backend.name == "aws" else "local",
            endpoint_url=backend.endpoint,
            wait_idle=lab.wait_idle if backend.name != "aws" else None,
            **options,
        )

    # ----- plumbing -------------------------------------------------------------------------
    @property
    def names(self) -> Names:
        return self.settings.names

    def client(self, service: str) -> Any:
        """A boto3 client for this lab's backend (cached)."""
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            session = self._session or boto3.session.Session(region_name=self.region)
            config = Config(retries={"mode": "standard", "max_attempts": 5}, read_timeout=300)
            make_client: Any = session.client
            self._clients[service] = make_client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, config=config
            )
        return self._clients[service]

    def reader(self) -> Boto3StateReader:
        return Boto3StateReader(self.client)

    def _executor(self) -> Boto3Executor:
        timeout = AWS_PROPAGATION_TIMEOUT if self.backend == "aws" else 0.0
        return Boto3Executor(
            self.client, propagation_timeout=timeout, sleep=self._sleep, clock=self._clock
        )

    def _progress(self) -> Progress:
        if self.progress is not None:
            return self.progress
        return default_progress()

    def _run(self, plan: Plan, dry_run: bool) -> ExecutionReport:
        if dry_run:
            return DisplayExecutor().run(plan)
        progress = self._progress() if plan.calls else SilentProgress()
        return self._executor().run(plan, progress)

    # ----- stacks and plans -----------------------------------------------------------------
    def stack(self, step_id: str | None = None, *, solved: bool = False) -> Stack:
        """The resources at the start of ``step_id`` (or its solution); with None, the
        finished core lab."""
        part = CORE if step_id is None else part_of(step_id)
        return part.stack(self.settings, step_id, solved=solved)

    def plan(self, step_id: str, *, solved: bool = False, policy: PlanPolicy = CONVERGE) -> Plan:
        """The calls that bring the step's lab to the start (or the solution) of ``step_id``.
        Only that lab's resources are planned: the other labs are left as they are.
        ``policy`` limits what the plan may change (``ADD_MISSING``: only create)."""
        step = get_step(step_id)
        where = "solution" if solved else "start"
        return plan_stack(
            self.stack(step_id, solved=solved),
            self.reader(),
            owned=part_of(step_id).owned(self.settings),
            title=f"{step.id} ({where}): {step.title}",
            policy=policy,
        )

    def owned(self) -> Stack:
        """Everything any lab may own: what a teardown removes."""
        return merge(part.owned(self.settings) for part in PARTS)

    def plan_teardown(self) -> Plan:
        """The calls that remove everything the labs own."""
        return plan_stack(Stack(), self.reader(), owned=self.owned(), title="Remove the lab")

    # ----- the verbs ------------------------------------------------------------------------
    def provision(self, step_id: str, *, solved: bool = False, dry_run: bool = False) -> StepResult:
        """Bring the step's lab to the start of ``step_id`` (or to its solution with
        ``solved``) without taking away anything the learner made.

        When the lab is already at or past that point, only what is missing is created, and
        nothing that exists is changed or removed. Going forward (catching up), the steps not
        done yet are brought into place, but what the learner built in completed steps is left
        as it is, and nothing is removed. The result says what it left alone. Only
        :meth:`reset` takes a lab back. Steps before ``step_id`` (and ``step_id`` itself when
        ``solved``) count as completed from then on. Other labs are never touched.
        """
        step = get_step(step_id)
        part = part_of(step.id)
        ids = step_ids(part)
        target = ids.index(step.id) + (1 if solved else 0)
        current = self._position(part)
        goal = self.stack(step.id, solved=solved)
        if target <= current:
            sorted_plan = Sorted.of(self.plan(step.id, solved=solved, policy=ADD_MISSING))
        else:
            sorted_plan = without_protected(
                self.plan(step.id, solved=solved),
                self._protected(part, current, goal),
                removals=solved,
            )
        report = self._run(sorted_plan.plan, dry_run)
        if not dry_run:
            self._restore_score()
            known = [s for s in ids if s in self.progress_record().completed]
            done = {*known, *steps_before(step.id), *((step.id,) if solved else ())}
            record = self.progress_record().with_part(part, tuple(s for s in ids if s in done))
            self._save_progress(record)
        return StepResult(
            step.id,
            report,
            left_alone=sorted_plan.left_alone,
            past=target < current,
            in_place=self._in_place(goal, (*sorted_plan.plan.calls, *sorted_plan.withheld)),
        )

    def reset_plan(self, step_id: str, *, solved: bool = False) -> ResetPlan:
        """What :meth:`reset` would do, and what of the learner's work it would remove."""
        plan = self.plan(step_id, solved=solved)
        removes = tuple(dict.fromkeys(c.description for c in changes_to_existing(plan)))
        return ResetPlan(get_step(step_id).id, plan, removes)

    def reset(
        self, step_id: str, *, solved: bool = False, confirm: bool = False, dry_run: bool = False
    ) -> StepResult:
        """Take the step's lab back to the start of ``step_id`` (its solution with
        ``solved``): later steps' resources are removed and changed ones put back.

        When that would remove or replace something that exists (the learner's work), nothing
        happens unless ``confirm`` is True: the result lists what would go
        (``needs_confirmation``). The score and its history are kept, even when a reset
        removes ParameterTable (they come back with it).
        """
        preview = self.reset_plan(step_id, solved=solved)
        if preview.removes and not confirm and not dry_run:
            return StepResult(preview.step, None, would_remove=preview.removes)
        if not dry_run:
            self._archive_score(preview.plan)
        report = self._run(preview.plan, dry_run)
        if not dry_run:
            self._restore_score()
            done = (*steps_before(preview.step), *((preview.step,) if solved else ()))
            self._save_progress(self.progress_record().with_part(part_of(preview.step), done))
        return StepResult(preview.step, report, removed=preview.removes)

    def teardown(self, *, dry_run: bool = False) -> ExecutionReport:
        """Remove every resource the lab created (found by its names), and nothing else."""
        report = self._run(self.plan_teardown(), dry_run)
        if not dry_run:
            self._save_progress(ProgressRecord())
        return report

    def restore(self, *, dry_run: bool = False) -> StepResult:
        """Rebuild every lab where the learner was: the start of the step after the last one
        completed (or the finished lab, if every step is done). The core lab is always
        rebuilt; another lab only once it was started. What exists is kept."""
        record = self.progress_record()
        results = [
            self._restore_part(part, record, dry_run)
            for part in PARTS
            if part is CORE or part.key in record.started
        ]
        # Restoring must not change which lab the learner works on.
        if not dry_run:
            latest = self.progress_record()
            self._save_progress(ProgressRecord(latest.completed, record.part, latest.started))
        if len(results) == 1:
            return results[0]
        reports = [r.report for r in results if r.report is not None]
        return StepResult(
            results[0].step,
            _combined("Restore the labs", reports),
            left_alone=tuple(line for r in results for line in r.left_alone),
        )

    def _restore_part(self, part: LabPart, record: ProgressRecord, dry_run: bool) -> StepResult:
        ids = step_ids(part)
        done = [s for s in ids if s in record.completed]
        if not done:
            return self.provision(ids[0], dry_run=dry_run)
        following = next_step(done[-1])
        if following is None:
            return self.provision(ids[-1], solved=True, dry_run=dry_run)
        return self.provision(following.id, dry_run=dry_run)

    # ----- keeping the learner's work -------------------------------------------------------
    def _position(self, part: LabPart) -> int:
        """Where the learner is in ``part``: the number of its steps done up to the last one
        completed (the number of steps once all are done)."""
        ids = step_ids(part)
        done = [i for i, s in enumerate(ids) if s in self.progress_record().completed]
        return done[-1] + 1 if done else 0

    def _protected(self, part: LabPart, current: int, goal: Stack) -> set[str]:
        """Resources the learner built in completed steps of ``part`` that going from where
        the lab is (``current``) to ``goal`` does not need to change."""
        ids = step_ids(part)
        built: set[str] = set()
        for step in ids[:current]:
            built |= changed_resources(self.stack(step), self.stack(step, solved=True))
        here = self.stack(ids[current]) if current < len(ids) else part.stack(self.settings, None)
        return built - changed_resources(here, goal)

    @staticmethod
    def _in_place(stack: Stack, calls: Iterable[Call]) -> int:
        """How many of ``stack``'s resources no call touches (already as the lab wants)."""
        touched = {c.resource for c in calls}
        return sum(1 for label in resource_labels(stack) if label not in touched)

    # ----- the score survives a reset -------------------------------------------------------
    def _score_archive(self) -> ScoreArchive:
        return ScoreArchive(
            self.client,
            self.names.parameter_table,
            self.data_dir / SCORE_ARCHIVE_FILE,
            self._lab_key(),
        )

    def _archive_score(self, plan: Plan) -> None:
        self._score_archive().keep_if_deleted(plan)

    def _restore_score(self) -> None:
        self._score_archive().restore()

    # ----- progress through the workshop ----------------------------------------------------
    @property
    def progress_path(self) -> Path:
        return self.data_dir / PROGRESS_FILE

    def _lab_key(self) -> str:
        return f"{self.backend}:{self.region}:{self.settings.prefix}"

    def _load_all(self) -> dict[str, Any]:
        return load_json(self.progress_path)

    def progress_record(self) -> ProgressRecord:
        """The steps completed on this lab, from ``progress.json``."""
        entry = self._load_all().get(self._lab_key()) or {}
        completed = tuple(s for s in entry.get("completed", []) if s in STEP_IDS)
        keys = {p.key for p in PARTS}
        part = entry.get("part") if entry.get("part") in keys else CORE.key
        started = tuple(k for k in entry.get("started", []) if k in keys)
        return ProgressRecord(completed, str(part), started)

    def mark_completed(self, step_id: str) -> ProgressRecord:
        """Record that the learner completed ``step_id`` (and so every step before it in
        its lab)."""
        part = part_of(step_id)
        record = self.progress_record()
        done = (*steps_before(step_id), get_step(step_id).id)
        merged = record.with_part(
            part, tuple(s for s in STEP_IDS if s in done or s in record.completed)
        )
        self._save_progress(merged)
        return merged

    def _save_progress(self, record: ProgressRecord) -> None:
        document = self._load_all()
        document[self._lab_key()] = {
            "completed": list(record.completed),
            "part": record.part,
            "started": list(record.started),
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json(self.progress_path, document)

    # ----- scoring --------------------------------------------------------------------------
    def scoreboard(self, *, quiet_seconds: float = 5.0, switch_to_lab2: bool = True) -> Scoreboard:
        """The scoreboard of this lab (see :class:`~labkit.lab.scoreboard.Scoreboard`); a score
        kept aside by a reset comes back first."""
        self._restore_score()
        return Scoreboard(
            self.client,
            self.settings,
            drain=self._wait_idle,
            sleep=self._sleep,
            monotonic=self._clock,
            quiet_seconds=quiet_seconds,
            switch_to_lab2=switch_to_lab2,
        )

    def play_round(
        self,
        *,
        messages: int = DEFAULT_MESSAGES,
        seed: int | str | None = None,
        special: bool | None = None,
        generator: Literal["local", "lambda"] = "local",
        timeout: float = 300.0,
    ) -> RoundResult:
        """Play and score one round (see :class:`~labkit.lab.scoreboard.Scoreboard`).

        A round that reaches 300 points completes lab 1 (the pipeline demonstrably works), so
        lab1.step3 is recorded as completed and ``restore()`` then builds lab 2.
        """
        result = self.scoreboard().play_round(
            messages=messages, seed=seed, special=special, generator=generator, timeout=timeout
        )
        if result.lab2_started:
            self.mark_completed("lab1.step3")
        return result

    def board(self) -> Board:
        return self.scoreboard().board()

    # ----- CloudFormation -------------------------------------------------------------------
    def template(
        self,
        step_id: str | None = None,
        *,
        solved: bool = False,
        code: Literal["s3", "inline"] = "s3",
    ) -> dict[str, Any]:
        """The lab as a CloudFormation template (the finished core lab unless a step is given)."""
        what = (
            "the finished lab"
            if step_id is None
            else f"{step_id} ({'solution' if solved else 'start'})"
        )
        return cloudformation_template(
            self.stack(step_id, solved=solved),
            description=f"labkit: DynamoDB Streams and Lambda workshop, {what}.",
            code=code,
        )


def _combined(title: str, reports: list[ExecutionReport]) -> ExecutionReport:
    """One report of several executed plans, in order."""
    calls = tuple(call for report in reports for call in report.plan.calls)
    return ExecutionReport(
        Plan(title, calls),
        [outcome for report in reports for outcome in report.outcomes],
        seconds=sum(report.seconds for report in reports),
        dry_run=any(report.dry_run for report in reports),
    )
