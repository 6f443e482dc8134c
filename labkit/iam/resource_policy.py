"""May an AWS service use a resource? A resource-based policy, judged for a service principal.

S3 publishes to a topic only if the topic's policy allows ``s3.amazonaws.com`` to call
``SNS:Publish`` for that bucket; SNS and S3 invoke a function only if the function's policy
(what ``lambda add-permission`` writes) allows ``lambda:InvokeFunction``.

A statement applies to the service when its ``Principal`` is ``"*"``, ``{"AWS": "*"}`` or names
the service under ``"Service"`` (a ``NotPrincipal`` that does not name it also applies). The
request context carries only what the calling service sets: ``aws:SourceArn`` and
``aws:SourceAccount``. That is why a topic's default policy, which allows everyone on the
condition ``AWS:SourceOwner``, does not let S3 publish, as on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.iam.document import parse_policy
from labkit.iam.evaluate import evaluate

__all__ = ["S3_SERVICE", "SNS_SERVICE", "ServiceCall", "allows"]

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
