"""The workshop as data and code: steps, resources, pipeline functions, rounds and scores.

* :class:`Workshop` — ``provision(step)``, ``provision(step, solved=True)``, ``teardown()``,
  ``restore()``, ``play_round()``, ``board()``, ``template()`` on either backend;
* :data:`STEPS` / :func:`get_step` — the stable step ids (``lab1.step1`` … ``lab2.step2``) and
  what each step starts from and ends with;
* :class:`Scoreboard` — rounds scored key by key, exactly;
* :class:`LabSettings` / :class:`Names` — prefixes, shard counts, names of everything.

Only boto3 is used to reach the backend, so all of it runs unchanged on AWS.
"""

from __future__ import annotations

from .names import CodeVersion, FunctionId, LabSettings, MappingId, Names, Parameter, TableId
from .packages import package, source
from .scoreboard import Board, KeyResult, RoundResult, Scoreboard
from .steps import STEP_IDS, STEPS, Stage, Step, get_step, next_step
from .workshop import ProgressRecord, Workshop

__all__ = [
    "STEPS",
    "STEP_IDS",
    "Board",
    "CodeVersion",
    "FunctionId",
    "KeyResult",
    "LabSettings",
    "MappingId",
    "Names",
    "Parameter",
    "ProgressRecord",
    "RoundResult",
    "Scoreboard",
    "Stage",
    "Step",
    "TableId",
    "Workshop",
    "get_step",
    "next_step",
    "package",
    "source",
]
