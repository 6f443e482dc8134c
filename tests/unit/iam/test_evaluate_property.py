"""Property tests: the evaluator agrees with a small, independently written reference.

The reference matches ARNs by recursive backtracking and actions with ``fnmatch``, and decides
with a plain loop over the raw JSON, so it shares no code with ``labkit.iam``.
"""

from __future__ import annotations

import fnmatch
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as s

from labkit.iam import Decision, compile_policies, evaluate
from labkit.iam.matching import action_matcher, arn_matcher

# ---------------------------------------------------------------------------------------------
# The reference


def ref_arn_tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    """Tokens: ("lit", c), ("one", "") or ("star", "cross"|"stay").

    A star may run past colons only if it ends a colon-separated piece and that piece is in the
    resource part (sixth segment on) or is the pattern's last piece.
    """
    pieces = pattern.split(":")
    out: list[tuple[str, str]] = []
    for n, piece in enumerate(pieces):
        if n:
            out.append(("lit", ":"))
        for i, ch in enumerate(piece):
            if ch == "*":
                ends = i == len(piece) - 1
                crossing = ends and (n >= 5 or n == len(pieces) - 1)
                out.append(("star", "cross" if crossing else "stay"))
            elif ch == "?":
                out.append(("one", ""))
            else:
                out.append(("lit", ch))
    return tuple(out)


def ref_arn_match(pattern: str, text: str) -> bool:
    """Backtracking wildcard match with the ARN segment rules."""
    if pattern == "*":
        return True
    tokens = ref_arn_tokens(pattern)

    @cache
    def go(t: int, i: int) -> bool:
        if t == len(tokens):
            return i == len(text)
        kind, arg = tokens[t]
        if kind == "lit":
            return i < len(text) and text[i] == arg and go(t + 1, i + 1)
        if kind == "one":
            return i < len(text) and text[i] != ":" and go(t + 1, i + 1)
        j = i
        while True:
            if go(t + 1, j):
                return True
            if j == len(text) or (arg == "stay" and text[j] == ":"):
                return False
            j += 1

    return go(0, 0)


def ref_action_match(pattern: str, action: str) -> bool:
    """fnmatch on lower-case text, with "[" neutralised so it stays a plain character."""
    safe = pattern.lower().replace("[", "[[]")
    return fnmatch.fnmatchcase(action.lower(), safe)


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def ref_condition(block: dict[str, dict[str, Any]], ctx: dict[str, Any]) -> bool:
    """AND over operators and keys, OR over values, with AWS's missing-key rules."""
    for op, keys in block.items():
        for key, raw in keys.items():
            values = as_list(raw)
            found = as_list(ctx[key]) if key in ctx else []
            present = bool(found)  # an empty multivalued key counts as missing
            if op == "Null":
                want_missing = values[0] == "true"
                if want_missing == present:
                    return False
                continue
            prefix, _, base = op.rpartition(":")
            if_exists = base.endswith("IfExists")
            base = base.removesuffix("IfExists")
            negated = "Not" in base
            like = "Like" in base

            def hit(v: str, values: list[str] = values, like: bool = like) -> bool:
                if like:
                    return any(fnmatch.fnmatchcase(v, p.replace("[", "[[]")) for p in values)
                return v in values

            if not found:
                if if_exists or prefix == "ForAllValues":
                    continue
                if prefix == "ForAnyValue" or not negated:
                    return False
                continue
            if prefix == "ForAllValues":
                ok = all((not hit(v)) if negated else hit(v) for v in found)
            elif prefix == "ForAnyValue":
                ok = any((not hit(v)) if negated else hit(v) for v in found)
            elif negated:
                ok = not any(hit(v) for v in found)
            else:
                ok = any(hit(v) for v in found)
            if not ok:
                return False
    return True


