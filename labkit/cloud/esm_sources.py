"""Event sources for the mapping engine, read straight from moto's backends under the lock.

No iterator is kept between polls: each read starts from the engine's checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from labkit.esm.ports import ShardInfo, SourceKind, SourceRecord, StartPosition

from .mutex import MOTO_LOCK
from .settings import ACCOUNT_ID


class SourceNotFound(LookupError):
    """The stream ARN names no stream the local cloud has."""


def _region(arn: str) -> str:
    return arn.split(":")[3]


def _as_json(value: Any) -> Any:
    """Kinesis/DynamoDB filter views: decode JSON payloads where they are JSON."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


class DynamoDBStreamSource:
    """A DynamoDB stream (one shard per stream label in the local cloud)."""

    kind: SourceKind = "dynamodb"

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self._shard()  # fail early for a missing stream

    def _table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        try:
            table_name = self.arn.split(":", 5)[5].split("/")[1]
            label = self.arn.split("/stream/", 1)[1]
        except IndexError as bad:
            raise SourceNotFound(self.arn) from bad
        backend = dynamodb_backends[ACCOUNT_ID][_region(self.arn)]
        table = backend.tables.get(table_name)
        if table is None or table.latest_stream_label != label or table.stream_shard is None:
            raise SourceNotFound(self.arn)
        return table

    def _shard(self) -> Any:
        with MOTO_LOCK:
            return self._table().stream_shard

    def shards(self) -> Sequence[ShardInfo]:
        with MOTO_LOCK:
            shard = self._table().stream_shard
            closed = not shard.enabled
            ending = str(shard.next_sequence_number() - 1) if closed else None
            return [ShardInfo(shard.id, None, str(shard.starting_sequence_number), ending)]

    def latest_sequence_number(self, shard_id: str) -> str | None:
        with MOTO_LOCK:
            shard = self._table().stream_shard
            if not shard.items:
                return None
            return str(shard.next_sequence_number() - 1)

    def backdate(self, seconds: float) -> int:
        """Age every record of the stream by ``seconds``; returns how many there are."""
        with MOTO_LOCK:
            count: int = self._table().stream_shard.backdate(seconds)
        return count

    def read(
        self,
        shard_id: str,
        *,
        after: str | None,
        position: StartPosition,
        timestamp: float | None,
        limit: int,
    ) -> Sequence[SourceRecord]:
        with MOTO_LOCK:
            shard = self._table().stream_shard
            if after is None and position == "LATEST":
                return []
            stored = shard.records_after(None if after is None else int(after), limit)
        # Each to_json() is a new dict, decoded outside the lock.
        return [self._record(record.to_json()) for record in stored]

    def _record(self, record: dict[str, Any]) -> SourceRecord:
        record["eventSourceARN"] = self.arn
        change = record["dynamodb"]
        return SourceRecord(
            sequence_number=change["SequenceNumber"],
            approximate_arrival=float(change["ApproximateCreationDateTime"]),
            ordering_key=json.dumps(change["Keys"], sort_keys=True),
            size_bytes=int(change.get("SizeBytes", 0)),
            event=record,
            filter_view=record,
        )


class KinesisStreamSource:
    """A Kinesis data stream with all its shards."""

    kind: SourceKind = "kinesis"
    retention_seconds: float = 24 * 60 * 60

    def __init__(self, arn: str) -> None:
        self.arn = arn
        with MOTO_LOCK:
            self._stream()

    def _stream(self) -> Any:
        from moto.kinesis.models import kinesis_backends

        backend = kinesis_backends[ACCOUNT_ID][_region(self.arn)]
        name = self.arn.split("/", 1)[-1]
        stream = backend.streams.get(name)
        if stream is None:
            raise SourceNotFound(self.arn)
        return stream

    def shards(self) -> Sequence[ShardInfo]:
        with MOTO_LOCK:
            found = []
            for shard in self._stream().shards.values():
                ending = None if shard.is_open else str(shard.get_max_sequence_number())
                found.append(
                    ShardInfo(
                        shard.shard_id, shard.parent, str(shard.get_min_sequence_number()), ending
                    )
                )
            return found

    def latest_sequence_number(self, shard_id: str) -> str | None:
        with MOTO_LOCK:
            shard = self._stream().shards.get(shard_id)
            if shard is None or not shard.records:
                return None
            return str(shard.get_max_sequence_number())

    def read(
        self,
        shard_id: str,
        *,
        after: str | None,
        position: StartPosition,
        timestamp: float | None,
        limit: int,
    ) -> Sequence[SourceRecord]:
        with MOTO_LOCK:
            stream = self._stream()
            shard = stream.shards.get(shard_id)
            if shard is None or (after is None and position == "LATEST"):
                return []
            picked = []
            start = shard.get_min_sequence_number() if after is None else int(after) + 1
            # moto numbers a shard's records 1, 2, 3, ... so a range lookup is exact.
            for sequence in range(start, start + limit):
                record = shard.records.get(sequence)
                if record is None:
                    break
                if (
                    position == "AT_TIMESTAMP"
                    and after is None
                    and timestamp is not None
                    and (record.created_at < timestamp)
                ):
                    continue
                picked.append(
                    (record.partition_key, record.data, record.sequence_number, record.created_at)
                )
            region = stream.region
        return [self._record(shard_id, region, *fields) for fields in picked]

    def _record(
        self,
        shard_id: str,
        region: str,
        partition_key: str,
        data: str,
        sequence: int,
        arrival: float,
    ) -> SourceRecord:
        import base64

        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": partition_key,
                "sequenceNumber": str(sequence),
                "data": data,
                "approximateArrivalTimestamp": arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{sequence}",
            "eventName": "aws:kinesis:record",
            "awsRegion": region,
            "eventSourceARN": self.arn,
        }
        try:
            decoded = _as_json(base64.b64decode(data).decode())
        except (ValueError, UnicodeDecodeError):
            decoded = data
        view = {**event, "data": decoded}
        return SourceRecord(
            sequence_number=str(sequence),
            approximate_arrival=arrival,
            ordering_key=partition_key,
            size_bytes=len(data),
            event=event,
            filter_view=view,
        )


def open_source(arn: str) -> DynamoDBStreamSource | KinesisStreamSource:
    """The source behind an event source ARN; raises SourceNotFound."""
    if ":dynamodb:" in arn and "/stream/" in arn:
        return DynamoDBStreamSource(arn)
    if ":kinesis:" in arn:
        return KinesisStreamSource(arn)
    raise SourceNotFound(arn)
