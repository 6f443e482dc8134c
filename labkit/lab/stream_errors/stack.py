"""Lab 5's resources at a stage, as a :class:`~labkit.deploy.Stack`.

* **ErrorsSource** (key ``id``, NEW_AND_OLD_IMAGES stream): the table the experiments write.
* **ErrorsInvocations** (key ``invocation``): ErrorsProcessor logs every invocation here, so
  the invocation view reads a table, not log lines that arrive whenever they arrive.
* **ErrorsQuarantine** (key ``SequenceNumber``) and **ErrorsWindows** (key ``window``): where
  lab5.step2's quarantiner and lab5.step5's window totals go.
* **ErrorsFailures**, an SQS queue: the on-failure destination lab5.step2 connects.
* The mapping **ErrorsSource -> ErrorsProcessor**: batch size 10 (small, readable batches),
  TRIM_HORIZON (nothing written before the mapping exists is missed), and AWS's defaults for
  everything else at the start: retry forever, no destination, no bisect. Each step's solution
  adds its setting (retries, the on-failure queue, bisect, ReportBatchItemFailures, a window).
* From lab5.step6 on, a copy of lab 05's replicator under lab 5's names
  (:mod:`~labkit.lab.stream_errors.replicator`).

ErrorsSource has a small provisioned capacity on both backends: on AWS such a table has one
stream shard, so every experiment sees the same batches in the same order (an on-demand table
may be split into several shards).

ErrorsProcessor imports ``aws_lambda_powertools`` in its ``powertools`` version. The local
runtime has it installed; on AWS the function gets the public Powertools layer.
"""

from __future__ import annotations

from labkit.deploy.resources import (
    EventSourceMapping,
    Function,
    LogGroup,
    ManagedPolicy,
    Queue,
    Role,
    Stack,
    StreamSource,
    StreamView,
    Table,
    Target,
    merge,
    tags_of,
)
from labkit.lab.names import LabSettings

from . import code
from .names import (
    INVOCATIONS_VARIABLE,
    LAB_TAG,
    QUARANTINE_VARIABLE,
    QUEUE_VARIABLE,
    SOURCE_VARIABLE,
    WINDOWS_VARIABLE,
    StreamErrorsNames,
)
from .names import Function as FunctionId
from .policies import processor_policy, quarantiner_policy
from .replicator import replicator_stack
from .steps import BATCH_SIZE, SOURCE_CAPACITY, Stage

TIMEOUT = 30
#: The public Powertools for AWS Lambda (Python) v3 layer, for python3.12 on x86_64.
POWERTOOLS_LAYER = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:"
    "AWSLambdaPowertoolsPythonV3-python312-x86_64:25"
)
DESCRIPTIONS = {
    FunctionId.PROCESSOR: "Processes ErrorsSource's stream; fails where an item asks it to.",
    FunctionId.QUARANTINER: "Copies discarded stream records into ErrorsQuarantine.",
}


def names_of(settings: LabSettings) -> StreamErrorsNames:
    return StreamErrorsNames(settings.prefix)


def _environment(names: StreamErrorsNames, function: FunctionId) -> tuple[tuple[str, str], ...]:
    if function is FunctionId.PROCESSOR:
        return (
            (SOURCE_VARIABLE, names.source),
            (INVOCATIONS_VARIABLE, names.invocations),
            (WINDOWS_VARIABLE, names.windows),
        )
    return ((QUEUE_VARIABLE, names.queue), (QUARANTINE_VARIABLE, names.quarantine))


def mapping(settings: LabSettings, stage: Stage) -> EventSourceMapping:
    """The lab's one mapping, with the error handling of ``stage``."""
    names = names_of(settings)
    return EventSourceMapping(
        names.processor,
        StreamSource("dynamodb", names.source),
        batch_size=BATCH_SIZE,
        starting_position="TRIM_HORIZON",
        maximum_retry_attempts=stage.retries,
        bisect_on_error=stage.bisect,
        report_batch_item_failures=stage.report_failures,
        on_failure=Target("sqs", names.queue) if stage.destination else None,
        tumbling_window=stage.window,
    )


def stage_stack(settings: LabSettings, stage: Stage) -> Stack:
    """Everything lab 5 consists of at ``stage``."""
    names = names_of(settings)
    tags = tags_of(dict((LAB_TAG,)))
    versions = {FunctionId.PROCESSOR: stage.processor, FunctionId.QUARANTINER: stage.quarantiner}
    documents = {
        FunctionId.PROCESSOR: processor_policy(names, can_send=stage.destination),
        FunctionId.QUARANTINER: quarantiner_policy(names),
    }
    lab5 = Stack(
        tables=(
            Table(
                names.source,
                "id",
                StreamView.NEW_AND_OLD_IMAGES,
                tags=tags,
                capacity=SOURCE_CAPACITY,
            ),
            Table(names.invocations, "invocation", tags=tags),
            Table(names.quarantine, "SequenceNumber", tags=tags),
            Table(names.windows, "window", tags=tags),
        ),
        queues=(Queue(names.queue, tags=tags),),
        policies=tuple(
            ManagedPolicy(names.policy(f), documents[f], f"What {f.value} may do.", tags)
            for f in FunctionId
        ),
        roles=tuple(
            Role(names.role(f), (names.policy(f),), description=f"{f.value}'s role", tags=tags)
            for f in FunctionId
        ),
        log_groups=tuple(
            LogGroup(names.log_group(f), settings.log_retention_days, tags) for f in FunctionId
        ),
        functions=tuple(
            Function(
                names.function(f),
                names.role(f),
                code.package(f, versions[f]),
                TIMEOUT,
                memory_size=settings.memory_size,
                runtime=settings.runtime,
                environment=_environment(names, f),
                description=DESCRIPTIONS[f],
                tags=tags,
                layers=(POWERTOOLS_LAYER,) if f is FunctionId.PROCESSOR else (),
            )
            for f in FunctionId
        ),
        mappings=(mapping(settings, stage),),
    )
    if not stage.replicator:
        return lab5
    hardened = replicator_stack(settings, names, hardened=stage.replicator_hardened, tags=tags)
    return merge((lab5, hardened))


def owned_stack(settings: LabSettings) -> Stack:
    """Everything lab 5 may create (what a teardown removes)."""
    return stage_stack(settings, Stage(replicator=True))