def ref_evaluate(
    docs: list[dict[str, Any]], action: str, resource: str, ctx: dict[str, Any]
) -> str:
    """A naive loop: any matching Deny wins, then any matching Allow, else implicit deny."""
    allowed = False
    for doc in docs:
        for stmt in doc["Statement"]:
            if "Action" in stmt:
                a_ok = any(ref_action_match(p, action) for p in as_list(stmt["Action"]))
            else:
                a_ok = not any(ref_action_match(p, action) for p in as_list(stmt["NotAction"]))
            if "Resource" in stmt:
                r_ok = any(ref_arn_match(p, resource) for p in as_list(stmt["Resource"]))
            else:
                r_ok = not any(ref_arn_match(p, resource) for p in as_list(stmt["NotResource"]))
            c_ok = ref_condition(stmt.get("Condition", {}), ctx)
            if a_ok and r_ok and c_ok:
                if stmt["Effect"] == "Deny":
                    return "deny"
                allowed = True
    return "allow" if allowed else "implicit"


# ---------------------------------------------------------------------------------------------
# Strategies

# Small pools keep generation fast while still mixing wildcards and regex characters.
PIECE = s.sampled_from(
    ["", "a", "b", "ab", "*", "?", "a*", "*b", "a?b", "a.b", "+", "$(", "*.", "?*", "**", "a*b*"]
)
CONCRETE = s.sampled_from(["", "a", "b", "ab", "a.b", "axb", "+", "$(", "aab", "ba", "*", "?"])
SERVICES = s.sampled_from(["dynamodb", "logs", "dyna*", "*"])
NAMES = s.sampled_from(["GetItem", "Get*", "*Item", "G?tItem", "*", "getitem", "Get?", "Put*"])


@s.composite
def action_patterns(draw: s.DrawFn) -> str:
    """An Action entry such as ``dynamodb:Ge*`` or ``*``."""
    if draw(s.booleans()) and draw(s.booleans()):
        return "*"
    return f"{draw(SERVICES)}:{draw(NAMES)}"


@s.composite
def actions(draw: s.DrawFn) -> str:
    """A concrete action name, in any case."""
    service = draw(s.sampled_from(["dynamodb", "logs", "DynamoDB"]))
    name = draw(s.sampled_from(["GetItem", "PutItem", "Get", "GetRecords", "getitem", "Item"]))
    return f"{service}:{name}"


@s.composite
def arn_patterns(draw: s.DrawFn) -> str:
    """A Resource entry: full ARNs, short ARNs ending in ``*``, or ``*``."""
    choice = draw(s.integers(0, 5))
    if choice == 0:
        return "*"
    head = [
        "arn",
        draw(s.sampled_from(["aws", "a*", "*"])),
        draw(s.sampled_from(["dynamodb", "logs"])),
    ]
    if choice == 1:
        return ":".join([*head, draw(PIECE)]) + "*"
    rest = [draw(PIECE), draw(PIECE)]
    tail = ":".join(draw(s.lists(PIECE, min_size=1, max_size=3)))
    return ":".join([*head, *rest, tail])


@s.composite
def arns(draw: s.DrawFn) -> str:
    """A concrete ARN whose resource part may contain colons and regex characters."""
    head = [
        "arn",
        draw(s.sampled_from(["aws", "aws-cn"])),
        draw(s.sampled_from(["dynamodb", "logs"])),
    ]
    rest = [draw(CONCRETE), draw(CONCRETE)]
    tail = ":".join(draw(s.lists(CONCRETE, min_size=1, max_size=3)))
    return ":".join([*head, *rest, tail])


CONDITION_OPS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringNotLike",
    "ForAllValues:StringLike",
    "Null",
]
KEYS = ["k:one", "k:two"]
CONTEXT_VALUES = s.sampled_from(["", "x", "y", "xy", "yx", "xx"])
VALUES = s.sampled_from(["", "x", "y", "xy", "x*", "*", "?", "*y"])


@s.composite
def conditions(draw: s.DrawFn) -> dict[str, dict[str, Any]]:
    """A Condition block of string and Null operators over two keys."""
    block: dict[str, dict[str, Any]] = {}
    for op in draw(s.lists(s.sampled_from(CONDITION_OPS), min_size=1, max_size=2, unique=True)):
        keys = draw(s.lists(s.sampled_from(KEYS), min_size=1, max_size=2, unique=True))
        if op == "Null":
            block[op] = {k: draw(s.sampled_from(["true", "false"])) for k in keys}
        else:
            block[op] = {k: draw(s.lists(VALUES, min_size=1, max_size=2)) for k in keys}
    return block


