"""Reading a policy document and finding everything wrong with its grammar.

:func:`parse_policy` never raises on a bad policy: it returns a :class:`Policy` whose
``problems`` say, in a learner's terms, what is wrong and what to change. The statements it
could read are kept, so the evaluator can still use them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from labkit.iam import lint
from labkit.iam.conditions import all_operator_names, condition_values, parse_operator
from labkit.iam.problems import Problem, Severity, did_you_mean

__all__ = ["CURRENT_VERSION", "ConditionEntry", "Policy", "PolicyKind", "Statement", "parse_policy"]

CURRENT_VERSION = "2012-10-17"
OLD_VERSION = "2008-10-17"
PolicyKind = Literal["identity", "resource"]

_TOP_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_SID_RE = re.compile(r"^[A-Za-z0-9]*$")


@dataclass(frozen=True, slots=True)
class ConditionEntry:
    """One key under one operator of a Condition block, with its values."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as read from the document. Absent elements are None."""

    index: int
    sid: str | None
    effect: str | None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[ConditionEntry, ...] = ()
    has_principal: bool = False

    @property
    def label(self) -> str:
        """How a learner finds this statement: its Sid, or its position counted from 1."""
        return f'statement "{self.sid}"' if self.sid else f"statement {self.index + 1}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy: its statements and every problem found in it."""

    name: str
    text: str
    version: str | None
    statements: tuple[Statement, ...]
    problems: tuple[Problem, ...] = ()
    kind: PolicyKind = "identity"

    @property
    def ok(self) -> bool:
        """True if nothing in the policy is an error (warnings are allowed)."""
        return not any(p.is_error for p in self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that AWS would reject or that make the policy not work."""
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems worth fixing that do not stop the policy from working."""
        return tuple(p for p in self.problems if not p.is_error)

    @property
    def uses_variables(self) -> bool:
        """True if ``${…}`` in this policy is a policy variable (Version 2012-10-17)."""
        return self.version == CURRENT_VERSION


# ---------------------------------------------------------------------------------------------
# JSON reading


class _Object(dict[str, Any]):
    """A JSON object that remembers keys that appeared more than once."""

    duplicates: list[str]


def _object_hook(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _previous_char(text: str, pos: int) -> str:
    i = pos - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return text[i] if i >= 0 else ""


def _json_problem(text: str, err: json.JSONDecodeError) -> Problem:
    where = f"line {err.lineno}, column {err.colno}"
    here = text[err.pos : err.pos + 1]
    before = _previous_char(text, err.pos)
    if err.msg.startswith("Expecting property name") and here == "'":
        message = "Keys and text must be in double quotes; this policy uses single quotes."
        fix = "Replace every ' with \" (JSON only accepts double quotes)."
    elif err.msg.startswith(("Expecting property name", "Expecting value")) and before == ",":
        message = "There is a comma after the last entry of a list or object."
        fix = "Delete the comma just before this point: JSON does not allow a trailing comma."
    elif err.msg.startswith("Expecting ',' delimiter"):
        message = "Two entries follow each other without a comma between them."
        fix = "Add a comma at the end of the previous entry."
    elif err.msg.startswith("Expecting ':' delimiter"):
        message = "A key is not followed by a colon."
        fix = 'Write each entry as "Key": value.'
    elif err.msg.startswith("Expecting value"):
        message = "A value is missing or is not valid JSON here."
        fix = "Check for a missing value, a stray character, or text that should be in quotes."
    elif err.msg.startswith("Unterminated string"):
        message = "A piece of text in quotes is never closed."
        fix = 'Add the closing " at the end of the text.'
    elif err.msg.startswith("Invalid control character"):
        message = "A piece of text in quotes contains a line break or a tab."
        fix = "Keep each quoted text on one line."
    elif err.msg.startswith("Extra data"):
        message = "There is more text after the end of the policy."
        fix = "Delete everything after the closing } of the policy, or wrap statements in [ ]."
    else:
        message = f"This is not valid JSON ({err.msg})."
        fix = "Compare the brackets, quotes and commas with a working example."
    return Problem("json-syntax", Severity.ERROR, where, message, fix)


# ---------------------------------------------------------------------------------------------
# Grammar checks


class _Checker:
    def __init__(self, kind: PolicyKind) -> None:
        self.kind = kind
        self.problems: list[Problem] = []

    def add(self, code: str, where: str, message: str, fix: str, *, warn: bool = False) -> None:
        severity = Severity.WARNING if warn else Severity.ERROR
        self.problems.append(Problem(code, severity, where, message, fix))

    def duplicates(self, obj: Mapping[str, Any], where: str) -> None:
        for key in getattr(obj, "duplicates", ()):
            self.add(
                "duplicate-key",
                where,
                f'The key "{key}" appears more than once; AWS would keep only the last one and '
                "silently ignore the others.",
                f'Keep one "{key}" and merge the values into a list, e.g. "{key}": ["…", "…"].',
            )

    def unknown_keys(
        self, obj: Mapping[str, Any], allowed: tuple[str, ...], where: str
    ) -> dict[str, str]:
        """Report unknown keys; return {meant: written} for those with a clear guess."""
        aliases: dict[str, str] = {}
        for key in obj:
            if key in allowed:
                continue
            guess = did_you_mean(key, allowed, cutoff=0.7)
            if guess and guess not in obj and guess not in aliases:
                aliases[guess] = key
            hint = f'Did you mean "{guess}"? ' if guess else ""
            if guess:
                fix = f'Rename "{key}" to "{guess}" (element names are case-sensitive).'
            else:
                fix = f"Remove it; the allowed keys here are {', '.join(allowed)}."
            self.add(
                "unknown-key", where, f'"{key}" is not a policy element here. {hint}'.strip(), fix
            )
        return aliases

    def strings(self, value: Any, where: str, element: str) -> tuple[str, ...] | None:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if not value:
                self.add(
                    "empty-list",
                    where,
                    f"{element} is an empty list, so this statement matches nothing.",
                    f"Put at least one entry in {element}.",
                )
            return tuple(value)
        self.add(
            "bad-value",
            where,
            f"{element} must be a text in quotes or a list of texts.",
            f'Write it like "{element}": ["first", "second"].',
        )
        return None

    def version(self, doc: Mapping[str, Any]) -> str | None:
        if "Version" not in doc:
            self.add(
                "missing-version",
                "Version",
                'The policy has no "Version", so AWS reads it with the 2008 rules, where policy '
                "variables such as ${aws:username} are plain text.",
                f'Add "Version": "{CURRENT_VERSION}" as the first line of the policy.',
                warn=True,
            )
            return None
        value = doc["Version"]
        if value == OLD_VERSION:
            self.add(
                "old-version",
                "Version",
                f"Version {OLD_VERSION} is the old policy language: policy variables such as "
                "${aws:username} do not work in it.",
                f'Change it to "{CURRENT_VERSION}".',
                warn=True,
            )
            return str(value)
        if value != CURRENT_VERSION:
            self.add(
                "bad-version",
                "Version",
                f'"{value}" is not a policy language version. The Version is one of two fixed '
                "dates, not the date you wrote the policy.",
                f'Change it to "{CURRENT_VERSION}".',
            )
            return None
        return str(value)

    def statement(self, raw: Any, index: int) -> tuple[Statement, Statement] | None:
        """The statement as AWS reads it, and as the learner meant it (misnamed keys renamed).

        The second form is only used to find more problems at once: AWS would reject a
        statement with unknown keys, so an Allow statement with one grants nothing.
        """
        where = f"statement {index + 1}"
        if not isinstance(raw, Mapping):
            self.add(
                "bad-statement",
                where,
                "Each statement must be an object in { }.",
                'Write it like {"Effect": "Allow", "Action": [...], "Resource": [...]}.',
            )
            return None
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            sid = str(sid)
        stmt_label = f'statement "{sid}"' if sid else where
        self.duplicates(raw, stmt_label)
        aliases = self.unknown_keys(raw, _STATEMENT_KEYS, stmt_label)
        raw = {**raw, **{meant: raw[written] for meant, written in aliases.items()}}
        if sid is not None and not _SID_RE.match(sid):
            self.add(
                "bad-sid",
                stmt_label,
                "A Sid may only contain letters and digits.",
                "Remove spaces, dashes and other punctuation from the Sid (e.g. ReadStream).",
            )

        effect = raw.get("Effect")
        if effect is None:
            self.add(
                "missing-effect",
                stmt_label,
                'The statement has no "Effect", so AWS cannot tell whether it allows or denies.',
                'Add "Effect": "Allow" (or "Deny").',
            )
        elif effect not in ("Allow", "Deny"):
            guess = did_you_mean(str(effect), ("Allow", "Deny"), cutoff=0.5)
            self.add(
                "bad-effect",
                f"{stmt_label}, Effect",
                f'"{effect}" is not an Effect; it must be exactly "Allow" or "Deny".',
                f'Change it to "{guess or "Allow"}" (the capital letter matters).',
            )
            effect = None

        actions = not_actions = resources = not_resources = None
        if "Action" in raw:
            actions = self.strings(raw["Action"], f"{stmt_label}, Action", "Action")
        if "NotAction" in raw:
            not_actions = self.strings(raw["NotAction"], f"{stmt_label}, NotAction", "NotAction")
        if "Action" in raw and "NotAction" in raw:
            self.add(
                "action-and-notaction",
                stmt_label,
                'The statement has both "Action" and "NotAction"; a statement can have only one.',
                'Keep "Action" (list what is allowed) and remove "NotAction", or split it into '
                "two statements.",
            )
        elif "Action" not in raw and "NotAction" not in raw:
            self.add(
                "missing-action",
                stmt_label,
                'The statement has no "Action", so it does not say what may be done.',
                'Add "Action": ["service:ActionName", …], e.g. "dynamodb:GetItem".',
            )

        if "Resource" in raw:
            resources = self.strings(raw["Resource"], f"{stmt_label}, Resource", "Resource")
        if "NotResource" in raw:
            not_resources = self.strings(
                raw["NotResource"], f"{stmt_label}, NotResource", "NotResource"
            )
        if "Resource" in raw and "NotResource" in raw:
            self.add(
                "resource-and-notresource",
                stmt_label,
                'The statement has both "Resource" and "NotResource"; a statement can have only '
                "one.",
                'Keep "Resource" and remove "NotResource".',
            )
        elif "Resource" not in raw and "NotResource" not in raw and self.kind == "identity":
            self.add(
                "missing-resource",
                stmt_label,
                'The statement has no "Resource", so it does not say what it applies to.',
                'Add "Resource" with the ARN of the table, stream or log group (or "*" for '
                "actions that cannot be limited to one resource).",
            )

        has_principal = "Principal" in raw or "NotPrincipal" in raw
        if has_principal and self.kind == "identity":
            self.add(
                "principal-in-identity-policy",
                stmt_label,
                'A policy attached to a role or user must not have a "Principal": the role it is '
                "attached to is the principal.",
                'Delete the "Principal" element.',
            )

        conditions = self.conditions(raw.get("Condition"), stmt_label) if "Condition" in raw else ()
        meant = Statement(
            index=index,
            sid=sid,
            effect=effect,
            actions=actions,
            not_actions=not_actions,
            resources=resources,
            not_resources=not_resources,
            conditions=conditions,
            has_principal=has_principal,
        )
        if aliases and meant.effect == "Allow":
            return dataclasses.replace(meant, effect=None), meant
        return meant, meant

    def conditions(self, block: Any, where: str) -> tuple[ConditionEntry, ...]:
        where = f"{where}, Condition"
        if not isinstance(block, Mapping):
            self.add(
                "bad-condition",
                where,
                "Condition must be an object of operators, each holding keys and values.",
                'Write it like "Condition": {"StringEquals": {"aws:SourceAccount": "…"}}.',
            )
            return ()
        self.duplicates(block, where)
        entries: list[ConditionEntry] = []
        for op_name, keys in block.items():
            if parse_operator(op_name) is None:
                guess = did_you_mean(op_name, all_operator_names(), cutoff=0.6)
                self.add(
                    "unknown-condition-operator",
                    where,
                    f'"{op_name}" is not a condition operator.'
                    + (f' Did you mean "{guess}"?' if guess else ""),
                    f'Change it to "{guess}".'
                    if guess
                    else "Use an operator such as StringEquals, StringLike, ArnLike, Bool, "
                    "NumericLessThan or Null.",
                )
            if not isinstance(keys, Mapping):
                self.add(
                    "bad-condition",
                    f"{where}, {op_name}",
                    f'Under "{op_name}" there must be an object of condition keys and values.',
                    f'Write it like "{op_name}": {{"aws:SourceAccount": "123456789012"}}.',
                )
                continue
            self.duplicates(keys, f"{where}, {op_name}")
            for key, raw in keys.items():
                ok_value = isinstance(raw, str | int | float | bool) or (
                    isinstance(raw, list)
                    and bool(raw)
                    and all(isinstance(v, str | int | float | bool) for v in raw)
                )
                if not ok_value:
                    self.add(
                        "bad-condition",
                        f"{where}, {op_name}, {key}",
                        "A condition value must be a text, number or true/false, or a list of "
                        "them.",
                        f'Write it like "{key}": ["value1", "value2"].',
                    )
                    continue
                entries.append(ConditionEntry(op_name, str(key), condition_values(raw)))
        return tuple(entries)


def _canonical(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)


def parse_policy(
    document: str | Mapping[str, Any] | Policy,
    *,
    name: str | None = None,
    kind: PolicyKind = "identity",
) -> Policy:
    """Parse a policy (JSON text or a dict) and check its grammar and its actions and ARNs.

    Never raises for a bad policy: the returned :class:`Policy` lists every problem found.
    """
    if isinstance(document, Policy):
        return document
    policy_name = name or "policy"
    checker = _Checker(kind)
    doc: Any
    if isinstance(document, str):
        text = document
        try:
            doc = json.loads(document, object_pairs_hook=_object_hook)
        except json.JSONDecodeError as err:
            return Policy(policy_name, text, None, (), (_json_problem(document, err),), kind)
    else:
        doc = document
        text = _canonical(document)

    if not isinstance(doc, Mapping):
        checker.add(
            "not-an-object",
            "",
            "A policy must be one JSON object in { }.",
            'Start from {"Version": "2012-10-17", "Statement": [ … ]}.',
        )
        return Policy(policy_name, text, None, (), tuple(checker.problems), kind)

    checker.duplicates(doc, "policy")
    checker.unknown_keys(doc, _TOP_KEYS, "policy")
    version = checker.version(doc)

    raw_statements: list[Any]
    if "Statement" not in doc:
        checker.add(
            "missing-statement",
            "policy",
            'The policy has no "Statement", so it allows nothing.',
            'Add "Statement": [ { "Effect": "Allow", "Action": …, "Resource": … } ].',
        )
        raw_statements = []
    elif isinstance(doc["Statement"], list):
        raw_statements = doc["Statement"]
        if not raw_statements:
            checker.add(
                "missing-statement",
                "policy",
                'The "Statement" list is empty, so the policy allows nothing.',
                "Add at least one statement to the list.",
            )
    else:
        raw_statements = [doc["Statement"]]

    statements: list[Statement] = []
    meant: list[Statement] = []
    for index, raw in enumerate(raw_statements):
        both = checker.statement(raw, index)
        if both is not None:
            statements.append(both[0])
            meant.append(both[1])

    seen: dict[str, Statement] = {}
    for stmt in statements:
        if stmt.sid:
            if stmt.sid in seen:
                checker.add(
                    "duplicate-sid",
                    stmt.label,
                    f'Two statements have the Sid "{stmt.sid}"; each Sid must be unique in a '
                    "policy.",
                    "Rename one of them.",
                )
            seen[stmt.sid] = stmt

    problems = list(checker.problems)
    for stmt in meant:
        problems.extend(lint.statement_problems(stmt, variables=version == CURRENT_VERSION))
    return Policy(policy_name, text, version, tuple(statements), tuple(problems), kind)
