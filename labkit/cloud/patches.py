"""The changes labkit makes to moto, installed once in the cloud process.

Each patch fixes one place where moto differs from AWS in a way the workshop would show, or
where moto would leak memory in a long-lived process. They are small and named after the fix.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import (
    ddb_streams,
    ddb_transactions,
    kinesis_records,
    moto_slots,
    moto_speedups,
    public_layers,
)

_installed = False

#: Called for invocations moto starts itself (SNS subscriptions, S3 notifications):
#: ``hook(function, payload_bytes)``. Set by the cloud server.
moto_invoke_hook: Callable[[Any, bytes], None] | None = None

MAX_OPEN_STREAM_ITERATORS = 10_000


class BoundedDict(OrderedDict[Any, Any]):
    """A dict that forgets its oldest entries beyond ``MAX_OPEN_STREAM_ITERATORS``."""

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > MAX_OPEN_STREAM_ITERATORS:
            self.popitem(last=False)


def install() -> None:
    """Install every patch (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    moto_slots.install()  # first: the patches below change the slotted class
    _stop_tracking_every_model_instance()
    _use_labkit_stream_shards()
    _make_transactions_item_level()
    _bound_stream_iterators()
    _keep_kinesis_sequence_lookups_constant_time()
    kinesis_records.install()
    _make_sqs_queues_picklable()
    _keep_sqs_policy_unless_set()
    _make_lambda_storage_picklable()
    _route_moto_lambda_invocations()
    _share_repeated_strings()
    public_layers.install()
    moto_speedups.install()


def _stop_tracking_every_model_instance() -> None:
    # moto appends every model object ever created to a class-level list (for its test reset),
    # so a long-lived server keeps every item version, stream record and table copy forever.
    from moto.core.common_models import BaseModel

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = __new__  # type: ignore[method-assign,assignment]


def _use_labkit_stream_shards() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as table_module
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    table_module.StreamShard = ddb_streams.LabkitStreamShard  # type: ignore[misc]

    original_update_item = DynamoDBBackend.update_item

    @functools.wraps(original_update_item)
    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with ddb_streams.one_record_per_call():
            return original_update_item(self, *args, **kwargs)

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]

    from moto.dynamodb.exceptions import StreamAlreadyEnabledException

    def update_table_streams(self: Any, table: Any, specification: dict[str, Any]) -> None:
        # AWS refuses only while a stream is enabled; re-enabling makes a new stream label.
        enabling = specification.get("StreamEnabled") or specification.get("StreamViewType")
        if enabling and (table.stream_specification or {}).get("StreamEnabled"):
            raise StreamAlreadyEnabledException()
        table.set_stream_specification(specification)

    DynamoDBBackend.update_table_streams = update_table_streams  # type: ignore[method-assign]

    original_describe = DynamoDBStreamsBackend.describe_stream

    @functools.wraps(original_describe)
    def describe_stream(self: Any, arn: str) -> dict[str, Any]:
        table = self._get_table_from_arn(arn)
        shard = table.stream_shard
        spec = table.stream_specification or {}
        if shard is None or spec.get("StreamViewType"):
            return original_describe(self, arn)  # type: ignore[no-any-return]
        # A disabled stream: AWS still describes it, with status DISABLED.
        spec_backup = table.stream_specification
        table.stream_specification = {"StreamEnabled": False, "StreamViewType": shard.view_type}
        try:
            described: dict[str, Any] = original_describe(self, arn)
        finally:
            table.stream_specification = spec_backup
        described["StreamStatus"] = "DISABLED"
        return described

    DynamoDBStreamsBackend.describe_stream = describe_stream  # type: ignore[method-assign]

    from moto.awslambda.models import LambdaBackend

    def send_dynamodb_items(self: Any, *args: Any, **kwargs: Any) -> None:
        # Event source mappings belong to labkit's engine; moto's inline delivery stays off.
        return None

    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign,assignment]


def _make_transactions_item_level() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        ddb_transactions.transact_write_items(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _bound_stream_iterators() -> None:
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original_init = DynamoDBStreamsBackend.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        self.shard_iterators = BoundedDict()

    DynamoDBStreamsBackend.__init__ = __init__  # type: ignore[method-assign]


def _keep_kinesis_sequence_lookups_constant_time() -> None:
    from moto.kinesis.models import Shard

    def get_max_sequence_number(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]
    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]


def _make_sqs_queues_picklable() -> None:
    from moto.sqs.models import Queue

    def __getstate__(self: Any) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_messages_lock"}

    def __setstate__(self: Any, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._messages_lock = threading.Condition()

    Queue.__getstate__ = __getstate__  # type: ignore[attr-defined]
    Queue.__setstate__ = __setstate__  # type: ignore[attr-defined]


def _keep_sqs_policy_unless_set() -> None:
    # moto's SetQueueAttributes clears a queue's access policy whenever the request does not
    # name it; AWS changes only the attributes a request names.
    from moto.sqs.models import Queue

    original = Queue._set_attributes

    @functools.wraps(original)
    def _set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "_policy_json", None)
        original(self, attributes, now)
        if kept is not None and "Policy" not in attributes:
            self._policy_json = kept

    Queue._set_attributes = _set_attributes  # type: ignore[method-assign]


def _make_lambda_storage_picklable() -> None:
    # Function and layer indexes use a WeakValueDictionary and a defaultdict of a lambda.
    import weakref
    from collections import defaultdict

    from moto.awslambda.models import LambdaStorage, LayerStorage

    def __getstate__(self: Any) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arns"] = dict(self._arns)
        if "_aliases" in state:
            state["_aliases"] = dict(self._aliases)
        return state

    def __setstate__(self: Any, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._arns = weakref.WeakValueDictionary(state["_arns"])
        if "_aliases" in state:
            self._aliases = defaultdict(dict, state["_aliases"])

    for storage in (LambdaStorage, LayerStorage):
        storage.__getstate__ = __getstate__  # type: ignore[attr-defined]
        storage.__setstate__ = __setstate__  # type: ignore[attr-defined]


def _route_moto_lambda_invocations() -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        payload = body.encode() if isinstance(body, str) else (body or b"{}")
        if moto_invoke_hook is not None:
            moto_invoke_hook(self, payload)
        return b""

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


SHARED_VALUE_LENGTH = 24
MAX_SHARED_VALUES = 65_536


def _share_repeated_strings() -> None:
    # Each item keeps the attribute names decoded from its own request's JSON: 100,000 trades
    # would hold 700,000 copies of the same seven names. Interned, each name is kept once.
    # Short string and number values repeat as well (a trade's region, desk, risk type): the
    # first MAX_SHARED_VALUES distinct ones are kept once too (about 16 MB per 100,000 trades).
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    original_setitem = LimitedSizeDict.__setitem__

    def __setitem__(self: Any, key: Any, value: Any) -> None:
        original_setitem(self, sys.intern(key) if type(key) is str else key, value)

    original_init = DynamoType.__init__
    shared: dict[str, str] = {}

    def __init__(self: Any, type_as_dict: Any) -> None:
        original_init(self, type_as_dict)
        value = self.value
        if type(value) is str:
            if len(value) <= SHARED_VALUE_LENGTH:
                known = shared.get(value)
                if known is not None:
                    self.value = known
                elif len(shared) < MAX_SHARED_VALUES:
                    shared[value] = value
        elif self.type == "M" and type(value) is dict:
            self.value = {sys.intern(k) if type(k) is str else k: v for k, v in value.items()}

    LimitedSizeDict.__setitem__ = __setitem__  # type: ignore[method-assign]
    DynamoType.__init__ = __init__  # type: ignore[method-assign]
