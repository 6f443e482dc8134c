"""DynamoDB Streams as AWS writes them, replacing moto's stream shard.

moto's shard differs from AWS in ways a streams workshop cannot live with. This shard:
- emits one record per change: an upsert through ``update_item`` is one INSERT, not two;
- emits nothing for a write that changes nothing;
- keeps working (silently) after the stream is disabled, instead of failing every write;
- stamps records with the table's region;
- never hands records to moto's own Lambda delivery, which would clear the shard;
- drops records older than the 24-hour retention, so memory stays bounded;
- keeps each record as compact JSON, a fraction of the memory of moto's nested dicts, and
  compresses it against the shard's first record (records of one table share most of their
  text), so that the 24 hours of records a busy table keeps take a fifth of that again;
- tells a listener (the event source mapping engine) the moment a record is written.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodb.models.utilities import dynamo_json_dump

RETENTION_SECONDS = 24 * 60 * 60

#: Called with a stream ARN each time a record is appended. Set by the cloud server.
record_listener: Callable[[str], None] | None = None

_collapsing = threading.local()


@contextlib.contextmanager
def one_record_per_call() -> Iterator[None]:
    """Within the block, all changes to one item yield one stream record (first old, last new).

    moto's ``update_item`` on a missing item first puts a key-only item and then updates it,
    which would otherwise produce two INSERT records.
    """
    if getattr(_collapsing, "pending", None) is not None:
        yield
        return
    _collapsing.pending = {}
    try:
        yield
        pending: dict[tuple[int, Any], list[Any]] = _collapsing.pending
    finally:
        _collapsing.pending = None
    for (_, _key), (shard, old, new) in pending.items():
        shard.append_change(old, new)


#: zlib settings for stream records: a 2 KB window (room for the preset dictionary and a
#: record), little memory for the compressor, raw deflate (no header or checksum per record).
_WINDOW_BITS = -11
_WINDOW = 2**11
_MEMORY_LEVEL = 2
_LEVEL = 6


class RecordPacker:
    """Compresses one shard's records against a preset dictionary, the shard's first record.

    Records of one table differ in their values but share their envelope, attribute names and
    much of their shape, so a record compresses to about a fifth of its JSON. Each record is
    compressed on its own: any record can be read without the others.
    """

    __slots__ = ("zdict",)

    def __init__(self, zdict: bytes) -> None:
        self.zdict = zdict[-_WINDOW:]

    def __getstate__(self) -> bytes:
        return self.zdict

    def __setstate__(self, state: bytes) -> None:
        self.zdict = state

    def pack(self, data: bytes) -> bytes:
        compressor = zlib.compressobj(
            _LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEMORY_LEVEL, zlib.Z_DEFAULT_STRATEGY, self.zdict
        )
        return compressor.compress(data) + compressor.flush()

    def unpack(self, packed: bytes) -> bytes:
        decompressor = zlib.decompressobj(_WINDOW_BITS, self.zdict)
        return decompressor.decompress(packed) + decompressor.flush()


class StoredRecord:
    """One stream record, kept as the JSON that readers receive anyway (compressed when the
    shard gives a packer)."""

    __slots__ = ("created", "packed", "packer")

    def __init__(self, record: dict[str, Any], packer: RecordPacker | None = None) -> None:
        self.created = float(record["dynamodb"]["ApproximateCreationDateTime"])
        encoded = dynamo_json_dump(record).encode()
        self.packer = packer
        self.packed = encoded if packer is None else packer.pack(encoded)

    @property
    def encoded(self) -> bytes:
        """The record's JSON."""
        return self.packed if self.packer is None else self.packer.unpack(self.packed)

    def __getstate__(self) -> tuple[float, bytes, RecordPacker | None]:
        return (self.created, self.packed, self.packer)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            # Written before records were compressed: (None, {"created": …, "encoded": …}).
            slots = state[1]
            self.created, self.packed, self.packer = slots["created"], slots["encoded"], None
            return
        self.created, self.packed, self.packer = state

    def to_json(self) -> dict[str, Any]:
        """The record as a new dict (callers may change it freely)."""
        decoded: dict[str, Any] = json.loads(self.encoded)
        return decoded


def _item_key(item: Any) -> Any:
    return (item.hash_key, item.range_key)