@s.composite
def contexts(draw: s.DrawFn) -> dict[str, Any]:
    """A request context with each key missing, single-valued or multivalued."""
    ctx: dict[str, Any] = {}
    for key in KEYS:
        shape = draw(s.integers(0, 2))
        if shape == 1:
            ctx[key] = draw(CONTEXT_VALUES)
        elif shape == 2:
            ctx[key] = draw(s.lists(CONTEXT_VALUES, max_size=3))
    return ctx


@s.composite
def statements(draw: s.DrawFn, with_conditions: bool) -> dict[str, Any]:
    """A statement mixing Action/NotAction, Resource/NotResource and maybe a condition."""
    stmt: dict[str, Any] = {"Effect": draw(s.sampled_from(["Allow", "Allow", "Deny"]))}
    action_key = draw(s.sampled_from(["Action", "Action", "NotAction"]))
    stmt[action_key] = draw(s.lists(action_patterns(), min_size=1, max_size=2))
    resource_key = draw(s.sampled_from(["Resource", "Resource", "NotResource"]))
    stmt[resource_key] = draw(s.lists(arn_patterns(), min_size=1, max_size=2))
    if with_conditions and draw(s.booleans()):
        stmt["Condition"] = draw(conditions())
    return stmt


def policies(with_conditions: bool) -> s.SearchStrategy[list[dict[str, Any]]]:
    """One or two policies of one to three statements."""
    doc = s.builds(
        lambda stmts: {"Version": "2012-10-17", "Statement": stmts},
        s.lists(statements(with_conditions), min_size=1, max_size=3),
    )
    return s.lists(doc, min_size=1, max_size=2)


_NAMES = {
    "allow": Decision.ALLOW,
    "deny": Decision.EXPLICIT_DENY,
    "implicit": Decision.IMPLICIT_DENY,
}


# ---------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=600, deadline=None)
@given(pattern=arn_patterns(), arn=arns())
def test_arn_matching_agrees(pattern: str, arn: str) -> None:
    """ARN wildcard matching equals the backtracking reference."""
    assert arn_matcher(pattern)(arn) is ref_arn_match(pattern, arn)


@settings(max_examples=400, deadline=None)
@given(pattern=arn_patterns())
def test_pattern_matches_its_own_text(pattern: str) -> None:
    """A wildcard pattern always matches its own text (each wildcard can stand for itself)."""
    assert arn_matcher(pattern)(pattern)


@settings(max_examples=600, deadline=None)
@given(pattern=action_patterns(), action=actions())
def test_action_matching_agrees(pattern: str, action: str) -> None:
    """Action matching equals fnmatch on lower-case text."""
    assert action_matcher(pattern)(action) is ref_action_match(pattern, action)


@settings(max_examples=250, deadline=None)
@given(docs=policies(with_conditions=False), action=actions(), resource=arns())
def test_decision_agrees_without_conditions(
    docs: list[dict[str, Any]], action: str, resource: str
) -> None:
    """Allow/deny decisions equal the naive reference loop."""
    expected = _NAMES[ref_evaluate(docs, action, resource, {})]
    assert evaluate(docs, action, resource).decision is expected
    assert compile_policies(docs).is_allowed(action, resource) is (expected is Decision.ALLOW)


@settings(max_examples=250, deadline=None)
@given(docs=policies(with_conditions=True), action=actions(), resource=arns(), ctx=contexts())
def test_decision_agrees_with_conditions(
    docs: list[dict[str, Any]], action: str, resource: str, ctx: dict[str, Any]
) -> None:
    """Decisions with string, Null, IfExists and set-operator conditions equal the reference."""
    expected = _NAMES[ref_evaluate(docs, action, resource, ctx)]
    assert evaluate(docs, action, resource, ctx).decision is expected


@settings(max_examples=100, deadline=None)
@given(docs=policies(with_conditions=True), action=actions(), resource=arns())
def test_a_matching_deny_always_wins(
    docs: list[dict[str, Any]], action: str, resource: str
) -> None:
    """Whatever else the policies say, a Deny that matches the request decides it."""
    guard = {"Effect": "Deny", "Action": action, "Resource": "*"}
    guarded = [*docs, {"Version": "2012-10-17", "Statement": [guard]}]
    assert evaluate(guarded, action, resource).decision is Decision.EXPLICIT_DENY
