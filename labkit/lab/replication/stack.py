"""The replication lab's resources at a stage, as a :class:`~labkit.deploy.Stack`.

The pieces are functions of the names and settings, so another lab (lab 5's stream-errors
experiments) can build the same replicator, role and mapping under names of its own.

The mapping reads logfile's stream from **TRIM_HORIZON** with a batch size of 100, as the
material does: everything written after the stream was turned on reaches the replica, even a
load that started before the mapping was ready. It retries a failed batch until it succeeds
(MaximumRetryAttempts -1), which is why the handler must raise when a write fails.

The 500 rows of step 1 are part of the stages without a stream only. A stack is one plan, and
a plan writes items after creating the tables; with the stream already on they would be
replicated. Provisioned step by step they are in logfile anyway, and provisioning never
removes items.
"""

from __future__ import annotations

from typing import Literal

from labkit.deploy.packaging import Package
from labkit.deploy.resources import (
    EventSourceMapping,
    Function,
    LogGroup,
    ManagedPolicy,
    Role,
    Stack,
    StreamSource,
    Table,
    TableItem,
    Tags,
)
from labkit.lab.names import CodeVersion, LabSettings

from . import logdata
from .functions import package
from .names import CLEANUP_TAG, LAB_TAG, REPLICA_VARIABLE, ReplicationNames
from .policy import replication_policy
from .steps import FINISHED, Stage
from .tables import KEY, LOGFILE_DESIGN, REPLICA_DESIGN, STREAM_VIEW

BATCH_SIZE = 100
STARTING_POSITION: Literal["TRIM_HORIZON"] = "TRIM_HORIZON"
TIMEOUT = 60
DESCRIPTION = "Copies the changes of the logfile table into its replica (labkit)."


def names_of(settings: LabSettings) -> ReplicationNames:
    return ReplicationNames(settings.prefix)


def lab_tags(settings: LabSettings) -> Tags:
    """The settings' tags, with this lab's ``labkit:lab`` tag."""
    return tuple(sorted({*(t for t in settings.tags if t[0] != LAB_TAG[0]), LAB_TAG}))


def replication_role(names: ReplicationNames, tags: Tags = ()) -> Role:
    return Role(
        names.role,
        (names.policy,),
        description=f"Execution role of {names.function} (labkit)",
        tags=tags,
    )


def replication_managed_policy(
    names: ReplicationNames, *, complete: bool = True, tags: Tags = ()
) -> ManagedPolicy:
    return ManagedPolicy(
        names.policy,
        replication_policy(names, complete=complete),
        f"Execution policy of {names.function} (labkit)",
        tags,
    )


def replicator_function(
    settings: LabSettings,
    names: ReplicationNames,
    code: Package | CodeVersion = CodeVersion.SOLUTION,
    *,
    tags: Tags = (),
) -> Function:
    """The replicator writing into ``names.replica``, running ``code``."""
    return Function(
        name=names.function,
        role=names.role,
        code=package(code) if isinstance(code, CodeVersion) else code,
        timeout=TIMEOUT,
        memory_size=settings.memory_size,
        runtime=settings.runtime,
        environment=((REPLICA_VARIABLE, names.replica),),
        description=DESCRIPTION,
        tags=tags,
    )


def replicator_mapping(names: ReplicationNames) -> EventSourceMapping:
    """logfile's stream -> the replicator (batch size 100, TRIM_HORIZON)."""
    return EventSourceMapping(
        names.function,
        StreamSource("dynamodb", names.logfile),
        batch_size=BATCH_SIZE,
        starting_position=STARTING_POSITION,
    )


def row_items(table: str, spec: logdata.LogFileSpec) -> tuple[TableItem, ...]:
    """The items the loader writes for ``spec``'s rows, as stack items."""
    out = []
    for row in logdata.rows(spec):
        item = row.as_item()
        key = str(item.pop(KEY))
        out.append(TableItem(table, KEY, key, tuple(item.items())))
    return tuple(out)


def logfile_table(names: ReplicationNames, *, stream: bool, tags: Tags = ()) -> Table:
    return LOGFILE_DESIGN.table(names.logfile, stream=STREAM_VIEW if stream else None, tags=tags)


def replica_table(names: ReplicationNames, tags: Tags = ()) -> Table:
    return REPLICA_DESIGN.table(names.replica, tags=tuple(sorted({*tags, CLEANUP_TAG})))


def lab_stack(stage: Stage, settings: LabSettings) -> Stack:
    """Everything the replication lab has at ``stage``."""
    names = names_of(settings)
    tags = lab_tags(settings)
    tables = []
    if stage.logfile:
        tables.append(logfile_table(names, stream=stage.stream, tags=tags))
    if stage.replica:
        tables.append(replica_table(names, tags))
    items: tuple[TableItem, ...] = ()
    if stage.logfile and stage.small_rows and not stage.stream:
        # Written only while logfile has no stream: with the stream on (a later step solved
        # from scratch) they would reach the replica, which they must never do.
        items += row_items(names.logfile, logdata.SMALL)
    if stage.logfile and stage.stream_rows:
        items += row_items(names.logfile, logdata.STREAM)
    functions = (
        (replicator_function(settings, names, stage.code, tags=tags),) if stage.function else ()
    )
    return Stack(
        tables=tuple(tables),
        policies=(replication_managed_policy(names, complete=stage.policy_complete, tags=tags),),
        roles=(replication_role(names, tags),),
        log_groups=(LogGroup(names.log_group, settings.log_retention_days, tags),),
        functions=functions,
        mappings=(replicator_mapping(names),) if stage.mapping else (),
        items=items,
    )


def owned_stack(settings: LabSettings) -> Stack:
    """Everything the replication lab may own (what its teardown removes)."""
    return lab_stack(FINISHED, settings)
