"""The resource policies moto keeps, read for :mod:`labkit.iam.resource_policy`.

The caller holds the moto lock.
"""

from __future__ import annotations

import json
from typing import Any

from labkit.iam.resource_policy import S3_SERVICE, SNS_SERVICE, ServiceCall, allows

__all__ = [
    "S3_SERVICE",
    "SNS_SERVICE",
    "ServiceCall",
    "allows",
    "find_function",
    "function_policy",
    "queue_policy",
    "topic_policy",
]


def topic_policy(account: str, topic_arn: str) -> dict[str, Any] | None:
    """The topic's policy, or None when the topic does not exist."""
    from moto.sns.models import sns_backends

    region = topic_arn.split(":")[3]
    topic = sns_backends[account][region].topics.get(topic_arn)
    if topic is None:
        return None
    policy = json.loads(topic.policy) if isinstance(topic.policy, str) else topic.policy
    return policy if isinstance(policy, dict) else None


def queue_policy(account: str, queue_arn: str) -> tuple[bool, dict[str, Any] | None]:
    """(the queue exists, its policy or None)."""
    from moto.sqs.models import sqs_backends

    region, name = queue_arn.split(":")[3], queue_arn.split(":")[5]
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return False, None
    raw = getattr(queue, "policy", None)
    if not raw:
        return True, None
    try:
        return True, json.loads(raw)
    except ValueError:
        return True, None


def function_policy(fn: Any) -> dict[str, Any] | None:
    """A moto function's resource policy, with ``:$LATEST`` taken off its resources."""
    statements = list(getattr(fn.policy, "statements", None) or [])
    if not statements:
        return None
    cleaned = []
    for statement in statements:
        raw = statement.get("Resource")
        resources = [raw] if isinstance(raw, str) else list(raw or [])
        bare = [r[: -len(":$LATEST")] if r.endswith(":$LATEST") else r for r in resources]
        cleaned.append({**statement, "Resource": bare or fn.function_arn})
    return {"Version": "2012-10-17", "Statement": cleaned}


def find_function(account: str, function_arn: str) -> Any | None:
    """moto's function for an ARN (with or without qualifier), or None."""
    from moto.awslambda.models import lambda_backends

    parts = function_arn.split(":")
    if len(parts) < 7:
        return None
    qualifier = parts[7] if len(parts) > 7 else None
    try:
        return lambda_backends[account][parts[3]].get_function(parts[6], qualifier)
    except Exception:
        return None
