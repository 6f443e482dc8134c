"""What exists now, as plain data, read through the :class:`StateReader` protocol.

The planner reads only through this protocol, so unit tests give it an in-memory reader and
the executor stays the only place that changes anything. :class:`Boto3StateReader` reads a
real account (or the local cloud) with boto3.
"""

from __future__ import annotations

from .model import (
    BucketState,
    FunctionState,
    IndexState,
    KinesisStreamState,
    LogGroupState,
    MappingState,
    NotificationState,
    ObjectVersion,
    PermissionState,
    PolicyState,
    QueueState,
    RoleState,
    StateReader,
    SubscriptionState,
    TableState,
    TopicState,
    normalise_policy,
)
from .reader import NOT_FOUND, Boto3StateReader

__all__ = [
    "NOT_FOUND",
    "Boto3StateReader",
    "BucketState",
    "FunctionState",
    "IndexState",
    "KinesisStreamState",
    "LogGroupState",
    "MappingState",
    "NotificationState",
    "ObjectVersion",
    "PermissionState",
    "PolicyState",
    "QueueState",
    "RoleState",
    "StateReader",
    "SubscriptionState",
    "TableState",
    "TopicState",
    "normalise_policy",
]
