"""The policies of an execution role, read from moto's IAM and compiled by labkit.iam."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from labkit.iam import PolicySet, compile_policies

from .mutex import MOTO_LOCK
from .settings import ACCOUNT_ID


def _document(text: Any) -> str:
    value = str(text)
    # moto may keep a document URL-encoded, as IAM's query API sends it.
    return unquote(value) if value.lstrip().startswith("%7B") else value


def role_documents(role_arn: str) -> dict[str, str] | None:
    """Inline and attached policy documents by name, or None if the role does not exist."""
    from moto.iam.models import iam_backends

    name = role_arn.rsplit("/", 1)[-1]
    with MOTO_LOCK:
        backend = iam_backends[ACCOUNT_ID]["global"]
        role = next((r for r in backend.roles.values() if r.name == name), None)
        if role is None:
            return None
        documents = {policy: _document(doc) for policy, doc in role.policies.items()}
        for managed in role.managed_policies.values():
            default = next((v for v in managed.versions if v.is_default_version), None)
            if default is not None:
                documents[managed.name] = _document(default.document)
    return documents


def role_policy_set(role_arn: str) -> PolicySet:
    """The role's policies compiled (cached by text); an unknown role allows nothing."""
    return compile_policies(role_documents(role_arn) or {})
