"""lab5.step6's copy of lab 05's replicator, built with lab 05's own builders.

* **errors-logfile** (key ``PK``, NEW_IMAGE stream, no index): the table a producer writes.
* **errors-logfile_replica**: lab 05's replica design, with its ``GSI_1`` on ``GSI_1_PK``.
* **errors-ddbreplica_lambda**: lab 05's reference replicator, which raises when a write fails.
* The mapping **errors-logfile -> errors-ddbreplica_lambda** with lab 05's settings (batch 100,
  TRIM_HORIZON, retry forever) at the start; hardened, it has bounded retries, bisect and
  **ErrorsReplicaFailures** as its on-failure destination, and the role may send to it.

The poison item is one a producer can really write: an empty ``GSI_1_PK``. The source table
has no index on it and stores it; the replica's index refuses it (``ValidationException``:
an index key cannot be an empty string), on AWS and in the local cloud alike. Without a
retry limit the replicator fails on it again and again, and nothing behind it is replicated.
"""

from __future__ import annotations

from dataclasses import replace

from labkit.deploy.resources import (
    LogGroup,
    ManagedPolicy,
    Queue,
    Stack,
    Table,
    Tags,
    Target,
)
from labkit.lab.names import LabSettings
from labkit.lab.replication.stack import (
    replica_table,
    replication_role,
    replicator_function,
    replicator_mapping,
)
from labkit.lab.replication.tables import KEY, STREAM_VIEW

from .names import StreamErrorsNames
from .policies import replicator_policy
from .steps import SOLUTION_RETRIES, SOURCE_CAPACITY


def replicator_stack(
    settings: LabSettings, names: StreamErrorsNames, *, hardened: bool, tags: Tags = ()
) -> Stack:
    """The replicator's resources, as lab 05 leaves them or hardened."""
    lab05 = names.replication
    mapping = replicator_mapping(lab05)
    if hardened:
        mapping = replace(
            mapping,
            maximum_retry_attempts=SOLUTION_RETRIES,
            bisect_on_error=True,
            on_failure=Target("sqs", names.replica_queue),
        )
    return Stack(
        tables=(
            Table(lab05.logfile, KEY, STREAM_VIEW, tags, capacity=SOURCE_CAPACITY),
            replica_table(lab05, tags),
        ),
        queues=(Queue(names.replica_queue, tags=tags),),
        policies=(
            ManagedPolicy(
                lab05.policy,
                replicator_policy(names, can_send=hardened),
                f"Execution policy of {lab05.function} (labkit lab 5)",
                tags,
            ),
        ),
        roles=(replication_role(lab05, tags),),
        log_groups=(LogGroup(lab05.log_group, settings.log_retention_days, tags),),
        functions=(replicator_function(settings, lab05, tags=tags),),
        mappings=(mapping,),
    )
