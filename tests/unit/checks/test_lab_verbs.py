"""Lab's step verbs without a cloud: hint tiers, deploy's early syntax check, name lookup."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from labkit.lab.names import FunctionId, LabSettings
from labkit.lab.workshop import ProgressRecord
from labkit.session import Lab, _function_id


def offline_lab(tmp_path: Path) -> Lab:
    """A Lab object wired to a data dir and a stand-in workshop, without any backend."""
    lab = Lab.__new__(Lab)
    lab.backend = SimpleNamespace(  # type: ignore[assignment]
        name="local", region="us-east-1", endpoint=None, data_dir=tmp_path, is_local=True
    )
    lab._prefix = None
    workshop = SimpleNamespace(
        settings=LabSettings(), progress_record=lambda: ProgressRecord(("lab1.step1",))
    )
    lab.__dict__["workshop"] = workshop
    return lab


def test_hint_reveals_one_tier_per_call_and_stays_at_the_answer(tmp_path: Path) -> None:
    """hint() goes nudge -> more -> answer, then repeats the answer; reset hints start over."""
    lab = offline_lab(tmp_path)
    tiers = [lab.hint("lab1.step2").tier for _ in range(4)]
    assert tiers == [1, 2, 3, 3]
    lab._store().reset_hints("lab1.step2")
    assert lab.hint("lab1.step2").tier == 1


def test_hint_defaults_to_the_current_step(tmp_path: Path) -> None:
    """Without a step, hint() is about the step after the last one completed."""
    assert offline_lab(tmp_path).hint().step == "lab1.step2"


def test_deploy_reports_a_syntax_error_before_deploying(tmp_path: Path) -> None:
    """A syntax error in new code is raised with its line, and nothing is deployed."""
    lab = offline_lab(tmp_path)
    with pytest.raises(SyntaxError) as error:
        lab.deploy("StateLambda", "def lambda_handler(event, context)\n    return 1\n")
    assert error.value.lineno == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("StateLambda", FunctionId.STATE),
        ("labkit-ReduceLambda", FunctionId.REDUCE),
        ("map", FunctionId.MAP),
    ],
)
def test_function_names(given: str, expected: Any) -> None:
    """Functions are found by name, with or without the prefix or the 'Lambda' suffix."""
    assert _function_id(given) is expected


def test_unknown_function_names_the_choices() -> None:
    """An unknown function name lists the lab's functions."""
    with pytest.raises(ValueError, match="StateLambda"):
        _function_id("FooLambda")
