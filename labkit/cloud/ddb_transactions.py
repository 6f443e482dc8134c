"""TransactWriteItems that rolls back item by item, replacing moto's whole-table copies.

moto deep-copies every table a transaction touches, keeps each copy alive, and on rollback swaps
the table object, which leaves open stream iterators pointing at a shard that no longer exists.
Here a transaction saves only the items it is about to change and the length of each stream,
and puts exactly those back if any action fails.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)

from .ddb_streams import one_record_per_call

ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


class _Undo:
    """What to put back if the transaction is cancelled."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Any, Any, Any]] = []
        self.streams: dict[int, tuple[Any, int]] = {}

    def remember(self, table: Any, hash_key: Any, range_key: Any) -> None:
        self.items.append(
            (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
        )
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.streams:
            self.streams[id(shard)] = (shard, len(shard.items))

    def apply(self) -> None:
        for table, hash_key, range_key, saved in reversed(self.items):
            if range_key is not None:
                if saved is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = saved
            elif saved is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = saved
        for shard, length in self.streams.values():
            shard.truncate(length)


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """Apply all actions or none, with AWS's cancellation reasons."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    parsed: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) != 1:
            raise TransactWriteSingleOpException()
        op_type, op = next(iter(entry.items()))
        if op_type not in ACTIONS:
            raise MockValidationException(f"Unsupported transaction action: {op_type}")
        key = _key_of(backend, op_type, op)
        identity = (str(op["TableName"]), str(sorted(key.items())))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        parsed.append((op_type, op, key))

    undo = _Undo()
    reasons: list[tuple[str | None, str | None, Any]] = []
    for op_type, op, key in parsed:
        table_name = op["TableName"]
        names = op.get("ExpressionAttributeNames")
        values = op.get("ExpressionAttributeValues")
        condition = op.get("ConditionExpression")
        wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        try:
            table = backend.get_table(table_name)
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
            if condition is not None and not get_filter_expression(condition, names, values).expr(
                current
            ):
                old = current.to_json()["Attributes"] if (wants_old and current) else None
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
                continue
            undo.remember(table, hash_key, range_key)
            with one_record_per_call():
                if op_type == "Put":
                    backend.put_item(table_name, op["Item"])
                elif op_type == "Delete":
                    backend.delete_item(table_name, key)
                elif op_type == "Update":
                    backend.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
            reasons.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.apply()
            raise
        except ConditionalCheckFailed as failure:
            reasons.append(("ConditionalCheckFailed", str(failure.message), None))
        except Exception as failure:
            reasons.append((type(failure).__name__, str(failure), None))
    if any(code is not None for code, _, _ in reasons):
        undo.apply()
        raise TransactionCanceledException(reasons)
