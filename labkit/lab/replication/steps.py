"""The replication lab's steps, as data (ids ``lab3.step1`` … ``lab3.step5``).

==========  ================================================  ==================================
id          the learner …                                     at the start of the step
==========  ================================================  ==================================
lab3.step1  creates ``logfile`` (GSI_1 projecting bytessent,  the replication role with a
            5/5 provisioned) and loads the 500-row file       logs-only policy; no tables
lab3.step2  creates ``logfile_replica`` as the material's     + logfile with its 500 rows
            CLI does (10/5, GSI_1 projecting bytessent,
            requestid, host, the cleanup tag)
lab3.step3  completes DDBReplicationPolicy and creates        + the replica
            ``ddbreplica_lambda`` (python3.12, 60 s)
lab3.step4  turns on logfile's NEW_IMAGE stream, maps it      + the complete policy and the
            (batch 100, TRIM_HORIZON) and fixes the handler   function with the starter code
lab3.step5  loads the 2,000-row file through the stream       + stream, mapping, fixed handler
==========  ================================================  ==================================

The lab does not depend on labs 1–2: a learner can start at lab3.step1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from labkit.lab.names import CodeVersion
from labkit.lab.parts import StepInfo


@dataclass(frozen=True)
class Stage:
    """What the replication lab consists of at one point."""

    logfile: bool = False
    small_rows: bool = False
    replica: bool = False
    policy_complete: bool = False
    function: bool = False
    stream: bool = False
    mapping: bool = False
    code: CodeVersion = CodeVersion.STARTER
    stream_rows: bool = False


@dataclass(frozen=True)
class ReplicationStep(StepInfo):
    """A step of the replication lab, with the stages it starts from and ends with."""

    start: Stage = Stage()
    solution: Stage = Stage()


_BEGIN = Stage()
_LOGFILE = replace(_BEGIN, logfile=True, small_rows=True)
_REPLICA = replace(_LOGFILE, replica=True)
_FUNCTION = replace(_REPLICA, policy_complete=True, function=True)
_CONNECTED = replace(_FUNCTION, stream=True, mapping=True, code=CodeVersion.SOLUTION)
_LOADED = replace(_CONNECTED, stream_rows=True)
#: The finished lab.
FINISHED = _LOADED

STEPS: tuple[ReplicationStep, ...] = (
    ReplicationStep(
        "lab3.step1",
        3,
        1,
        "Create the logfile table and load it",
        "Create logfile (key PK; GSI_1 on GSI_1_PK projecting bytessent; 5 reads and 5 writes "
        "provisioned) and load the 500-row web log into it, before it has a stream.",
        _BEGIN,
        _LOGFILE,
    ),
    ReplicationStep(
        "lab3.step2",
        3,
        2,
        "Create the replica table",
        "Create logfile_replica as the material's CLI does: key PK, 10 reads and 5 writes, GSI_1 "
        "projecting bytessent, requestid and host, and the cleanup tag.",
        _LOGFILE,
        _REPLICA,
    ),
    ReplicationStep(
        "lab3.step3",
        3,
        3,
        "Give the replicator its permissions and create it",
        "Complete DDBReplicationPolicy (read logfile's stream, PutItem and DeleteItem on the "
        "replica) and create ddbreplica_lambda on a supported Python runtime.",
        _REPLICA,
        _FUNCTION,
    ),
    ReplicationStep(
        "lab3.step4",
        3,
        4,
        "Stream logfile's changes to the replicator",
        "Turn on a NEW_IMAGE stream on logfile, map it to ddbreplica_lambda (batch size 100, "
        "TRIM_HORIZON), and fix the handler: replicate deletions and let failures fail.",
        _FUNCTION,
        _CONNECTED,
    ),
    ReplicationStep(
        "lab3.step5",
        3,
        5,
        "Load the stream file and compare the tables",
        "Load the 2,000-row file into logfile; the replica then holds exactly those 2,000 "
        "requests, and a GSI_1 query for a host answers the same on both tables.",
        _CONNECTED,
        _LOADED,
    ),
)
STEP_IDS: tuple[str, ...] = tuple(step.id for step in STEPS)


def get_step(step_id: str) -> ReplicationStep:
    for step in STEPS:
        if step.id == step_id:
            return step
    raise ValueError(
        f"There is no step {step_id!r} in lab 3. Its steps are: {', '.join(STEP_IDS)}."
    )
