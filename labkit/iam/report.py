"""The learner-facing result of checking a policy, shown as HTML in a notebook and as text.

Every line has a mark (✓ fine, ✗ must change, ! worth a look) and says what to change.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.iam.document import Policy, PolicyKind, parse_policy
from labkit.iam.evaluate import StatementRef
from labkit.iam.problems import Problem

__all__ = ["ExcessItem", "ExcessKind", "GrantedItem", "MissingItem", "PolicyReport", "lint_policy"]


@dataclass(frozen=True, slots=True)
class GrantedItem:
    """A permission the step needs that the policy grants."""

    action: str
    resource: str
    granted_by: StatementRef | None

    def __str__(self) -> str:
        return f"✓ {self.action} on {self.resource} (allowed by {self.granted_by})"


@dataclass(frozen=True, slots=True)
class MissingItem:
    """A permission the step needs that the policy does not grant, and why."""

    action: str
    resource: str
    message: str
    fix: str
    blocked_by: StatementRef | None = None

    def __str__(self) -> str:
        return f"✗ {self.action} on {self.resource}: {self.message} {self.fix}"


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

    def _sections(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """(heading, [(mark, text, fix)]) for each non-empty section."""
        needed: list[tuple[str, str, str]] = [
            ("✗", f"{m.action} on {m.resource}: {m.message}", m.fix) for m in self.missing
        ]
        needed += [
            ("✓", f"{g.action} on {g.resource}", f"Allowed by {g.granted_by}.")
            for g in self.granted
        ]
        sections = [
            ("What this step needs", needed),
            (
                "Mistakes in the policy",
                [
                    ("✗", f"{p.where}: {p.message}" if p.where else p.message, p.fix)
                    for p in self.problems
                ],
            ),
            (
                "More than this step needs",
                [("✗" if e.fails else "!", f"{e.where}: {e.message}", e.fix) for e in self.excess],
            ),
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
                    out.append(f"      → {fix}")
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
                    f"<span>{esc(text)}</span>"
                )
                if fix:
                    parts.append(f'<div style="margin-left:1.4em;color:{_GREY}">→ {esc(fix)}</div>')
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
