"""May an AWS service use this resource? Resource-based policies, judged for a service principal.

S3 publishes to a topic only if the topic's policy allows ``s3.amazonaws.com`` to call
``SNS:Publish`` for that bucket; SNS and S3 invoke a function only if the function's policy
(what ``lambda add-permission`` writes) allows ``lambda:InvokeFunction``. This module reads
the policies moto keeps and answers with :mod:`labkit.iam`'s evaluation logic.

A statement applies to the service when its ``Principal`` is ``"*"``, ``{"AWS": "*"}`` or names
the service under ``"Service"`` (a ``NotPrincipal`` that does not name it also applies). The
request context carries only what the calling service sets: ``aws:SourceArn`` and
``aws:SourceAccount``. That is why a topic's default policy, which allows everyone on the
condition ``AWS:SourceOwner``, does not let S3 publish, as on AWS.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.iam import evaluate, parse_policy

log = logging.getLogger("labkit.cloud.resource_policies")

S3_SERVICE = "s3.amazonaws.com"
SNS_SERVICE = "sns.amazonaws.com"


@dataclass(frozen=True)
class ServiceCall:
    """A call one AWS service makes on another's resource, on behalf of ``source_arn``."""

    service: str
    action: str
    resource: str
    source_arn: str
    source_account: str

    @property
    def context(self) -> dict[str, str]:
        return {"aws:SourceArn": self.source_arn, "aws:SourceAccount": self.source_account}


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _listed(principal.get("AWS")):
        return True
    return service in _listed(principal.get("Service"))


def _statement_applies_to(statement: Mapping[str, Any], service: str) -> bool:
    if "Principal" in statement:
        return _names_service(statement["Principal"], service)
    if "NotPrincipal" in statement:
        return not _names_service(statement["NotPrincipal"], service)
    return False


def _without_principal(statement: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k not in {"Principal", "NotPrincipal"}}


def allows(policy: Mapping[str, Any] | str | None, call: ServiceCall) -> bool:
    """True if ``policy`` (a resource policy document) allows ``call``."""
    if policy is None:
        return False
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, Mapping):
        return False
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    kept = [
        _without_principal(s)
        for s in statements
        if isinstance(s, Mapping) and _statement_applies_to(s, call.service)
    ]
    if not kept:
        return False
    document = {"Version": policy.get("Version", "2012-10-17"), "Statement": kept}
    parsed = parse_policy(document, name="resource policy", kind="resource")
    return evaluate(parsed, call.action, call.resource, call.context).allowed


# ----- the policies moto keeps (the caller holds the moto lock) ------------------------------
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
        resources = _listed(statement.get("Resource"))
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
