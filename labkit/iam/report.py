"""The learner-facing result of checking a policy, shown as HTML in a notebook and as text.

Every line has a mark (✓ fine, ✗ must change, ! worth a look) and says what to change.
Findings are grouped: the actions one cause blocks are one line, everything a statement grants
beyond the step is one line per statement (with one replacement that grants just enough), a
Deny that blocks an action comes first, and resources are shown as a policy would name them
(``table/ReduceTable/stream/*``), never with a made-up stream label or log stream.

Code in fixes is written between backticks (```dynamodb:UpdateItem```); :func:`rich_html`
shows it as code, and a paragraph indented by four spaces as a code block.
"""

from __future__ import annotations

import enum
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.iam.document import Policy, PolicyKind, parse_policy
from labkit.iam.evaluate import StatementRef
from labkit.iam.problems import Problem

__all__ = [
    "ExcessItem",
    "ExcessKind",
    "Finding",
    "GrantedItem",
    "MissingItem",
    "PolicyReport",
    "lint_policy",
    "rich_html",
]


@dataclass(frozen=True, slots=True)
class GrantedItem:
    """A permission the step needs that the policy grants."""

    action: str
    resource: str
    granted_by: StatementRef | None
    suggested: str = ""  # the Resource a policy would name for it (no made-up labels)

    def __str__(self) -> str:
        return f"✓ {self.action} on {_shown(self)} (allowed by {self.granted_by})"


@dataclass(frozen=True, slots=True)
class MissingItem:
    """A permission the step needs that the policy does not grant, and why."""

    action: str
    resource: str
    message: str
    fix: str
    blocked_by: StatementRef | None = None
    suggested: str = ""  # the Resource to write for it
    near: StatementRef | None = None  # the Allow statement the diagnosis is about

    def __str__(self) -> str:
        return f"✗ {self.action} on {_shown(self)}: {self.message} {self.fix}"


class ExcessKind(enum.Enum):
    """How a grant goes beyond what the step needs."""

    OTHER_RESOURCES = "other resources"
    OTHER_REGIONS_OR_ACCOUNTS = "other regions or accounts"
    OTHER_ACTIONS = "other actions"
    WRITE_ACCESS = "write access where only reads are needed"


@dataclass(frozen=True, slots=True)
class ExcessItem:
    """Something the policy grants beyond the step. ``fails`` is False for mere notes."""

    kind: ExcessKind
    statements: tuple[StatementRef, ...]
    actions: tuple[str, ...]
    resource: str
    message: str
    fix: str
    fails: bool = True

    def __str__(self) -> str:
        mark = "✗" if self.fails else "!"
        return f"{mark} {self.where}: {self.message} {self.fix}"

    @property
    def where(self) -> str:
        """The statement (or statements) that grant too much, as a learner finds them."""
        by_policy: dict[str, list[str]] = {}
        for ref in self.statements:
            label = f'"{ref.sid}"' if ref.sid else f"statement {ref.index + 1}"
            by_policy.setdefault(ref.policy, []).append(label)
        return "; ".join(f"{name} {', '.join(labels)}" for name, labels in by_policy.items())


_GREEN, _RED, _AMBER, _GREY = "#1a7f37", "#cf222e", "#9a6700", "#57606a"


