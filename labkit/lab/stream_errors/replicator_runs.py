"""What notebook 07's last exercise (and lab5.step6's check) drives: log rows written to
errors-logfile, what reached the replica, and what was discarded to ErrorsReplicaFailures.

``ReplicatorRuns`` works on both backends. As with the processor's experiments, the rows of
one ``put`` are written while the mapping is briefly disabled, so they reach the replicator as
one batch and every run shows the same batches.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from labkit.lab.replication.names import ReplicationNames

from . import observe
from .experiments import MappingDriver
from .observe import FailureRecord

#: The value of ``GSI_1_PK`` for healthy rows (the replica's index groups rows by host).
HOST_KEY = "host#lab5.example.org"
#: What makes a row poison: the replica's index cannot take an empty key.
POISON = "poison"


def row_of(spec: str) -> dict[str, Any]:
    """A log row of errors-logfile from ``"id"`` (healthy) or ``"id:poison"`` (an empty
    ``GSI_1_PK``, which the replica's index refuses)."""
    row_id, _, kind = spec.partition(":")
    if not row_id:
        raise ValueError(f"a row needs an id before the colon: {spec!r}")
    if kind not in ("", POISON):
        raise ValueError(f"{spec!r}: a row is 'id' or 'id:{POISON}', not {kind!r}")
    return {
        "PK": {"S": row_id},
        "GSI_1_PK": {"S": "" if kind else HOST_KEY},
        "bytessent": {"N": str(len(row_id) * 100)},
        # A fresh value, so that writing a row again writes a stream record again.
        "written": {"N": str(time.time_ns())},
    }


class ReplicatorRuns(MappingDriver):
    """lab5.step6's replicator on one backend: ``put`` rows, ``settle``, then look at
    ``replicated()``, ``failures()`` and what each failure ``discarded``."""

    @property
    def lab05(self) -> ReplicationNames:
        """The names of lab 05's copy (``errors-logfile``, ``errors-ddbreplica_lambda`` ...)."""
        return self.names.replication

    # -- the mapping -------------------------------------------------------------------------
    def find_mapping(self) -> dict[str, Any] | None:
        """The errors-logfile -> errors-ddbreplica_lambda mapping, or None."""
        return observe.mapping_between(self.client, self.lab05.logfile, self.lab05.function)

    def mapping(self) -> dict[str, Any]:
        found = self.find_mapping()
        if found is None:
            raise LookupError(
                f"There is no mapping from {self.lab05.logfile}'s stream to "
                f"{self.lab05.function}. lab.provision('lab5.step6') creates it."
            )
        return found

    def queue_arn(self) -> str:
        """The ARN of ErrorsReplicaFailures, for the mapping's DestinationConfig."""
        url = observe.named_queue_url(self.client, self.names.replica_queue)
        if url is None:
            raise LookupError(
                f"There is no queue {self.names.replica_queue}. "
                "lab.provision('lab5.step6') creates it."
            )
        return observe.queue_arn(self.client, url)

    # -- writing -----------------------------------------------------------------------------
    def put(self, *specs: str, together: bool = True) -> list[str]:
        """Write rows to errors-logfile (``"r1"``, or ``"bad:poison"``); returns their ids.

        With ``together`` (the default) the mapping is paused while they are written, so they
        reach the replicator as one batch.
        """
        rows = [row_of(spec) for spec in specs]
        ddb = self.client("dynamodb")
        with self.paused() if together else nullcontext():
            for row in rows:
                ddb.put_item(TableName=self.lab05.logfile, Item=row)
        return [row["PK"]["S"] for row in rows]

    # -- what happened -----------------------------------------------------------------------
    def replicated(self, ids: list[str] | None = None) -> set[str]:
        """The ids that are in the replica (of ``ids``, or all of them)."""
        ddb = self.client("dynamodb")
        table = self.lab05.replica
        if ids is not None:
            found = set()
            for row_id in ids:
                answer = ddb.get_item(
                    TableName=table, Key={"PK": {"S": row_id}}, ConsistentRead=True
                )
                if "Item" in answer:
                    found.add(row_id)
            return found
        return {item["PK"]["S"] for item in observe.scan(self.client, table)}

    def failures(self, *, take: bool = False) -> list[FailureRecord]:
        """The failure records in ErrorsReplicaFailures (``take`` removes them)."""
        return observe.queue_failure_records(self.client, self.names.replica_queue, take=take)

    def discarded(self, failure: FailureRecord) -> list[str]:
        """The ids of the rows a failure record stands for, re-read from the stream."""
        records = observe.discarded_records(self.client, failure)
        return [str(record["dynamodb"]["Keys"]["PK"]["S"]) for record in records]

    def _progress(self) -> object:
        return (len(self.replicated()), len(self.failures()))

    def fresh(self) -> None:
        """A clean slate: empty replica and queue (errors-logfile keeps its rows)."""
        ddb = self.client("dynamodb")
        for row_id in self.replicated():
            ddb.delete_item(TableName=self.lab05.replica, Key={"PK": {"S": row_id}})
        self.failures(take=True)
