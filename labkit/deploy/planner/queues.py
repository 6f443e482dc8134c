"""SQS queues: created with their attributes (and resource policy), updated, deleted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..plan import Call
from ..resources import Queue
from ..state import QueueState, normalise_policy
from .context import Context, missing_tags, unique
from .waits import QUEUE_NAME_RESTING

QUEUE_GONE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def read(ctx: Context) -> dict[str, QueueState | None]:
    every = unique(ctx.desired.queues, ctx.owned.queues)
    return {q.name: ctx.reader.queue(q.name) for q in every}


def _attributes(ctx: Context, queue: Queue) -> dict[str, str]:
    """The attributes the lab manages (AWS keeps its defaults for the others)."""
    attributes: dict[str, str] = {}
    if queue.visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(queue.visibility_timeout)
    if queue.message_retention is not None:
        attributes["MessageRetentionPeriod"] = str(queue.message_retention)
    if queue.policy is not None:
        attributes["Policy"] = json.dumps(queue.policy.to_dict(ctx.env))
    return attributes


def _same(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key == "Policy":
        return normalise_policy(current) == normalise_policy(wanted)
    return current == wanted


def remove(ctx: Context, queues: Mapping[str, QueueState | None]) -> None:
    wanted = {q.name for q in ctx.desired.queues}
    for queue in ctx.owned.queues:
        state = queues.get(queue.name)
        if queue.name in wanted or state is None:
            continue
        ctx.add(
            Call(
                "sqs",
                "delete_queue",
                {"QueueUrl": state.url},
                f"Delete queue {queue.name} and its messages",
                queue.label,
                tolerate=QUEUE_GONE,
                change="remove",
            )
        )


def ensure(ctx: Context, queues: Mapping[str, QueueState | None]) -> None:
    for queue in ctx.desired.queues:
        state = queues.get(queue.name)
        attributes = _attributes(ctx, queue)
        if state is None:
            params: dict[str, Any] = {"QueueName": queue.name}
            if attributes:
                params["Attributes"] = attributes
            if queue.tags:
                params["tags"] = dict(queue.tags)
            policy = " with its access policy" if queue.policy is not None else ""
            ctx.add(
                Call(
                    "sqs",
                    "create_queue",
                    params,
                    f"Create queue {queue.name}{policy}",
                    queue.label,
                    retry=QUEUE_NAME_RESTING,
                    change="create",
                )
            )
            continue
        differing = {
            key: value
            for key, value in attributes.items()
            if not _same(key, state.attributes.get(key), value)
        }
        if differing:
            ctx.add(
                Call(
                    "sqs",
                    "set_queue_attributes",
                    {"QueueUrl": state.url, "Attributes": differing},
                    f"Set {', '.join(sorted(differing))} of queue {queue.name}",
                    queue.label,
                    change="update",
                )
            )
        missing = missing_tags(queue.tags, state.tags)
        if missing:
            ctx.add(
                Call(
                    "sqs",
                    "tag_queue",
                    {"QueueUrl": state.url, "Tags": dict(missing)},
                    f"Tag queue {queue.name}",
                    queue.label,
                    change="update",
                )
            )