class LabkitStreamShard(StreamShard):  # type: ignore[misc]
    """One shard per stream, with AWS's record semantics (see the module docstring)."""

    def __init__(self, account_id: str, table: Any) -> None:
        super().__init__(account_id, table)
        created_ms = int(time.time() * 1000)
        self.id = f"shardId-{created_ms:020d}-{abs(hash((table.name, created_ms))) % 16**8:08x}"
        self.view_type: str = table.stream_specification["StreamViewType"]
        self.trimmed = 0
        self.packer: RecordPacker | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Snapshots written before records were stored compactly hold moto's records.
        state["items"] = [
            item if isinstance(item, StoredRecord) else StoredRecord(item.record)
            for item in state.get("items", [])
        ]
        state.setdefault("packer", None)
        self.__dict__.update(state)

    # The first sequence number still held moves forward as old records are trimmed, so that
    # TRIM_HORIZON and LATEST iterators (computed by moto from this and len(items)) stay right.
    @property  # type: ignore[override]
    def starting_sequence_number(self) -> int:
        return int(self.__dict__.get("_base", 0)) + int(self.__dict__.get("trimmed", 0))

    @starting_sequence_number.setter
    def starting_sequence_number(self, value: int) -> None:
        self.__dict__["_base"] = value

    @property
    def stream_arn(self) -> str:
        return f"{self.table.table_arn}/stream/{self.table.latest_stream_label}"

    @property
    def enabled(self) -> bool:
        spec = self.table.stream_specification or {}
        return bool(spec.get("StreamEnabled")) and self.table.stream_shard is self

    def next_sequence_number(self) -> int:
        return self.starting_sequence_number + len(self.items)

    def add(self, old: Any, new: Any) -> None:
        pending = getattr(_collapsing, "pending", None)
        if pending is None:
            self.append_change(old, new)
            return
        key = (id(self), _item_key(old if old is not None else new))
        if key in pending:
            pending[key][2] = new
        else:
            pending[key] = [self, old, new]

    def append_change(self, old: Any, new: Any) -> None:
        """Append the stream record for one item change, as AWS would write it."""
        if not self.enabled:
            return
        if old is not None and new is not None and old.to_json() == new.to_json():
            return
        event_name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
        record = StreamRecord(
            self.table, self.view_type, event_name, old, new, self.next_sequence_number()
        )
        record.record["awsRegion"] = self.table.region_name
        record.record["dynamodb"]["ApproximateCreationDateTime"] = time.time()
        self.items.append(StoredRecord(record.record, self._packer(record.record)))
        self._trim()
        if record_listener is not None:
            record_listener(self.stream_arn)

    def backdate(self, seconds: float) -> int:
        """Make every record held ``seconds`` older (ApproximateCreationDateTime); returns how
        many records changed. A test and workshop aid for MaximumRecordAgeInSeconds, which has
        a 60 s minimum: old records without waiting a minute."""
        for index, stored in enumerate(self.items):
            record = stored.to_json()
            change = record["dynamodb"]
            change["ApproximateCreationDateTime"] = float(
                change["ApproximateCreationDateTime"]
            ) - float(seconds)
            self.items[index] = StoredRecord(record, stored.packer)
        return len(self.items)

    def _packer(self, first: dict[str, Any]) -> RecordPacker:
        """The shard's packer, made from ``first`` (the record about to be stored) if the
        shard has none yet."""
        if self.packer is None:
            self.packer = RecordPacker(dynamo_json_dump(first).encode())
        return self.packer

    def truncate(self, length: int) -> None:
        """Forget records appended after ``length`` (a cancelled transaction)."""
        del self.items[length:]

    def _trim(self) -> None:
        horizon = time.time() - RETENTION_SECONDS
        drop = 0
        for record in self.items:
            if record.created >= horizon:
                break
            drop += 1
        if drop:
            del self.items[:drop]
            self.trimmed += drop

    def get(self, start: int, quantity: int) -> list[dict[str, Any]]:
        offset = max(start - self.starting_sequence_number, 0)
        return [record.to_json() for record in self.items[offset : offset + quantity]]

    def records_after(self, sequence_number: int | None, limit: int) -> list[Any]:
        """Stream records strictly after ``sequence_number`` (all retained ones for ``None``)."""
        offset = (
            0 if sequence_number is None else sequence_number + 1 - self.starting_sequence_number
        )
        offset = max(offset, 0)
        found: list[Any] = self.items[offset : offset + limit]
        return found
