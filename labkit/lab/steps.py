"""The workshop's steps, as data. These ids are stable: notebooks and checks are built on them.

=============  ===========================================  =====================================
id             the learner …                                at the start of the step
=============  ===========================================  =====================================
lab1.step1     creates the four tables, with a                Kinesis stream, four roles and
               NEW_AND_OLD_IMAGES stream on StateTable and    policies (ReduceLambdaPolicy only
               a NEW_IMAGE stream on ReduceTable              logs + ParameterTable read), four
                                                              functions (starter code); no tables
lab1.step2     completes ReduceLambdaPolicy: read             + the four tables, ParameterTable
               ReduceTable's stream, UpdateItem on            settings (no failures), mappings
               AggregateTable                                 Kinesis -> StateLambda and
                                                              StateTable -> MapLambda
lab1.step3     connects ReduceLambda: reserved concurrency    + the complete ReduceLambdaPolicy
               1, mapping from ReduceTable's stream, batch
               size 1000
lab2.step1     makes StateLambda keep only newer versions     the whole lab-1 pipeline, with
               (a version condition on its write)             lab 2's failures and special trades
                                                              switched on
lab2.step2     makes ReduceLambda idempotent                  + the fixed StateLambda
               (a ClientRequestToken from the batch)
=============  ===========================================  =====================================

Each :class:`Step` has a ``start`` and a ``solution`` :class:`Stage`. A stage lists the tables
and mappings that exist, whether ReduceLambdaPolicy is complete, ReduceLambda's reserved
concurrency, which code StateLambda and ReduceLambda run, and whether lab 2's failures are
on. The solution of a step is the start of the next one, except that lab 2's failures come on
between the labs (the scoreboard switches them on at 300 points).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .names import CodeVersion, MappingId, TableId
from .parts import StepInfo

ALL_TABLES = frozenset(TableId)


@dataclass(frozen=True)
class Stage:
    """What the lab consists of at one point of the workshop."""

    tables: frozenset[TableId] = frozenset()
    mappings: frozenset[MappingId] = frozenset()
    reduce_policy_complete: bool = False
    reduce_concurrency: int | None = None
    state_code: CodeVersion = CodeVersion.STARTER
    reduce_code: CodeVersion = CodeVersion.STARTER
    lab2: bool = False

    def describe(self) -> list[str]:
        """The stage in a few lines of plain words."""
        lines = [
            "tables: " + (", ".join(sorted(self.tables)) or "none"),
            "mappings: " + (", ".join(sorted(self.mappings)) or "none"),
            "ReduceLambdaPolicy: "
            + ("complete" if self.reduce_policy_complete else "logs and ParameterTable only"),
            "ReduceLambda reserved concurrency: "
            + ("none" if self.reduce_concurrency is None else str(self.reduce_concurrency)),
            f"StateLambda code: {self.state_code}, ReduceLambda code: {self.reduce_code}",
            "lab 2 failures and special trades: " + ("on" if self.lab2 else "off"),
        ]
        return lines


@dataclass(frozen=True)
class Step(StepInfo):
    """A step of the core lab, with the stages it starts from and ends with."""

    start: Stage = Stage()
    solution: Stage = Stage()


_BEGIN = Stage()
_TABLES = replace(_BEGIN, tables=ALL_TABLES, mappings=frozenset({MappingId.STATE, MappingId.MAP}))
_POLICY = replace(_TABLES, reduce_policy_complete=True)
_CONNECTED = replace(_POLICY, reduce_concurrency=1, mappings=_POLICY.mappings | {MappingId.REDUCE})
_LAB2 = replace(_CONNECTED, lab2=True)
_STATE_FIXED = replace(_LAB2, state_code=CodeVersion.SOLUTION)
_ALL_FIXED = replace(_STATE_FIXED, reduce_code=CodeVersion.SOLUTION)

STEPS: tuple[Step, ...] = (
    Step(
        "lab1.step1",
        1,
        1,
        "Create the tables and their streams",
        "Create StateTable (key id, stream NEW_AND_OLD_IMAGES), ReduceTable (key MessageId, "
        "stream NEW_IMAGE), AggregateTable (key Identifier) and ParameterTable (key "
        "parameter), all on-demand.",
        _BEGIN,
        _TABLES,
    ),
    Step(
        "lab1.step2",
        1,
        2,
        "Let ReduceLambda read its stream and write the aggregates",
        "Add to ReduceLambdaPolicy: DescribeStream, GetRecords and GetShardIterator on "
        "ReduceTable's stream, and UpdateItem on AggregateTable.",
        _TABLES,
        _POLICY,
    ),
    Step(
        "lab1.step3",
        1,
        3,
        "Connect ReduceLambda to ReduceTable's stream",
        "Reserve a concurrency of 1 for ReduceLambda, then map ReduceTable's stream to it "
        "with a batch size of 1000.",
        _POLICY,
        _CONNECTED,
    ),
    Step(
        "lab2.step1",
        2,
        1,
        "Keep only newer versions in StateLambda",
        "Make StateLambda's write conditional (attribute_not_exists(id) OR Version < the "
        "message's version) and ignore only ConditionalCheckFailedException.",
        _LAB2,
        _STATE_FIXED,
    ),
    Step(
        "lab2.step2",
        2,
        2,
        "Make ReduceLambda idempotent",
        "Pass a ClientRequestToken made from the batch (an md5 of its records) to "
        "transact_write_items, and handle IdempotentParameterMismatchException.",
        _STATE_FIXED,
        _ALL_FIXED,
    ),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
#: The whole pipeline with both lab 2 fixes (what a finished workshop looks like).
FINISHED: Stage = _ALL_FIXED


def get_step(step_id: str) -> Step:
    """The step with this id; a ``ValueError`` naming the valid ids otherwise."""
    for step in STEPS:
        if step.id == step_id:
            return step
    raise ValueError(f"There is no step {step_id!r}. The steps are: {', '.join(STEP_IDS)}.")


def next_step(step_id: str) -> Step | None:
    """The step after ``step_id``, or None after the last one."""
    index = STEP_IDS.index(get_step(step_id).id)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


def steps_before(step_id: str) -> tuple[str, ...]:
    return STEP_IDS[: STEP_IDS.index(get_step(step_id).id)]
