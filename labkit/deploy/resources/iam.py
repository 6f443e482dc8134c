"""IAM resources: customer managed policies and roles."""

from __future__ import annotations

from dataclasses import dataclass

from .base import LAMBDA_SERVICE, Tags
from .policy import PolicyDocument


@dataclass(frozen=True)
class ManagedPolicy:
    """A customer managed policy (its own resource, attachable to roles)."""

    name: str
    document: PolicyDocument
    description: str = ""
    tags: Tags = ()

    @property
    def label(self) -> str:
        return f"IAM policy {self.name}"


@dataclass(frozen=True)
class InlinePolicy:
    """A policy embedded in one role (``put_role_policy``)."""

    name: str
    document: PolicyDocument


@dataclass(frozen=True)
class Role:
    """An execution role trusted by ``service``.

    ``policies`` are the lab's managed policies by name; ``managed_arns`` are other managed
    policies by ARN template (AWS managed ones, see
    :func:`~labkit.deploy.resources.aws_managed_policy_arn_template`); ``inline`` are
    policies embedded in the role.
    """

    name: str
    policies: tuple[str, ...]
    service: str = LAMBDA_SERVICE
    description: str = ""
    tags: Tags = ()
    inline: tuple[InlinePolicy, ...] = ()
    managed_arns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"IAM role {self.name}"
