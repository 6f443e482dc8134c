"""Lab 5's names, with the lab's prefix (empty locally, ``labkit-`` on AWS).

Every table, queue, role and function of the stream-errors lab goes through
:class:`StreamErrorsNames`, so the same notebook, check and function work on both backends.
The functions read the names they need from environment variables (:data:`ENVIRONMENT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from labkit.lab.replication.names import ReplicationNames

#: The tag every resource of this lab carries.
LAB_TAG = ("labkit:lab", "stream-errors")
#: What lab5.step6's copy of lab 05's replicator puts in front of lab 05's names.
REPLICATION_INFIX = "errors-"


class Function(StrEnum):
    """The lab's functions, by their name without prefix."""

    PROCESSOR = "ErrorsProcessor"
    """Reads the source table's stream; fails on the items that ask it to (the probe)."""
    QUARANTINER = "ErrorsQuarantiner"
    """Takes failure records off the queue and copies the discarded records aside."""


#: Environment variables of the functions: the names they need.
SOURCE_VARIABLE = "SOURCE_TABLE"
INVOCATIONS_VARIABLE = "INVOCATIONS_TABLE"
QUARANTINE_VARIABLE = "QUARANTINE_TABLE"
WINDOWS_VARIABLE = "WINDOWS_TABLE"
QUEUE_VARIABLE = "FAILURE_QUEUE"


@dataclass(frozen=True)
class StreamErrorsNames:
    """Every name of the stream-errors lab, with ``prefix`` in front."""

    prefix: str = ""

    @property
    def source(self) -> str:
        """The table whose stream the experiments read (key ``id``)."""
        return self.prefix + "ErrorsSource"

    @property
    def invocations(self) -> str:
        """Where the processor logs each invocation (key ``invocation``)."""
        return self.prefix + "ErrorsInvocations"

    @property
    def quarantine(self) -> str:
        """Discarded records, copied from the stream (key ``SequenceNumber``)."""
        return self.prefix + "ErrorsQuarantine"

    @property
    def windows(self) -> str:
        """The totals of each finished tumbling window (key ``window``)."""
        return self.prefix + "ErrorsWindows"

    @property
    def queue(self) -> str:
        """The SQS queue that receives the failure records of discarded batches."""
        return self.prefix + "ErrorsFailures"

    @property
    def replication(self) -> ReplicationNames:
        """lab5.step6's own copy of lab 05: ``errors-logfile`` -> ``errors-ddbreplica_lambda``
        -> ``errors-logfile_replica`` (lab 05's own tables are never touched)."""
        return ReplicationNames(self.prefix + REPLICATION_INFIX)

    @property
    def replica_queue(self) -> str:
        """The on-failure queue of lab5.step6's hardened replicator."""
        return self.prefix + "ErrorsReplicaFailures"

    def function(self, function: Function | str) -> str:
        return self.prefix + Function(function).value

    @property
    def processor(self) -> str:
        return self.function(Function.PROCESSOR)

    @property
    def quarantiner(self) -> str:
        return self.function(Function.QUARANTINER)

    def role(self, function: Function | str) -> str:
        return f"{self.prefix}{Function(function).value}Role"

    def policy(self, function: Function | str) -> str:
        return f"{self.prefix}{Function(function).value}Policy"

    def log_group(self, function: Function | str) -> str:
        return f"/aws/lambda/{self.function(function)}"
