"""The lab's resources at a stage of the workshop, as a :class:`~labkit.deploy.Stack`.

Event source mapping settings, and why:

* **Kinesis -> StateLambda**: batch size 100 (the reference lab), ParallelizationFactor from the
  settings (10 on AWS as in the blog; locally 1, one worker per shard, since every concurrent
  batch is a process on the learner's machine). StartingPosition **LATEST**: the stream keeps
  24 hours of trades and outlives the tables, so after a reset TRIM_HORIZON would replay a day
  of old trades into a fresh StateTable. The local cloud fixes a LATEST position when the
  mapping is created, so nothing sent after that is lost, and the scoreboard only sends once
  the lab is provisioned.
* **StateTable stream -> MapLambda**: batch size 1000 with a 1 s batching window, so one
  MapLambda call pre-aggregates up to 1000 changes (the reference template's 10000 is allowed
  for DynamoDB streams today, but a GetRecords call returns at most 1000 records and 1000 keeps
  the batch well under the 6 MB payload limit). StartingPosition **TRIM_HORIZON**: the stream
  is created with its table and holds only the pipeline's own changes, so reading it from the
  start loses nothing, even a change made while the mapping was still being created on AWS.
* **ReduceTable stream -> ReduceLambda** (the learner's, lab1.step3): batch size 1000, reserved
  concurrency 1 (one transaction at a time on AggregateTable), **TRIM_HORIZON** for the same
  reason: totals MapLambda stored before ReduceLambda was connected are still added once, so
  AggregateTable always equals the sum of StateTable.

All three retry a failed batch until it succeeds (MaximumRetryAttempts -1, as in the reference
lab): a batch is never dropped, which is what lab 2 relies on.
"""

from __future__ import annotations

from labkit.deploy.resources import (
    EventSourceMapping,
    Function,
    KinesisStream,
    LogGroup,
    ManagedPolicy,
    Role,
    Stack,
    StreamSource,
    StreamView,
    Table,
    TableItem,
)

from .names import CodeVersion, FunctionId, LabSettings, MappingId, Names, Parameter, TableId
from .packages import package
from .policies import policy_document
from .steps import FINISHED, Stage

TIMEOUTS = {
    FunctionId.STATE: 180,
    FunctionId.MAP: 60,
    FunctionId.REDUCE: 30,
    FunctionId.GENERATOR: 55,
}
KEYS = {
    TableId.STATE: "id",
    TableId.REDUCE: "MessageId",
    TableId.AGGREGATE: "Identifier",
    TableId.PARAMETER: "parameter",
}
STREAMS = {TableId.STATE: StreamView.NEW_AND_OLD_IMAGES, TableId.REDUCE: StreamView.NEW_IMAGE}
#: The tables and stream each function reads or writes, passed as environment variables.
ENVIRONMENT = {
    FunctionId.STATE: ("STATE_TABLE", "PARAMETER_TABLE"),
    FunctionId.MAP: ("REDUCE_TABLE", "PARAMETER_TABLE"),
    FunctionId.REDUCE: ("AGGREGATE_TABLE", "PARAMETER_TABLE"),
    FunctionId.GENERATOR: ("INCOMING_STREAM", "PARAMETER_TABLE"),
}
DESCRIPTIONS = {
    FunctionId.STATE: "Keeps the latest version of each trade in StateTable.",
    FunctionId.MAP: "Pre-aggregates StateTable changes into ReduceTable.",
    FunctionId.REDUCE: "Adds ReduceTable totals to AggregateTable.",
    FunctionId.GENERATOR: "Sends rounds of trades to IncomingDataStream.",
}

#: Server-side encryption of IncomingDataStream with AWS's own key, as in the reference lab.
KINESIS_KMS_KEY = "alias/aws/kinesis"
STATE_BATCH_SIZE = 100
MAP_BATCH_SIZE = 1000
MAP_BATCHING_WINDOW = 1
REDUCE_BATCH_SIZE = 1000
REDUCE_CONCURRENCY = 1


_ENV_TABLES = {
    "STATE_TABLE": TableId.STATE,
    "REDUCE_TABLE": TableId.REDUCE,
    "AGGREGATE_TABLE": TableId.AGGREGATE,
    "PARAMETER_TABLE": TableId.PARAMETER,
}


