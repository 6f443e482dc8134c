"""IAM policy documents: identity policies, trust policies and resource policies.

A :class:`Statement` without a principal is an identity policy's statement (a role's); with a
:class:`Principal` and :class:`Condition`\\ s it is a resource policy's (a topic's or a queue's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from .base import Environment


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class Principal:
    """Who a resource policy statement is about: ``Service``, ``AWS`` ids, or ``*``."""

    kind: Literal["Service", "AWS", "*"]
    ids: tuple[str, ...] = ()

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("Service", (name,))

    @classmethod
    def anyone(cls) -> Principal:
        return cls("*")

    def to_value(self, env: Environment | None = None) -> Any:
        if self.kind == "*":
            return "*"
        return {self.kind: _one_or_list([env.fill(i) if env else i for i in self.ids])}


@dataclass(frozen=True)
class Condition:
    """One condition: ``{test: {key: values}}``, e.g. ``ArnEquals aws:SourceArn <arn>``."""

    test: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: Literal["Allow", "Deny"] = "Allow"
    principal: Principal | None = None
    conditions: tuple[Condition, ...] = ()

    def to_dict(self, env: Environment | None = None) -> dict[str, Any]:
        resources = [env.fill(r) if env else r for r in self.resources]
        out: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principal is not None:
            out["Principal"] = self.principal.to_value(env)
        out["Action"] = _one_or_list(list(self.actions))
        out["Resource"] = _one_or_list(resources)
        if self.conditions:
            block: dict[str, dict[str, Any]] = {}
            for c in self.conditions:
                values = [env.fill(v) if env else v for v in c.values]
                block.setdefault(c.test, {})[c.key] = _one_or_list(values)
            out["Condition"] = block
        return out


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]
    policy_id: str = ""

    def to_dict(self, env: Environment | None = None) -> dict[str, Any]:
        """The policy JSON; with ``env``, ARN templates are filled in for that account."""
        document: dict[str, Any] = {"Version": "2012-10-17"}
        if self.policy_id:
            document["Id"] = self.policy_id
        document["Statement"] = [s.to_dict(env) for s in self.statements]
        return document

    def to_json(self, env: Environment | None = None) -> str:
        return json.dumps(self.to_dict(env), indent=2)


def trust_policy(service: str) -> dict[str, Any]:
    """Who may assume a role: here, one AWS service."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
