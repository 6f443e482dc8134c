"""The workshop's labs as parts: lookups across labs and per-lab progress."""

from __future__ import annotations

import pytest

from labkit.lab import course
from labkit.lab.core_part import CORE
from labkit.lab.names import LabSettings
from labkit.lab.steps import STEPS
from labkit.lab.workshop import ProgressRecord


def test_every_step_belongs_to_exactly_one_lab() -> None:
    """Each step id maps back to the lab that lists it."""
    for part in course.PARTS:
        for step in part.steps:
            assert course.part_of(step.id) is part
    assert course.STEP_IDS[: len(STEPS)] == tuple(s.id for s in STEPS)


def test_unknown_step_names_the_valid_ones() -> None:
    """An unknown step id is a ValueError listing every step."""
    with pytest.raises(ValueError, match=r"lab1\.step1"):
        course.part_of("lab9.step9")


def test_steps_before_and_next_stay_inside_a_lab() -> None:
    """Order is per lab: the first step has nothing before it, the last nothing after."""
    ids = course.step_ids(CORE)
    assert course.steps_before(ids[0]) == ()
    assert course.steps_before(ids[2]) == ids[:2]
    assert course.next_step(ids[-1]) is None


def test_functions_are_found_by_any_spelling() -> None:
    """Function names resolve case-insensitively, with or without prefix or 'Lambda'."""
    for given in ("ReduceLambda", "labkit-ReduceLambda", "reduce", "REDUCELAMBDA"):
        part, name = course.find_function(given)
        assert (part, name) == (CORE, "ReduceLambda")
    with pytest.raises(ValueError, match="StateLambda"):
        course.find_function("FooLambda")


def test_core_part_names_carry_the_prefix() -> None:
    """The core part deploys under the backend's prefix."""
    settings = LabSettings.for_backend("aws")
    assert CORE.function_name(settings, "StateLambda") == "labkit-StateLambda"
    assert CORE.stack(settings, None).function("labkit-StateLambda") is not None


def test_progress_of_one_lab_leaves_the_others_alone() -> None:
    """Replacing one lab's completed steps keeps every other lab's, and records the lab."""
    record = ProgressRecord(("lab1.step1", "lab1.step2"))
    updated = record.with_part(CORE, ("lab1.step1",))
    assert updated.completed == ("lab1.step1",)
    assert updated.part == CORE.key and updated.started == (CORE.key,)
    assert updated.current == "lab1.step2"
