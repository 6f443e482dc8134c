"""DynamoDB tables (keys, global secondary indexes, capacity, stream) and their items."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from .base import Tags

AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


class StreamView(StrEnum):
    """What a DynamoDB stream record carries."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True)
class Throughput:
    """Provisioned capacity: read and write capacity units."""

    read: int
    write: int

    def to_api(self) -> dict[str, int]:
        return {"ReadCapacityUnits": self.read, "WriteCapacityUnits": self.write}

    def __str__(self) -> str:
        return f"{self.read}/{self.write}"


@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index: its key, what it projects, and (on a provisioned table) its
    capacity (the table's when not given)."""

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    capacity: Throughput | None = None

    def key_schema(self) -> list[dict[str, str]]:
        return _key_schema(self.partition_key, self.sort_key)

    def projection_api(self) -> dict[str, object]:
        projection: dict[str, object] = {"ProjectionType": self.projection}
        if self.projection == "INCLUDE":
            projection["NonKeyAttributes"] = list(self.non_key_attributes)
        return projection


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


@dataclass(frozen=True)
class Table:
    """A DynamoDB table.

    Keys are strings unless ``attribute_types`` says otherwise (``(("Date", "N"),)``); the
    table is on-demand unless ``capacity`` is given (then its indexes are provisioned too).
    """

    name: str
    partition_key: str
    stream_view: StreamView | None = None
    tags: Tags = ()
    sort_key: str | None = None
    attribute_types: tuple[tuple[str, AttributeType], ...] = ()
    indexes: tuple[GlobalIndex, ...] = ()
    capacity: Throughput | None = None

    @property
    def label(self) -> str:
        return f"table {self.name}"

    @property
    def billing_mode(self) -> str:
        return "PAY_PER_REQUEST" if self.capacity is None else "PROVISIONED"

    def key_schema(self) -> list[dict[str, str]]:
        return _key_schema(self.partition_key, self.sort_key)

    def attribute_type(self, name: str) -> AttributeType:
        return dict(self.attribute_types).get(name, "S")

    def attribute_definitions(self) -> list[dict[str, str]]:
        """Every key attribute of the table and its indexes, once each."""
        names: list[str] = []
        for key in (
            self.partition_key,
            self.sort_key,
            *(k for i in self.indexes for k in (i.partition_key, i.sort_key)),
        ):
            if key is not None and key not in names:
                names.append(key)
        return [{"AttributeName": n, "AttributeType": self.attribute_type(n)} for n in names]

    def index(self, name: str) -> GlobalIndex | None:
        return next((i for i in self.indexes if i.name == name), None)

    def index_capacity(self, index: GlobalIndex) -> Throughput | None:
        """An index's capacity: its own, else the table's (None when on-demand)."""
        if self.capacity is None:
            return None
        return index.capacity or self.capacity

    def index_definition(self, index: GlobalIndex) -> dict[str, object]:
        """An index as ``create_table``, ``update_table`` and CloudFormation take it."""
        document: dict[str, object] = {
            "IndexName": index.name,
            "KeySchema": index.key_schema(),
            "Projection": index.projection_api(),
        }
        capacity = self.index_capacity(index)
        if capacity is not None:
            document["ProvisionedThroughput"] = capacity.to_api()
        return document

    def summary(self) -> str:
        """``key PK, index GSI_1, 5/5 provisioned``: what a dry run shows."""
        key = self.partition_key + (f" + {self.sort_key}" if self.sort_key else "")
        parts = [f"key {key}"]
        if self.indexes:
            parts.append("index " + ", ".join(i.name for i in self.indexes))
        if self.stream_view is not None:
            parts.append(f"stream {self.stream_view}")
        parts.append("on-demand" if self.capacity is None else f"{self.capacity} provisioned")
        return ", ".join(parts)


@dataclass(frozen=True)
class TableItem:
    """One item the lab needs (a ParameterTable setting): key attribute + plain attributes."""

    table: str
    key_name: str
    key_value: str
    attributes: tuple[tuple[str, int | str], ...]

    @property
    def label(self) -> str:
        return f"{self.table} item {self.key_value}"

    def as_dict(self) -> dict[str, int | str]:
        return {self.key_name: self.key_value, **dict(self.attributes)}
