"""What every part of the template shares: logical ids, tags, ``Fn::Sub`` and references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..resources import PolicyDocument, Stack, Tags, Target


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id (letters and digits only) from name parts."""
    text = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", "-".join(parts)))
    return text or "Resource"


def tags(pairs: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def sub(value: str) -> Any:
    """A string with ``${AWS::…}`` templates as ``Fn::Sub``, any other string as it is."""
    return {"Fn::Sub": value} if "${" in value else value


def sub_all(value: Any) -> Any:
    """Every string inside ``value`` through :func:`sub`."""
    if isinstance(value, str):
        return sub(value)
    if isinstance(value, Mapping):
        return {k: sub_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sub_all(v) for v in value]
    return value


def policy_document(document: PolicyDocument) -> dict[str, Any]:
    result: dict[str, Any] = sub_all(document.to_dict())
    return result


class Ids:
    """The logical id of each resource of a stack, by kind and name."""

    def __init__(self, stack: Stack) -> None:
        self._ids: dict[str, str] = {}
        for s in stack.streams:
            self._ids[f"stream:{s.name}"] = logical_id(s.name)
        for t in stack.tables:
            self._ids[f"table:{t.name}"] = logical_id(t.name)
        for p in stack.policies:
            self._ids[f"policy:{p.name}"] = logical_id(p.name)
        for r in stack.roles:
            self._ids[f"role:{r.name}"] = logical_id(r.name)
        for g in stack.log_groups:
            self._ids[f"log:{g.name}"] = logical_id(g.name.rsplit("/", 1)[-1], "LogGroup")
        for f in stack.functions:
            self._ids[f"function:{f.name}"] = logical_id(f.name, "Function")
        for q in stack.queues:
            self._ids[f"sqs:{q.name}"] = logical_id(q.name, "Queue")
        for topic in stack.topics:
            self._ids[f"sns:{topic.name}"] = logical_id(topic.name, "Topic")
        for b in stack.buckets:
            self._ids[f"bucket:{b.name}"] = logical_id(b.name, "Bucket")

    def __getitem__(self, key: str) -> str:
        return self._ids[key]

    def get(self, key: str) -> str | None:
        return self._ids.get(key)

    def function_ref(self, name: str) -> Any:
        """A function's name: a ``Ref`` when the stack has it, else the name itself."""
        found = self.get(f"function:{name}")
        return {"Ref": found} if found else name

    def target_arn(self, target: Target) -> Any:
        """A target's ARN: from the stack's resource when it has it, else an ``Fn::Sub``."""
        key = (
            f"function:{target.name}" if target.kind == "lambda" else f"{target.kind}:{target.name}"
        )
        found = self.get(key)
        if found is None:
            return sub(target.arn_template())
        if target.kind == "sns":
            return {"Ref": found}
        return {"Fn::GetAtt": [found, "Arn"]}