@dataclass(frozen=True, repr=False)
class PolicyReport:
    """The verdict on a policy: what is granted, missing, too broad, and wrong in the text."""

    title: str
    granted: tuple[GrantedItem, ...] = ()
    missing: tuple[MissingItem, ...] = ()
    excess: tuple[ExcessItem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def passed(self) -> bool:
        """True if nothing is missing, nothing is an error and no excess grant fails the step."""
        return not self.missing and not self.problems and not any(e.fails for e in self.excess)

    @property
    def to_fix(self) -> int:
        """How many lines must change before the check passes."""
        return len(self.missing) + len(self.problems) + sum(1 for e in self.excess if e.fails)

    def _headline(self) -> str:
        if self.passed:
            count = len(self.warnings)
            extra = f" ({count} warning{'s' if count != 1 else ''} worth a look)" if count else ""
            return f"✓ {self.title}: looks right.{extra}"
        count = self.to_fix
        return f"✗ {self.title}: {count} thing{'s' if count != 1 else ''} to fix."

    def needed(self) -> list[Finding]:
        """What the step needs, grouped: blocked by a Deny first, then the rest of what is
        missing (one line per cause), then what is granted (one line per statement)."""
        return [*_missing_findings(self.missing), *_granted_findings(self.granted)]

    def too_broad(self) -> list[Finding]:
        """One finding per statement that grants more than the step needs (failing ones
        first), each with every diagnosis once and one replacement that grants just enough;
        then the notes that do not fail."""
        return _excess_findings(self.excess, self.granted, self.missing)

    def _sections(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """(heading, [(mark, text, fix)]) for each non-empty section."""
        sections = [
            ("What this step needs", [(f.mark, f.text, f.fix) for f in self.needed()]),
            (
                "Mistakes in the policy",
                [
                    ("✗", f"{p.where}: {p.message}" if p.where else p.message, p.fix)
                    for p in self.problems
                ],
            ),
            ("More than this step needs", [(f.mark, f.text, f.fix) for f in self.too_broad()]),
            (
                "Warnings",
                [
                    ("!", f"{p.where}: {p.message}" if p.where else p.message, p.fix)
                    for p in self.warnings
                ],
            ),
        ]
        return [(heading, lines) for heading, lines in sections if lines]

    def __repr__(self) -> str:
        """Plain-text notebook output shows the readable report, not a dataclass dump."""
        return str(self)

    def __str__(self) -> str:
        out = [self._headline()]
        for heading, lines in self._sections():
            out.append("")
            out.append(heading)
            for mark, text, fix in lines:
                out.append(f"  {mark} {text}")
                if fix:
                    first, *rest = fix.split("\n")
                    out.append(f"      → {first}")
                    out.extend(f"        {r}".rstrip() for r in rest)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = _GREEN if self.passed else _RED
        parts = [
            f'<div style="font-family:system-ui,-apple-system,sans-serif;font-size:14px;'
            f"border-left:4px solid {colour};padding:8px 12px;margin:4px 0;"
            f'background:#f6f8fa;color:#1f2328">',
            f'<div style="font-weight:600;color:{colour};margin-bottom:4px">'
            f"{esc(self._headline())}</div>",
        ]
        marks = {"✓": _GREEN, "✗": _RED, "!": _AMBER}
        for heading, lines in self._sections():
            parts.append(
                f'<div style="font-weight:600;margin:8px 0 2px 0;color:#1f2328">'
                f"{esc(heading)}</div>"
            )
            parts.append('<ul style="list-style:none;margin:0;padding:0">')
            for mark, text, fix in lines:
                parts.append(
                    '<li style="margin:2px 0 4px 0">'
                    f'<span style="color:{marks[mark]};font-weight:700;display:inline-block;'
                    f'width:1.4em">{esc(mark)}</span>'
                    f"<span>{rich_html(text)}</span>"
                )
                if fix:
                    parts.append(
                        f'<div style="margin-left:1.4em;color:{_GREY}">→ {rich_html(fix)}</div>'
                    )
                parts.append("</li>")
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)


def lint_policy(
    document: str | Mapping[str, Any] | Policy,
    *,
    name: str | None = None,
    kind: PolicyKind = "identity",
) -> PolicyReport:
    """Check a policy on its own (grammar, actions, ARNs) and return a report to show."""
    policy = parse_policy(document, name=name, kind=kind)
    return PolicyReport(
        title=policy.name,
        warnings=policy.warnings,
        problems=policy.errors,
    )


# ---------------------------------------------------------------------------------------------
# Grouping findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of a report: a mark, what was found, what to do, and the actions and
    resource it is about (``blocked`` when a Deny is the reason)."""

    mark: str
    text: str
    fix: str
    actions: tuple[str, ...] = ()
    resource: str = ""
    blocked: bool = False
    members: tuple[MissingItem, ...] = ()


def _shown(item: GrantedItem | MissingItem) -> str:
    """The resource as a policy names it: ``table/ReduceTable/stream/*``."""
    arn = item.suggested or item.resource
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn


def _together(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _missing_findings(missing: tuple[MissingItem, ...]) -> list[Finding]:
    """One finding per cause: actions whose explanation and fix read the same apart from the
    action's name are one line (``"Action": ["a", "b"]`` where the fix names one action)."""
    groups: dict[tuple[str, str, str, bool], list[MissingItem]] = {}
    for item in missing:
        key = (
            _shown(item),
            item.message.replace(item.action, "\0"),
            item.fix.replace(item.action, "\0"),
            item.blocked_by is not None,
        )
        groups.setdefault(key, []).append(item)
    found: list[Finding] = []
    for (shown, message, fix, blocked), members in groups.items():
        names = [m.action for m in members]
        together = _together(names)
        listed = json.dumps(names[0] if len(names) == 1 else names)
        message = message.replace("\0", together)
        fix = fix.replace('`"\0"`', f"`{listed}`").replace("\0", together)
        found.append(
            Finding(
                "✗",
                f"{together} on {shown}: {message}",
                fix,
                tuple(names),
                shown,
                blocked,
                tuple(members),
            )
        )
    found.sort(key=lambda f: not f.blocked)
    return found


def _granted_findings(granted: tuple[GrantedItem, ...]) -> list[Finding]:
    groups: dict[tuple[str, str], list[GrantedItem]] = {}
    for item in granted:
        groups.setdefault((_shown(item), str(item.granted_by)), []).append(item)
    return [
        Finding(
            "✓",
            f"{_together([m.action for m in members])} on {shown}",
            f"Allowed by {by}.",
            tuple(m.action for m in members),
            shown,
        )
        for (shown, by), members in groups.items()
    ]


def _same_statement(a: StatementRef | None, b: StatementRef) -> bool:
    return a is not None and (a.policy, a.index) == (b.policy, b.index)


def _replacement(
    ref: StatementRef, granted: tuple[GrantedItem, ...], missing: tuple[MissingItem, ...]
) -> list[dict[str, object]]:
    """Statements that grant exactly what ``ref`` grants (or was meant to grant) of the
    step's needs: one per resource, actions sorted."""
    by_resource: dict[str, list[str]] = {}
    pairs = [(g.granted_by, g.suggested, g.action) for g in granted]
    pairs += [(m.near, m.suggested, m.action) for m in missing]
    for ref_of, suggested, action in pairs:
        if _same_statement(ref_of, ref) and suggested:
            by_resource.setdefault(suggested, []).append(action)
    statements: list[dict[str, object]] = []
    for resource, actions in by_resource.items():
        unique = sorted(dict.fromkeys(actions))
        statement: dict[str, object] = {"Effect": "Allow"}
        if ref.sid and not statements:
            statement = {"Sid": ref.sid, **statement}
        statement["Action"] = unique[0] if len(unique) == 1 else unique
        statement["Resource"] = resource
        statements.append(statement)
    return statements


def _code_block(value: object) -> str:
    return "\n".join("    " + line for line in json.dumps(value, indent=4).split("\n"))


def _excess_findings(
    excess: tuple[ExcessItem, ...],
    granted: tuple[GrantedItem, ...],
    missing: tuple[MissingItem, ...],
) -> list[Finding]:
    by_statement: dict[str, list[ExcessItem]] = {}
    notes: list[Finding] = []
    for item in excess:
        if not item.fails:
            notes.append(Finding("!", f"{item.where}: {item.message}", item.fix, item.actions))
            continue
        by_statement.setdefault(item.where, []).append(item)
    found: list[Finding] = []
    for where, items in by_statement.items():
        messages = list(dict.fromkeys(i.message for i in items))
        text = f"{where}: " + "; ".join(m.rstrip(".") for m in messages) + "."
        refs = [r for i in items for r in i.statements]
        statements = _replacement(refs[0], granted, missing) if len(set(refs)) == 1 else []
        if statements:
            fix = "Grant only what the step needs: replace this statement with\n\n" + _code_block(
                statements[0] if len(statements) == 1 else statements
            )
            if len(statements) > 1:
                fix += "\n\n(one statement per resource, each with its own actions)"
        else:
            fix = " ".join(dict.fromkeys(i.fix for i in items))
        actions = tuple(dict.fromkeys(a for i in items for a in i.actions))
        found.append(Finding("✗", text, fix, actions))
    return [*found, *notes]


_CODE = re.compile(r"`([^`\n]+)`")


def rich_html(text: str) -> str:
    """Learner text as HTML: ```code``` in monospace, a paragraph whose lines are indented by
    four spaces as a copyable code block, everything else escaped."""
    blocks: list[str] = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if lines and all(line.startswith("    ") or not line.strip() for line in lines):
            code = "\n".join(line[4:] for line in lines)
            blocks.append(
                '<pre style="background:#eaeef2;padding:6px 8px;border-radius:4px;'
                f'font-size:13px;overflow-x:auto;margin:4px 0">{html.escape(code)}</pre>'
            )
            continue
        escaped = html.escape(paragraph)
        blocks.append(
            _CODE.sub(
                lambda m: (
                    '<code style="background:#eaeef2;padding:0 3px;border-radius:3px;'
                    f'font-size:13px">{m.group(1)}</code>'
                ),
                escaped,
            ).replace("\n", "<br>")
        )
    if len(blocks) == 1:
        return blocks[0]
    return "".join(
        b if b.startswith("<pre") else f'<div style="margin:2px 0">{b}</div>' for b in blocks
    )
