"""moto's DynamoDB attribute values kept in slots: the same class, without a dict per value.

Every attribute of every stored item is a ``DynamoType`` (a map's members are too): a trade in
StateTable holds ten of them. As a plain object each costs about 89 bytes; with ``__slots__`` for
its two fields, ``type`` and ``value``, about 48, which is some 40 MB per 100,000 trades. The
class keeps moto's methods unchanged; only where its two fields live differs. Every moto module
that imported the class is pointed at the slotted one before the cloud makes its first value.
``tests/unit/cloud/test_moto_speedups.py`` compares every answer with and without it.

Values pickled by an earlier labkit (a saved cloud) carry a dict of fields; they load as well.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_Restore = Callable[[], None]


def set_fields(value: Any, state: Any) -> None:
    """Unpickle an object of a slotted copy: a dict of fields (a plain object's, pickled before
    the copy) or ``(None, slots)``."""
    if isinstance(state, tuple):
        state = {**(state[0] or {}), **state[1]}
    for name, field in state.items():
        object.__setattr__(value, name, field)


def slotted(cls: type) -> type:
    """A copy of ``cls`` whose instances keep ``type`` and ``value`` in slots."""
    namespace = {
        name: member
        for name, member in vars(cls).items()
        # (__slotnames__: pickle's cache of the plain class's slots, none)
        if name not in ("__dict__", "__weakref__", "__slotnames__")
    }
    namespace["__slots__"] = ("type", "value")
    namespace["__setstate__"] = set_fields
    copy = type(cls.__name__, cls.__bases__, namespace)
    copy.__qualname__ = cls.__qualname__
    return copy


def install() -> _Restore:
    """Point every loaded moto module (and labkit's) at the slotted class; returns the undo."""
    from moto.dynamodb.models import dynamo_type

    original = dynamo_type.DynamoType
    if "__slots__" in vars(original):  # installed already
        return lambda: None
    replacement = slotted(original)
    changed = []
    for name, module in list(sys.modules.items()):
        if name.startswith(("moto.", "labkit.")) and vars(module).get("DynamoType") is original:
            module.DynamoType = replacement  # type: ignore[attr-defined]
            changed.append(module)

    def restore() -> None:
        for module in changed:
            module.DynamoType = original  # type: ignore[attr-defined]

    return restore


@contextmanager
def installed() -> Iterator[None]:
    """The slotted class for the duration of a block (for tests that compare with and without)."""
    restore = install()
    try:
        yield
    finally:
        restore()
