"""The replication lab's names, with the lab's prefix (empty locally, ``labkit-`` on AWS).

The material calls the function ``ddbreplica_lambda`` and its role ``DDBReplicationRole``;
the tables are ``logfile`` and ``logfile_replica``. Every name goes through
:class:`ReplicationNames`, so the same notebook, check and function work on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The function the learner writes (its identity; the deployed name carries the prefix).
FUNCTION = "ddbreplica_lambda"
LOGFILE = "logfile"
REPLICA = "logfile_replica"
#: The tag the material puts on the replica (the cleanup marker of its workshop).
CLEANUP_TAG = ("workshop-design-patterns", "targeted-for-cleanup")
#: The tag every resource of this lab carries, beside the material's.
LAB_TAG = ("labkit:lab", "replication")
#: The environment variable that tells the function where to write.
REPLICA_VARIABLE = "REPLICA_TABLE"


@dataclass(frozen=True)
class ReplicationNames:
    """Every name of the replication lab, with ``prefix`` in front."""

    prefix: str = ""

    @property
    def logfile(self) -> str:
        return self.prefix + LOGFILE

    @property
    def replica(self) -> str:
        return self.prefix + REPLICA

    @property
    def function(self) -> str:
        return self.prefix + FUNCTION

    @property
    def role(self) -> str:
        return f"{self.prefix}DDBReplicationRole"

    @property
    def policy(self) -> str:
        return f"{self.prefix}DDBReplicationPolicy"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"
