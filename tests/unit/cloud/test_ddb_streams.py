"""labkit's DynamoDB stream shard keeps its records compressed and hands them out unchanged."""

from __future__ import annotations

import json
import pickle
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_json_dump

from labkit.cloud.ddb_streams import LabkitStreamShard, StoredRecord


class _Table:
    """What the shard reads of a moto table."""

    name = "Trades"
    region_name = "eu-west-1"
    hash_key_attr = "id"
    range_key_attr = None
    table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Trades"
    latest_stream_label = "2026-01-01T00:00:00.000"

    def __init__(self) -> None:
        self.stream_specification = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        self.stream_shard: LabkitStreamShard | None = None


def _item(n: int, version: int = 1) -> Item:
    attrs = {
        "id": {"S": f"trade-{n:06d}"},
        "Value": {"N": f"{n * 7.31:.2f}"},
        "Version": {"N": str(version)},
        "Hierarchy": {
            "M": {
                "RiskType": {"S": "PV" if n % 2 else "Delta"},
                "Region": {"S": ("EMEA", "APAC", "AMER")[n % 3]},
                "TradeDesk": {"S": "FXSpot" if n % 5 else "FXOptions"},
            }
        },
        "Timestamp": {"N": f"{1_780_000_000 + n / 1000:.3f}"},
    }
    return Item(DynamoType(attrs["id"]), None, attrs)


def _shard_with_changes(count: int) -> LabkitStreamShard:
    table = _Table()
    shard = LabkitStreamShard("123456789012", table)
    table.stream_shard = shard
    for n in range(count):
        shard.append_change(None, _item(n))
    shard.append_change(_item(0), _item(0, version=2))
    shard.append_change(_item(1), None)
    return shard


def _json_size(records: list[dict[str, Any]]) -> int:
    return sum(len(dynamo_json_dump(record).encode()) for record in records)


def test_records_read_back_as_written() -> None:
    shard = _shard_with_changes(200)
    records = shard.get(shard.starting_sequence_number, 1000)
    assert len(records) == 202
    assert [r["eventName"] for r in records[:2]] == ["INSERT", "INSERT"]
    assert [r["eventName"] for r in records[-2:]] == ["MODIFY", "REMOVE"]
    first = records[0]["dynamodb"]
    assert first["Keys"] == {"id": {"S": "trade-000000"}}
    assert first["NewImage"] == _item(0).to_json()["Attributes"]
    assert records[-2]["dynamodb"]["OldImage"]["Version"] == {"N": "1"}
    assert records[-2]["dynamodb"]["NewImage"]["Version"] == {"N": "2"}
    assert "NewImage" not in records[-1]["dynamodb"]
    assert records[-1]["dynamodb"]["OldImage"] == _item(1).to_json()["Attributes"]
    assert all(r["awsRegion"] == "eu-west-1" for r in records)
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == list(range(numbers[0], numbers[0] + 202))
    # Each read is a new dict, and every record's JSON is what the reader decodes.
    assert shard.get(shard.starting_sequence_number, 1) == records[:1]
    assert records[0] is not shard.get(shard.starting_sequence_number, 1)[0]
    stored = shard.records_after(None, 1000)
    assert [json.loads(s.encoded) for s in stored] == records


def test_records_are_kept_compressed() -> None:
    shard = _shard_with_changes(200)
    records = shard.get(shard.starting_sequence_number, 1000)
    held = sum(len(stored.packed) for stored in shard.items)
    assert held * 3 < _json_size(records)


def test_shard_survives_a_snapshot() -> None:
    shard = _shard_with_changes(50)
    before = shard.get(shard.starting_sequence_number, 1000)
    restored = pickle.loads(pickle.dumps(shard))
    restored.table.stream_shard = restored
    assert restored.get(restored.starting_sequence_number, 1000) == before
    restored.append_change(None, _item(999))
    assert restored.get(restored.starting_sequence_number, 1000)[:-1] == before
    assert restored.get(restored.starting_sequence_number, 1000)[-1]["dynamodb"]["Keys"] == {
        "id": {"S": "trade-000999"}
    }


def test_records_of_an_older_snapshot_still_read() -> None:
    """Snapshots from before compression hold each record's JSON as it is."""
    record = {"eventName": "INSERT", "dynamodb": {"ApproximateCreationDateTime": 1.5}}
    old = StoredRecord.__new__(StoredRecord)
    old.__setstate__((None, {"created": 1.5, "encoded": json.dumps(record).encode()}))
    assert old.to_json() == record
    assert pickle.loads(pickle.dumps(old)).to_json() == record


def test_backdating_keeps_records_readable() -> None:
    shard = _shard_with_changes(20)
    before = shard.get(shard.starting_sequence_number, 1000)
    assert shard.backdate(120) == 22
    after = shard.get(shard.starting_sequence_number, 1000)
    for old, new in zip(before, after, strict=True):
        assert new["dynamodb"]["ApproximateCreationDateTime"] == (
            old["dynamodb"]["ApproximateCreationDateTime"] - 120
        )
        assert new["dynamodb"]["NewImage" if "NewImage" in new["dynamodb"] else "OldImage"]
    assert sum(len(s.packed) for s in shard.items) * 3 < _json_size(after)
