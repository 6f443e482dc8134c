"""Allow or deny, decided the way AWS decides for identity-based policies.

1. If any statement with ``"Effect": "Deny"`` applies to the request, the answer is an
   explicit deny, whatever else the policies say.
2. Otherwise, if any ``"Allow"`` statement applies, the request is allowed.
3. Otherwise it is denied by default (an implicit deny).

A statement applies when its Action (or NotAction), its Resource (or NotResource) and all its
conditions match the request. Policies are compiled once and cached by their text, so the
local cloud can call :meth:`PolicySet.is_allowed` on every request.
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from labkit.iam.conditions import ConditionPredicate, compile_condition
from labkit.iam.document import Policy, Statement, parse_policy
from labkit.iam.matching import Matcher, arn_matcher, compile_alternatives
from labkit.iam.variables import NormalContext, has_variables, normalise_context, substitute

__all__ = [
    "Decision",
    "Evaluation",
    "PolicyDoc",
    "PolicyInput",
    "PolicySet",
    "StatementRef",
    "compile_policies",
    "evaluate",
    "is_allowed",
    "to_policies",
]


class Decision(enum.Enum):
    """The outcome of evaluating a request against a set of policies."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement of which policy decided: the policy's name plus the Sid or position."""

    policy: str
    index: int
    sid: str | None
    effect: str

    def __str__(self) -> str:
        where = f'"{self.sid}"' if self.sid else f"statement {self.index + 1}"
        return f"{self.policy} {where}"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The answer to one request, and the statement that decided it (None for a default deny)."""

    action: str
    resource: str
    decision: Decision
    decided_by: StatementRef | None = None

    @property
    def allowed(self) -> bool:
        """True only for :attr:`Decision.ALLOW`."""
        return self.decision is Decision.ALLOW

    def __str__(self) -> str:
        request = f"{self.action} on {self.resource}"
        if self.decision is Decision.ALLOW:
            return f"✓ {request} is allowed by {self.decided_by}."
        if self.decision is Decision.EXPLICIT_DENY:
            return f"✗ {request} is denied by the Deny statement {self.decided_by}."
        return f"✗ {request} is not allowed: no statement allows it."


ResourceTest = Callable[[str, NormalContext], bool]


def _resource_test(patterns: tuple[str, ...], variables: bool) -> ResourceTest:
    static = [p for p in patterns if not (variables and has_variables(p))]
    dynamic = [p for p in patterns if variables and has_variables(p)]
    matchers: list[Matcher] = [arn_matcher(p) for p in static]

    def test(resource: str, ctx: NormalContext) -> bool:
        for m in matchers:
            if m(resource):
                return True
        for pattern in dynamic:
            filled = substitute(pattern, ctx, literal_wildcards=True)
            if filled is not None and arn_matcher(filled)(resource):
                return True
        return False

    return test


def _never(*_: object) -> bool:
    return False


def _always(*_: object) -> bool:
    return True


class _Compiled:
    """A statement turned into fast tests."""

    __slots__ = (
        "action",
        "action_negated",
        "condition",
        "dead",
        "deny",
        "ref",
        "res_neg",
        "resource",
    )

    def __init__(self, stmt: Statement, policy: Policy) -> None:
        self.ref = StatementRef(policy.name, stmt.index, stmt.sid, stmt.effect or "")
        self.deny = stmt.effect == "Deny"
        self.action_negated = stmt.actions is None and stmt.not_actions is not None
        actions = stmt.actions if stmt.actions is not None else stmt.not_actions
        self.action: Matcher = compile_alternatives(actions) if actions else _never
        self.res_neg = stmt.resources is None and stmt.not_resources is not None
        patterns = stmt.resources if stmt.resources is not None else stmt.not_resources
        # AWS rejects these statements, so they must never apply (an empty NotAction would
        # otherwise read as "every action").
        self.dead = (
            not actions
            or (patterns is not None and not patterns)
            or (stmt.actions is not None and stmt.not_actions is not None)
            or (stmt.resources is not None and stmt.not_resources is not None)
        )
        self.resource: ResourceTest
        if patterns is None:
            self.resource = _always if policy.kind == "resource" else _never
        else:
            self.resource = _resource_test(patterns, policy.uses_variables)
        self.condition: ConditionPredicate | None = None
        if stmt.conditions:
            self.condition = compile_condition(
                [(c.operator, c.key, c.values) for c in stmt.conditions],
                variables=policy.uses_variables,
            )

    def applies(self, action: str, resource: str, ctx: NormalContext) -> bool:
        if self.action(action) == self.action_negated:
            return False
        if self.resource(resource, ctx) == self.res_neg:
            return False
        return self.condition is None or self.condition(ctx)


class PolicySet:
    """Policies compiled for fast, repeated evaluation."""

    __slots__ = ("_allows", "_denies", "policies")

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies: tuple[Policy, ...] = tuple(policies)
        compiled = [c for p in self.policies for c in _compile(p)]
        self._denies = tuple(c for c in compiled if c.deny)
        self._allows = tuple(c for c in compiled if c.ref.effect == "Allow")

    def evaluate(
        self, action: str, resource: str, context: Mapping[str, object] | None = None
    ) -> Evaluation:
        """Decide whether ``action`` on ``resource`` is allowed, and say which statement decided."""
        ctx = normalise_context(context)
        for stmt in self._denies:
            if stmt.applies(action, resource, ctx):
                return Evaluation(action, resource, Decision.EXPLICIT_DENY, stmt.ref)
        for stmt in self._allows:
            if stmt.applies(action, resource, ctx):
                return Evaluation(action, resource, Decision.ALLOW, stmt.ref)
        return Evaluation(action, resource, Decision.IMPLICIT_DENY, None)

    def is_allowed(
        self, action: str, resource: str, context: Mapping[str, object] | None = None
    ) -> bool:
        """True if the policies allow ``action`` on ``resource``."""
        ctx = normalise_context(context)
        if any(s.applies(action, resource, ctx) for s in self._denies):
            return False
        return any(s.applies(action, resource, ctx) for s in self._allows)

    def statements_matching(
        self, action: str, resource: str, context: Mapping[str, object] | None = None
    ) -> tuple[StatementRef, ...]:
        """Every statement that applies to the request, Deny statements first."""
        ctx = normalise_context(context)
        return tuple(
            s.ref for s in (*self._denies, *self._allows) if s.applies(action, resource, ctx)
        )

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.policies)
        return f"PolicySet({names})"


#: One policy: a parsed Policy, its JSON text, or the document as a dict.
PolicyDoc: TypeAlias = "Policy | str | Mapping[str, Any]"
#: What the evaluation functions accept: one policy, a compiled set, a list of policies, or a
#: mapping of policy name to document (the names show up in ``decided_by``).
PolicyInput: TypeAlias = "PolicyDoc | PolicySet | Iterable[PolicyDoc] | Mapping[str, PolicyDoc]"

# ---------------------------------------------------------------------------------------------
# Caches

_LOCK = threading.Lock()
_PARSED: dict[tuple[str, str], Policy] = {}
_COMPILED: dict[tuple[str, str, str], tuple[_Compiled, ...]] = {}
_MAX_CACHE = 512


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    with _LOCK:
        if len(cache) >= _MAX_CACHE:
            cache.pop(next(iter(cache)))
        cache[key] = value


def _compile(policy: Policy) -> tuple[_Compiled, ...]:
    key = (policy.text, policy.name, policy.kind)
    found = _COMPILED.get(key)
    if found is None:
        compiled = (_Compiled(s, policy) for s in policy.statements if s.effect)
        found = tuple(c for c in compiled if not c.dead)
        _remember(_COMPILED, key, found)
    return found


def _policy(doc: Any, name: str) -> Policy:
    if isinstance(doc, Policy):
        return doc
    if isinstance(doc, str):
        text = doc
    elif isinstance(doc, Mapping):
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    else:
        raise TypeError(f"expected a policy (JSON text, dict or Policy), got {type(doc).__name__}")
    key = (text, name)
    found = _PARSED.get(key)
    if found is None:
        found = parse_policy(text, name=name)
        _remember(_PARSED, key, found)
    return found


def _is_document(value: Mapping[str, Any]) -> bool:
    return "Statement" in value or "Version" in value


def to_policies(policies: PolicyInput) -> tuple[Policy, ...]:
    """Turn any accepted policy input into parsed policies (cached by their text)."""
    if isinstance(policies, PolicySet):
        return policies.policies
    if isinstance(policies, Policy | str):
        return (_policy(policies, "policy"),)
    if isinstance(policies, Mapping):
        if _is_document(policies):
            return (_policy(policies, "policy"),)
        return tuple(_policy(doc, str(name)) for name, doc in policies.items())
    items = list(policies)
    return tuple(
        _policy(doc, f"policy {i + 1}" if len(items) > 1 else "policy")
        for i, doc in enumerate(items)
    )


def compile_policies(policies: PolicyInput) -> PolicySet:
    """Compile policies once for many evaluations; parsed and compiled forms are cached."""
    if isinstance(policies, PolicySet):
        return policies
    return PolicySet(to_policies(policies))


def evaluate(
    policies: PolicyInput,
    action: str,
    resource: str,
    context: Mapping[str, object] | None = None,
) -> Evaluation:
    """Does this set of policies allow ``action`` on ``resource``, given ``context``?"""
    return compile_policies(policies).evaluate(action, resource, context)


def is_allowed(
    policies: PolicyInput,
    action: str,
    resource: str,
    context: Mapping[str, object] | None = None,
) -> bool:
    """True if the policies allow ``action`` on ``resource`` given ``context``."""
    return compile_policies(policies).is_allowed(action, resource, context)
