"""Event source mappings for DynamoDB Streams and Kinesis: batching, retries, bisecting,
partial batch responses, on-failure destinations, tumbling windows and filters.

The engine is independent of moto and HTTP: it consumes the small protocols in
:mod:`labkit.esm.ports`; :mod:`labkit.esm.testing` has in-memory fakes of them.
"""

from __future__ import annotations

from labkit.esm.checkpoints import JsonFileCheckpointStore, MemoryCheckpointStore
from labkit.esm.config import MappingConfig
from labkit.esm.engine import Engine
from labkit.esm.errors import EsmApiError, IdleTimeout
from labkit.esm.ports import (
    CheckpointStore,
    DestinationSender,
    InvokeOutcome,
    Invoker,
    ShardInfo,
    SourceRecord,
    StreamSource,
    Throttled,
)
from labkit.esm.responses import BatchItemFailure, StreamsEventResponse

__all__ = [
    "BatchItemFailure",
    "CheckpointStore",
    "DestinationSender",
    "Engine",
    "EsmApiError",
    "IdleTimeout",
    "InvokeOutcome",
    "Invoker",
    "JsonFileCheckpointStore",
    "MappingConfig",
    "MemoryCheckpointStore",
    "ShardInfo",
    "SourceRecord",
    "StreamSource",
    "StreamsEventResponse",
    "Throttled",
]
