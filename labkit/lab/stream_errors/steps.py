"""Lab 5's steps, as data: what exists at the start and the end of each.

=============  ====================================================  ===========================
id             the learner …                                         the step's solution adds
=============  ====================================================  ===========================
lab5.step1     bounds the retries of the mapping that a poison       MaximumRetryAttempts 2
               record blocks
lab5.step2     keeps what is discarded: an on-failure SQS queue       sqs:SendMessage for the
               and a quarantiner that re-reads the discarded          role, OnFailure -> the
               records AT_SEQUENCE_NUMBER                             queue, the quarantiner
lab5.step3     splits failing batches so one poison record no        BisectBatchOnFunctionError
               longer takes its healthy neighbours with it
lab5.step4     reports the failed record instead of failing the      the ``partial`` handler,
               whole batch                                           ReportBatchItemFailures
lab5.step5     totals each tumbling window                           the ``window`` handler,
                                                                     TumblingWindowInSeconds 5
lab5.step6     hardens a copy of lab 05's replicator, which one      retries 2, bisect, OnFailure
               poison item blocks (its own tables, started with      -> ErrorsReplicaFailures,
               lab 05's settings: retry forever, no destination)     sqs:SendMessage for its role
=============  ====================================================  ===========================

The solution of a step is the start of the next.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from labkit.deploy.resources import Throughput
from labkit.lab.parts import StepInfo

LAB = 5
#: The retry limit the reference solution chooses (any small number passes the checks).
SOLUTION_RETRIES = 2
#: The tumbling window of lab5.step5, short so that a window closes while you watch.
WINDOW_SECONDS = 5
#: The batch size of the lab's mapping: small batches keep every experiment readable.
BATCH_SIZE = 10
#: The capacity of the tables whose streams the lab reads: small, so that on AWS each stream
#: has a single shard and every experiment sees the same batches in the same order.
SOURCE_CAPACITY = Throughput(5, 5)


@dataclass(frozen=True)
class Stage:
    """What the lab consists of at one point: the mapping's error handling and the code."""

    retries: int = -1
    destination: bool = False
    quarantiner: str = "starter"
    bisect: bool = False
    processor: str = "starter"
    report_failures: bool = False
    window: int = 0
    replicator: bool = False
    """lab5.step6's copy of lab 05's replicator exists (with lab 05's mapping settings)."""
    replicator_hardened: bool = False
    """... with bounded retries, bisect and an on-failure queue it may send to."""


@dataclass(frozen=True)
class Step:
    info: StepInfo
    start: Stage
    solution: Stage

    @property
    def id(self) -> str:
        return self.info.id


def _info(number: int, title: str, task: str) -> StepInfo:
    return StepInfo(f"lab5.step{number}", LAB, number, title, task)


_S0 = Stage()
_S1 = replace(_S0, retries=SOLUTION_RETRIES)
_S2 = replace(_S1, destination=True, quarantiner="solution")
_S3 = replace(_S2, bisect=True)
_S4 = replace(_S3, processor="partial", report_failures=True)
_S5 = replace(_S4, processor="window", window=WINDOW_SECONDS)
_S6 = replace(_S5, replicator=True)
_S6_SOLVED = replace(_S6, replicator_hardened=True)

STEPS: tuple[Step, ...] = (
    Step(
        _info(
            1,
            "Bound the retries",
            "Give the ErrorsSource -> ErrorsProcessor mapping a small MaximumRetryAttempts, so "
            "a poison record is given up on instead of blocking the shard.",
        ),
        _S0,
        _S1,
    ),
    Step(
        _info(
            2,
            "Keep what is discarded",
            "Let ErrorsProcessor's role send to the ErrorsFailures queue, make the queue the "
            "mapping's on-failure destination, and complete ErrorsQuarantiner so it copies "
            "discarded records (re-read AT_SEQUENCE_NUMBER) into ErrorsQuarantine.",
        ),
        _S1,
        _S2,
    ),
    Step(
        _info(
            3,
            "Split the batch around the poison",
            "Turn on BisectBatchOnFunctionError, so that only the poison record is "
            "discarded and its healthy neighbours are processed.",
        ),
        _S2,
        _S3,
    ),
    Step(
        _info(
            4,
            "Report the failed record",
            "Deploy an ErrorsProcessor that returns batchItemFailures with the SequenceNumber "
            "of the record that failed, and add ReportBatchItemFailures to the mapping's "
            "FunctionResponseTypes.",
        ),
        _S3,
        _S4,
    ),
    Step(
        _info(
            5,
            "Totals per tumbling window",
            f"Give the mapping a {WINDOW_SECONDS}-second tumbling window and deploy an "
            "ErrorsProcessor that carries per-item totals in the window's state and writes "
            "them to ErrorsWindows at the window's final invoke.",
        ),
        _S4,
        _S5,
    ),
    Step(
        _info(
            6,
            "Harden the replicator",
            "Give lab 05's replicator (errors-logfile -> errors-ddbreplica_lambda -> "
            "errors-logfile_replica) what this lab taught: a small MaximumRetryAttempts, "
            "BisectBatchOnFunctionError, and ErrorsReplicaFailures as its on-failure "
            "destination (with sqs:SendMessage for its role), so one poison item ends in the "
            "queue and every other item is replicated.",
        ),
        _S6,
        _S6_SOLVED,
    ),
)
STEP_INFOS: tuple[StepInfo, ...] = tuple(step.info for step in STEPS)
FINISHED = STEPS[-1].solution


def get_step(step_id: str) -> Step:
    for step in STEPS:
        if step.id == step_id:
            return step
    raise ValueError(
        f"There is no step {step_id!r} in lab 5; its steps are "
        + ", ".join(s.id for s in STEPS)
        + "."
    )
