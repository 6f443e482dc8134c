"""Every lab of the workshop, in order, and the lookups that span them.

Each lab is a :class:`~labkit.lab.parts.LabPart`. A new lab adds its part to :data:`PARTS`; the
workshop, the checks, the progress views and the CLI then know its steps and functions.
"""

from __future__ import annotations

from .core_part import CORE
from .counters import PART as COUNTERS
from .parts import LabPart, StepInfo
from .replication.part import PART as REPLICATION
from .stream_errors import PART as STREAM_ERRORS

#: The labs, in the order of their notebooks.
PARTS: tuple[LabPart, ...] = (CORE, REPLICATION, COUNTERS, STREAM_ERRORS)

ALL_STEPS: tuple[StepInfo, ...] = tuple(step for part in PARTS for step in part.steps)
STEP_IDS: tuple[str, ...] = tuple(step.id for step in ALL_STEPS)

_PART_OF = {step.id: part for part in PARTS for step in part.steps}
assert len(_PART_OF) == len(STEP_IDS), "step ids are unique across labs"


def _unknown(step_id: str) -> ValueError:
    return ValueError(f"There is no step {step_id!r}. The steps are: {', '.join(STEP_IDS)}.")


def get_step(step_id: str) -> StepInfo:
    """The step with this id, in any lab; a ``ValueError`` naming the valid ids otherwise."""
    for step in ALL_STEPS:
        if step.id == step_id:
            return step
    raise _unknown(step_id)


def part_of(step_id: str) -> LabPart:
    """The lab a step belongs to."""
    try:
        return _PART_OF[step_id]
    except KeyError:
        raise _unknown(step_id) from None


def part_named(key: str) -> LabPart:
    for part in PARTS:
        if part.key == key:
            return part
    raise ValueError(f"There is no lab {key!r}. The labs are: {', '.join(p.key for p in PARTS)}.")


def step_ids(part: LabPart) -> tuple[str, ...]:
    return tuple(step.id for step in part.steps)


def steps_before(step_id: str) -> tuple[str, ...]:
    """The steps of the same lab that come before ``step_id``."""
    ids = step_ids(part_of(step_id))
    return ids[: ids.index(step_id)]


def next_step(step_id: str) -> StepInfo | None:
    """The step after ``step_id`` in its lab, or None after the lab's last step."""
    steps = part_of(step_id).steps
    index = [s.id for s in steps].index(step_id)
    return steps[index + 1] if index + 1 < len(steps) else None


def find_function(function: str) -> tuple[LabPart, str]:
    """The lab and canonical name of a function a learner names (``"ReduceLambda"``,
    ``"labkit-ReduceLambda"``, ``"reduce"`` …), or a ``ValueError`` listing them."""
    wanted = function.lower().removeprefix("labkit-")
    for part in PARTS:
        for name in part.functions():
            if wanted in (name.lower(), name.lower().removesuffix("lambda")):
                return part, name
    choices = ", ".join(name for part in PARTS for name in part.functions())
    raise ValueError(f"There is no lab function {function!r}. The functions are: {choices}.")
