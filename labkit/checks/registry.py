"""Which function checks which step, and running checks so that they never raise."""

from __future__ import annotations

from collections.abc import Callable

from labkit.lab.course import STEP_IDS, get_step

from .context import CheckContext
from .lab1 import check_connect_reduce, check_reduce_policy, check_tables
from .lab2 import check_reduce_idempotent, check_state_versions
from .lab3 import CHECKS as LAB3_CHECKS
from .lab4 import CHECKS as LAB4_CHECKS
from .lab5 import CHECKS as LAB5_CHECKS
from .report import AllReports, CheckItem, Report, Status

__all__ = ["CHECKS", "run_all", "run_check"]

CheckFunction = Callable[[CheckContext], Report]

#: Every step's check: the core lab's, then each further lab's ``labkit/checks/labN.py``.
CHECKS: dict[str, CheckFunction] = {
    "lab1.step1": check_tables,
    "lab1.step2": check_reduce_policy,
    "lab1.step3": check_connect_reduce,
    "lab2.step1": check_state_versions,
    "lab2.step2": check_reduce_idempotent,
    **LAB3_CHECKS,
    **LAB4_CHECKS,
    **LAB5_CHECKS,
}
assert tuple(CHECKS) == STEP_IDS, "every step of labkit.lab.course has exactly one check"


def run_check(step: str, ctx: CheckContext) -> Report:
    """Check ``step``. A learner's mistake is a failed item, never an exception; so is a
    failure of the check itself (the cloud went away, a permission is missing on AWS …).

    Only an unknown step id raises (``ValueError`` naming the valid ids).
    """
    info = get_step(step)
    try:
        return CHECKS[info.id](ctx)
    except Exception as error:  # the check itself failed: say so in the report
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        item = CheckItem(
            "The check could run",
            Status.FAIL,
            f"{type(error).__name__}: {message}"[:400],
            "Is the lab running? `lab.status()` tells; `lab.restore()` rebuilds "
            "the lab where you were. If this persists, tell your instructor.",
            "check-error",
        )
        return Report(info.id, info.title, (item,))


def run_all(ctx: CheckContext) -> AllReports:
    """Check every step, in order."""
    return AllReports.of(run_check(step, ctx) for step in STEP_IDS)
