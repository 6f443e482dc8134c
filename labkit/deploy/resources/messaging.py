"""SQS queues, SNS topics and subscriptions, S3 buckets and their event notifications."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Tags, Target
from .policy import PolicyDocument


@dataclass(frozen=True)
class Queue:
    """A standard SQS queue. Attributes left ``None`` keep AWS's defaults; a ``policy``
    (resource policy) lets S3 or SNS send to it."""

    name: str
    visibility_timeout: int | None = None
    message_retention: int | None = None
    policy: PolicyDocument | None = None
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"queue {self.name}"


@dataclass(frozen=True)
class Topic:
    """An SNS topic; ``policy`` replaces its default access policy (e.g. to let a bucket
    publish)."""

    name: str
    policy: PolicyDocument | None = None
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"topic {self.name}"


@dataclass(frozen=True)
class Subscription:
    """A subscription of a function (protocol ``lambda``) or a queue (``sqs``) to a topic."""

    topic: str
    target: Target

    @property
    def protocol(self) -> str:
        return self.target.kind

    @property
    def key(self) -> tuple[str, Target]:
        return (self.topic, self.target)

    @property
    def label(self) -> str:
        return f"subscription {self.topic} -> {self.target.describe()}"


@dataclass(frozen=True)
class Notification:
    """One S3 event notification: which events (under an optional prefix and suffix) go to
    which topic, queue or function."""

    id: str
    target: Target
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    prefix: str = ""
    suffix: str = ""

    def describe(self) -> str:
        where = ""
        if self.prefix or self.suffix:
            where = f" for keys {self.prefix or ''}*{self.suffix or ''}"
        return f"{', '.join(self.events)}{where} -> {self.target.describe()}"


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket: versioning on or off, and its whole notification configuration."""

    name: str
    versioning: bool = False
    notifications: tuple[Notification, ...] = ()
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"bucket {self.name}"