def _env_value(names: Names, variable: str) -> str:
    if variable == "INCOMING_STREAM":
        return names.incoming_stream
    return names.table(_ENV_TABLES[variable])


def mapping(settings: LabSettings, which: MappingId) -> EventSourceMapping:
    """The lab's settings for one of its three mappings."""
    names = settings.names
    if which is MappingId.STATE:
        return EventSourceMapping(
            names.function(FunctionId.STATE),
            StreamSource("kinesis", names.incoming_stream),
            batch_size=STATE_BATCH_SIZE,
            starting_position="LATEST",
            parallelization_factor=settings.state_parallelization,
        )
    if which is MappingId.MAP:
        return EventSourceMapping(
            names.function(FunctionId.MAP),
            StreamSource("dynamodb", names.state_table),
            batch_size=MAP_BATCH_SIZE,
            starting_position="TRIM_HORIZON",
            maximum_batching_window=MAP_BATCHING_WINDOW,
        )
    return EventSourceMapping(
        names.function(FunctionId.REDUCE),
        StreamSource("dynamodb", names.reduce_table),
        batch_size=REDUCE_BATCH_SIZE,
        starting_position="TRIM_HORIZON",
    )


def parameter_items(settings: LabSettings, lab2: bool) -> tuple[TableItem, ...]:
    """ParameterTable's failure settings: lab 2's rates when ``lab2``, otherwise zeros."""
    table = settings.names.parameter_table
    rates = [(p, rate if lab2 else 0) for p, rate in settings.failure_rates]
    rates.append((Parameter.SPECIAL_TRADES, 1 if lab2 else 0))
    return tuple(TableItem(table, "parameter", str(p), (("value", value),)) for p, value in rates)


def function_resource(
    settings: LabSettings, function: FunctionId, version: CodeVersion, concurrency: int | None
) -> Function:
    names = settings.names
    return Function(
        name=names.function(function),
        role=names.role(function),
        code=package(function, version),
        timeout=TIMEOUTS[function],
        memory_size=settings.memory_size,
        runtime=settings.runtime,
        environment=tuple((v, _env_value(names, v)) for v in ENVIRONMENT[function]),
        reserved_concurrency=concurrency,
        description=DESCRIPTIONS[function],
        tags=settings.tags,
    )


def lab_stack(stage: Stage, settings: LabSettings) -> Stack:
    """Everything that exists at ``stage``."""
    names = settings.names
    tags = settings.tags
    tables = tuple(
        Table(names.table(t), KEYS[t], STREAMS.get(t), tags) for t in TableId if t in stage.tables
    )
    policies = tuple(
        ManagedPolicy(
            names.policy(f),
            policy_document(names, f, reduce_complete=stage.reduce_policy_complete),
            f"Execution policy of {names.function(f)} (labkit)",
            tags,
        )
        for f in FunctionId
    )
    roles = tuple(
        Role(
            names.role(f),
            (names.policy(f),),
            description=f"Execution role of {names.function(f)} (labkit)",
            tags=tags,
        )
        for f in FunctionId
    )
    versions = {
        FunctionId.STATE: stage.state_code,
        FunctionId.REDUCE: stage.reduce_code,
    }
    functions = tuple(
        function_resource(
            settings,
            f,
            versions.get(f, CodeVersion.STARTER),
            stage.reduce_concurrency if f is FunctionId.REDUCE else None,
        )
        for f in FunctionId
    )
    log_groups = tuple(
        LogGroup(names.log_group(f), settings.log_retention_days, tags) for f in FunctionId
    )
    mappings = tuple(mapping(settings, m) for m in MappingId if m in stage.mappings)
    items = parameter_items(settings, stage.lab2) if TableId.PARAMETER in stage.tables else ()
    return Stack(
        streams=(
            KinesisStream(
                names.incoming_stream, settings.shard_count, tags=tags, kms_key=KINESIS_KMS_KEY
            ),
        ),
        tables=tables,
        policies=policies,
        roles=roles,
        log_groups=log_groups,
        functions=functions,
        mappings=mappings,
        items=items,
    )


def owned_stack(settings: LabSettings) -> Stack:
    """Everything the lab may own: what teardown removes and a reset may take away."""
    return lab_stack(FINISHED, settings)
