"""The lab's resources by identity, their names (with a prefix), and the lab's settings.

Identities (``FunctionId.STATE`` …) never change; names do: locally the prefix is empty, so
the tables are called ``StateTable`` as in the reference lab, while on AWS the default prefix
``labkit-`` keeps the lab apart from anything else in the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: Every resource the lab creates carries this tag (where the service supports tags).
LAB_TAG = ("labkit:lab", "core")
DEFAULT_AWS_PREFIX = "labkit-"


class FunctionId(StrEnum):
    STATE = "StateLambda"
    MAP = "MapLambda"
    REDUCE = "ReduceLambda"
    GENERATOR = "GeneratorLambda"


class TableId(StrEnum):
    STATE = "StateTable"
    REDUCE = "ReduceTable"
    AGGREGATE = "AggregateTable"
    PARAMETER = "ParameterTable"


class MappingId(StrEnum):
    """The three event source mappings of the pipeline, named after the function they feed."""

    STATE = "StateLambda<-IncomingDataStream"
    MAP = "MapLambda<-StateTable"
    REDUCE = "ReduceLambda<-ReduceTable"


class CodeVersion(StrEnum):
    STARTER = "starter"
    SOLUTION = "solution"


class Parameter(StrEnum):
    """Items of ParameterTable (key ``parameter``, number attribute ``value``)."""

    FAILURE_STATE = "FAILURE_STATE_LAMBDA_PCT"
    FAILURE_MAP = "FAILURE_MAP_LAMBDA_PCT"
    FAILURE_REDUCE = "FAILURE_REDUCE_LAMBDA_PCT"
    SPECIAL_TRADES = "SPECIAL_TRADES"
    FAILURE_SEED = "FAILURE_SEED"
    ROUND = "ROUND"  # the round being played (the failure schedule follows it)
    SCORE = "SCORE"


INCOMING_STREAM = "IncomingDataStream"


@dataclass(frozen=True)
class Names:
    """Every name the lab uses, with the prefix applied."""

    prefix: str = ""

    @property
    def incoming_stream(self) -> str:
        return self.prefix + INCOMING_STREAM

    def table(self, table: TableId) -> str:
        return self.prefix + table.value

    def function(self, function: FunctionId) -> str:
        return self.prefix + function.value

    def role(self, function: FunctionId) -> str:
        return f"{self.prefix}{function.value}Role"

    def policy(self, function: FunctionId) -> str:
        return f"{self.prefix}{function.value}Policy"

    def log_group(self, function: FunctionId) -> str:
        return f"/aws/lambda/{self.function(function)}"

    @property
    def state_table(self) -> str:
        return self.table(TableId.STATE)

    @property
    def reduce_table(self) -> str:
        return self.table(TableId.REDUCE)

    @property
    def aggregate_table(self) -> str:
        return self.table(TableId.AGGREGATE)

    @property
    def parameter_table(self) -> str:
        return self.table(TableId.PARAMETER)


@dataclass(frozen=True)
class LabSettings:
    """How the lab is built on one backend.

    * ``shard_count``: shards of IncomingDataStream: 20 on AWS as in the reference; 2 locally,
      because the local cloud serves one request at a time, so more shards (each with its
      own StateLambda worker process) cost memory without going any faster.
    * ``state_parallelization``: ParallelizationFactor of the Kinesis -> StateLambda mapping.
      The blog uses 10 on AWS. Locally every concurrent batch is a worker process on your
      machine, so the default keeps one batch per shard.
    * ``failure_rates``: lab 2's failure rates in percent, per ParameterTable item.
    """

    prefix: str = ""
    shard_count: int = 2
    state_parallelization: int = 1
    failure_rates: tuple[tuple[Parameter, int], ...] = field(
        default=(
            (Parameter.FAILURE_STATE, 5),
            (Parameter.FAILURE_MAP, 10),
            (Parameter.FAILURE_REDUCE, 10),
        )
    )
    runtime: str = "python3.12"
    memory_size: int = 256
    log_retention_days: int = 7
    tags: tuple[tuple[str, str], ...] = (LAB_TAG,)

    @classmethod
    def for_backend(cls, backend: str, prefix: str | None = None) -> LabSettings:
        """The defaults of ``local`` or ``aws`` (optionally with another prefix)."""
        if backend == "aws":
            chosen = DEFAULT_AWS_PREFIX if prefix is None else prefix
            return cls(prefix=chosen, shard_count=20, state_parallelization=10)
        return cls(prefix=prefix or "")

    @property
    def names(self) -> Names:
        return Names(self.prefix)
