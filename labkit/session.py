"""``Lab``: the learner's handle on the workshop, on the local cloud or on AWS.

``Lab()`` connects (starting the local cloud if needed) and points plain boto3 at the backend.
Everything else a notebook needs is a method: checks, hints, solutions and resets of steps,
deploying a function's new code, the scoreboard, logs and progress views.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .backends import Backend, connect
from .cloud import control

if TYPE_CHECKING:
    from .checks.hints import Hint
    from .checks.report import AllReports, Report
    from .iam import PolicyReport, Requirement
    from .instructor.learner import Membership
    from .lab.names import LabSettings, Names
    from .lab.replication.loader import LoadResult
    from .lab.scoreboard import RoundResult
    from .lab.workshop import Workshop
    from .ui.logs import LogsView
    from .ui.progress import ProgressView
    from .ui.room import RoomView
    from .ui.scoreboard import ScoreboardView
    from .ui.steps import Deployed, StepChange


class Lab:
    """Connects to a backend; ``Lab()`` starts the local cloud if it is not running.

    After ``Lab()``, plain ``boto3.client("dynamodb")`` talks to the chosen backend.
    ``prefix`` goes in front of the lab's resource names (default: none locally, ``labkit-``
    on AWS); ``lab.names`` has them all.
    """

    def __init__(
        self,
        backend: str = "local",
        *,
        region: str | None = None,
        port: int | None = None,
        data_dir: Path | str | None = None,
        prefix: str | None = None,
    ) -> None:
        self.backend: Backend = connect(backend, region=region, port=port, data_dir=data_dir)
        self._prefix = prefix

    @property
    def endpoint(self) -> str | None:
        return self.backend.endpoint

    @property
    def region(self) -> str:
        return self.backend.region

    @property
    def data_dir(self) -> Path:
        return self.backend.data_dir

    # ----- the local cloud ------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The local cloud's figures: functions, and per mapping its counters, iterator age
        and recent invocations (batch size, duration, error, retries)."""
        if not self.backend.is_local or not self.backend.endpoint:
            return {}
        return control.cloud_status(self.backend.endpoint) or {}

    def invocations(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """Recent invocations by event source mappings, oldest first (optionally one function)."""
        found: list[dict[str, Any]] = []
        for mapping in self.status().get("event_source_mappings", {}).values():
            function = str(mapping["function_arn"]).rsplit(":", 1)[-1]
            if function_name and function != function_name:
                continue
            found.extend({"function": function, **entry} for entry in mapping.get("recent", []))
        return sorted(found, key=lambda entry: float(entry.get("time", 0)))

    def retries(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """Only the batches a mapping sent more than once: every attempt of each retried batch
        (same function, shard and records), oldest first, numbered by ``retry_count``."""
        attempts: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for entry in self.invocations(function_name):
            if entry.get("first_sequence") is None:
                continue
            key = (
                entry["function"],
                entry.get("shard_id"),
                entry.get("first_sequence"),
                entry.get("last_sequence"),
                entry.get("batch_size"),
            )
            attempts.setdefault(key, []).append(entry)
        return sorted(
            (
                entry
                for group in attempts.values()
                if any(int(e.get("retry_count") or 0) > 0 for e in group)
                for entry in group
            ),
            key=lambda entry: float(entry.get("time", 0)),
        )

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Return once every invocation and event source mapping has caught up."""
        if self.backend.is_local and self.backend.endpoint:
            control.wait_idle(self.backend.endpoint, timeout)

    # ----- the workshop ---------------------------------------------------------------------
    @cached_property
    def workshop(self) -> Workshop:
        """The lab's resources on this backend (provision, teardown, restore, scoring)."""
        from .lab.workshop import Workshop
        from .ui.progress_bar import notebook_progress

        local = self.backend.is_local
        return Workshop(
            region=self.region,
            data_dir=self.data_dir,
            backend="local" if local else "aws",
            endpoint_url=self.endpoint,
            wait_idle=self.wait_idle if local else None,
            prefix=self._prefix,
            progress=notebook_progress(),
        )

    @property
    def settings(self) -> LabSettings:
        return self.workshop.settings

    @property
    def names(self) -> Names:
        """The lab's resource names on this backend: ``lab.names.state_table`` …"""
        return self.settings.names

    def _lab_key(self) -> str:
        return f"{self.backend.name}:{self.region}:{self.settings.prefix}"

    def _store(self) -> Any:
        from .checks.store import CheckStore

        return CheckStore(self.data_dir, self._lab_key())

    def _context(self) -> Any:
        from .checks.context import CheckContext

        return CheckContext.from_lab(self)

    def current_step(self) -> str | None:
        """The step to work on now in the lab worked on last (None once it is all done)."""
        return self.workshop.progress_record().current

    def _last_step(self) -> str:
        """The last step of the lab worked on last (what a bare check looks at when done)."""
        from .lab.course import part_named

        return part_named(self.workshop.progress_record().part).steps[-1].id

    def provision(self, step: str, *, solved: bool = False) -> StepChange:
        """Bring the lab to the start of ``step`` (with ``solved``, to its end). Safe to run
        again at any time: it only adds what is missing and never takes away what you made
        (the result says what it left alone). ``lab.reset(step)`` takes the lab back."""
        from .ui.steps import StepChange

        with self._round_lock():
            result = self.workshop.provision(step, solved=solved)
        return StepChange("solved" if solved else "ready", result.step, result)

    def teardown(self) -> StepChange:
        """Remove everything the lab created (and only that)."""
        from .ui.steps import StepChange

        with self._round_lock():
            return StepChange("removed", None, self.workshop.teardown())

    def restore(self) -> StepChange:
        """Rebuild the lab where you were (after the cloud lost its state, or a teardown)."""
        from .ui.steps import StepChange

        with self._round_lock():
            report = self.workshop.restore()
        return StepChange("restored", self.current_step(), report)

    # ----- checks, hints, solutions ---------------------------------------------------------
    def check(self, step: str | None = None) -> Report:
        """Check a step (the current one if not given) and return the report.

        The report shows ✓/✗ for everything looked at, with a hint next to each ✗. A passed
        check marks the step completed.
        """
        from .checks.registry import run_check

        chosen = step or self.current_step() or self._last_step()
        report = run_check(chosen, self._context())
        self._store().record(report)
        self._room.checked(report)
        if report.passed:
            self.workshop.mark_completed(report.step)
        return report

    def check_all(self) -> AllReports:
        """Check every step (for instructors and CI)."""
        from .checks.registry import run_all
        from .lab.course import STEP_IDS

        reports = run_all(self._context())
        store = self._store()
        for report in reports.reports:
            store.record(report)
            self._room.checked(report)
        done = [r.step for r in reports.reports if r.passed]
        for step in STEP_IDS:
            if step in done:
                self.workshop.mark_completed(step)
        return reports

    def solve(self, step: str) -> Report:
        """Apply the reference solution of ``step`` (and of the steps before it) to catch up,
        then check it."""
        self.provision(step, solved=True)
        report = self.check(step)
        self._room.solved(report)
        return report

    def reset(self, step: str, *, confirm: bool = False) -> StepChange:
        """Take the lab back to the start of ``step``: later steps' resources are removed and
        changed ones put back; its hints start again from the first tier. When that would
        remove your work, nothing happens until you call it again with ``confirm=True`` (the
        result lists what would go). The score history is always kept."""
        from .ui.steps import StepChange

        with self._round_lock():
            result = self.workshop.reset(step, confirm=confirm)
        if not result.needs_confirmation:
            self._store().reset_hints(result.step)
            self._room.was_reset(result.step or step)
        return StepChange("reset", result.step, result)

    def hint(self, step: str | None = None) -> Hint:
        """The next hint for ``step`` (the current one if not given): first a nudge, then more,
        then the answer. Calling it again after the answer shows the answer again."""
        from .checks.hints import Hint, hint_tiers

        chosen = step or self.current_step() or self._last_step()
        tiers = hint_tiers(chosen)
        store = self._store()
        tier = min(store.hint_tier(chosen) + 1, len(tiers))
        store.reveal(chosen, tier)
        self._room.hinted(chosen, tier)
        return Hint(chosen, tier, tiers[tier - 1])

    # ----- policies -------------------------------------------------------------------------
    def policy_requirements(self) -> tuple[Requirement, ...]:
        """What ReduceLambdaPolicy must allow after lab1.step2 (for ``labkit.iam``)."""
        from .checks.lab1 import reduce_policy_requirements

        requirements: tuple[Requirement, ...] = reduce_policy_requirements(self._context())
        return requirements

    def review_policy(self, policy: Any) -> PolicyReport:
        """``labkit.iam.check_least_privilege`` of a draft ReduceLambdaPolicy against the
        step's needs, exactly as ``lab.check("lab1.step2")`` judges it."""
        from .checks.lab1 import review_policy

        name = self.names.policy(_function_id("ReduceLambda"))
        report: PolicyReport = review_policy(self._context(), {name: policy})
        return report

    # ----- code -----------------------------------------------------------------------------
    def source(self, function: str, version: str = "starter") -> str:
        """A lab function's ``lambda_function.py`` as labkit ships it (starter or solution)."""
        from .lab.course import find_function

        part, name = find_function(function)
        return part.source(name, version)

    # ----- lab 3: web logs -------------------------------------------------------------------
    def logfiles(self) -> dict[str, Path]:
        """Lab 3's web-log files, written (once) into your work folder: name -> path."""
        from .lab.replication import logdata

        return logdata.write(self.workdir / "logs")

    def load_logfile(
        self, table: str, file: str | Path, *, on_write: Any = None, progress: bool = True
    ) -> LoadResult:
        """Put every row of a web-log file into ``table``, one ``put_item`` each, with a
        progress bar; the result reads ``RowCount: N, Total seconds: T``."""
        from .lab.progress import SilentProgress, default_progress
        from .lab.replication.loader import load_logfile
        from .ui.progress_bar import notebook_progress

        bar = (notebook_progress() or default_progress()) if progress else SilentProgress()
        client = self.workshop.client("dynamodb")
        return load_logfile(client, table, file, on_write=on_write, progress=bar)

    @property
    def workdir(self) -> Path:
        """A folder for your own files (the functions' code you edit), in the data dir."""
        folder = self.data_dir / "work"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def deploy(self, function: str, source: str | Path) -> Deployed:
        """Deploy new code for a lab function: ``source`` is the text of its
        ``lambda_function.py`` or a path to it. labkit adds the shared ``pipeline.py``."""
        from .lab.course import find_function
        from .ui.steps import Deployed

        text = Path(source).read_text() if isinstance(source, Path) else source
        if "\n" not in text and text.endswith(".py") and Path(text).exists():
            text = Path(text).read_text()
        compile(text, "lambda_function.py", "exec")  # a syntax error shows here, with its line
        part, canonical = find_function(function)
        name = part.function_name(self.settings, canonical)
        unchanged = _is_starter_text(part, canonical, text)
        if unchanged:  # exactly the starter package, so the check recognises it too
            text = part.source(canonical, "starter")
        package = part.package_with(canonical, text)
        client = self.workshop.client("lambda")
        answer = client.update_function_code(FunctionName=name, ZipFile=package.zip_bytes)
        client.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        return Deployed(
            name,
            str(answer.get("CodeSha256", package.sha256)),
            unchanged,
        )

    # ----- views ----------------------------------------------------------------------------
    def scoreboard(self, *, messages: int = 500) -> ScoreboardView:
        """The live scoreboard: ``.play(rounds)`` plays rounds of ``messages`` trades."""
        from .ui.scoreboard import ScoreboardView

        return ScoreboardView(self, messages=messages)

    def play_round(self, messages: int = 500, **options: Any) -> RoundResult:
        """Play and score one round (never while a check's probe runs)."""
        with self._round_lock():
            result: RoundResult = self.workshop.play_round(messages=messages, **options)
        self._room.played(result)
        return result

    def logs(self, function: str, *, limit: int = 50, filter: str = "") -> LogsView:
        """The newest log lines of a function (CloudWatch Logs), newest first."""
        from .lab.course import find_function
        from .ui.logs import LogsView

        part, canonical = find_function(function)
        return LogsView(self, part.function_name(self.settings, canonical), limit, filter)

    def progress(self) -> ProgressView:
        """Which steps are done, and what each check found last."""
        from .ui.progress import ProgressView

        return ProgressView(self)

    # ----- instructor-led sessions ----------------------------------------------------------
    @cached_property
    def _room(self) -> Membership:
        """This data directory's room membership (does nothing until you join)."""
        from .instructor.learner import Membership

        return Membership(self.data_dir)

    def join(self, code: str, *, name: str, server: str | None = None) -> RoomView:
        """Join the instructor's room: from now on your checks, hints, solves, resets and
        rounds (their outcomes, never your code) are sent to the instructor's page, and their
        messages show here. ``server`` defaults to ``$LABKIT_INSTRUCTOR``."""
        from .instructor.learner import default_server
        from .ui.room import RoomView

        self._room.join(code, name, server or default_server())
        return RoomView(self._room)

    def room(self) -> RoomView:
        """The room you joined: the instructor's message, the step the room is at."""
        from .ui.room import RoomView

        if self._room.joined:
            self._room.start()
        return RoomView(self._room)

    def share_code(self, source: str | Path, *, label: str = "") -> RoomView:
        """Send code to the instructor, only after they asked for it (``lab.room()``)."""
        from .ui.room import RoomView

        self._room.share_source(source, label)
        return RoomView(self._room)

    @staticmethod
    def _round_lock() -> Any:
        from .checks.probes import PIPELINE_LOCK

        return PIPELINE_LOCK

    def __repr__(self) -> str:
        where = self.backend.endpoint or f"AWS {self.backend.region}"
        return f"Lab(backend={self.backend.name!r}, at {where})"


def _is_starter_text(part: Any, function: str, text: str) -> bool:
    """True if ``text`` is the starter code of a function the learner is meant to change (one
    with a solution), unchanged apart from blank lines and trailing spaces."""
    try:
        starter = part.source(function, "starter")
        part.source(function, "solution")
    except (ValueError, OSError):
        return False

    def lines(code: str) -> list[str]:
        return [line.rstrip() for line in code.splitlines() if line.strip()]

    return bool(lines(text) == lines(starter))


def _function_id(function: str) -> Any:
    """``"ReduceLambda"`` (or ``"labkit-ReduceLambda"``, ``"reduce"``) -> ``FunctionId`` of
    the core lab."""
    from .lab.course import find_function
    from .lab.names import FunctionId

    _, name = find_function(function)
    if name not in {f.value for f in FunctionId}:
        raise ValueError(f"{function!r} is not a function of the core lab (labs 1 and 2).")
    return FunctionId(name)
