"""ARNs: splitting, sanity checks, leftover placeholders, and resource-type templates.

An ARN has six colon-separated parts: ``arn:partition:service:region:account:resource``. The
resource part may itself contain colons and slashes.

Resource-type templates come from the service authorization data, for example
``arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/stream/${StreamLabel}``.
:class:`ArnTemplate` answers two questions about a policy's (possibly wildcarded) Resource
entry: *could it name a resource of this type?* and *which table, log group, ... does it name?*
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from labkit.iam.matching import ESCAPES

__all__ = [
    "PARTITIONS",
    "Arn",
    "ArnTemplate",
    "find_placeholders",
    "is_account",
    "is_region",
    "parse_arn",
    "placeholder_name",
    "split_arn",
]

#: The AWS partitions an ARN can name.
PARTITIONS: frozenset[str] = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)

_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
# "{Region}", "<Region>" and "${Region}" (the last only when it is not a real policy variable
# such as ${aws:username}, which always contains a colon, or an escape such as ${*}).
_PLACEHOLDER_RE = re.compile(
    r"\$\{(?P<dollar>[A-Za-z][A-Za-z0-9_-]*)\}"
    r"|(?<!\$)\{(?P<brace>[^{}:]*)\}"
    r"|<(?P<angle>[A-Za-z][A-Za-z0-9 _-]*)>"
)


def split_arn(text: str) -> list[str] | None:
    """The six parts of an ARN (the last may contain colons), or None if there are fewer."""
    parts = text.split(":", 5)
    return parts if len(parts) == 6 else None


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed ARN."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn | None:
    """Split ``text`` into an :class:`Arn`, or None if it does not have the ARN shape."""
    parts = split_arn(text)
    if parts is None or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def is_region(text: str) -> bool:
    """True if ``text`` looks like an AWS region code such as ``eu-west-1``."""
    return _REGION_RE.match(text) is not None


def is_account(text: str) -> bool:
    """True if ``text`` is a 12-digit account ID."""
    return _ACCOUNT_RE.match(text) is not None


def find_placeholders(text: str) -> list[str]:
    """Template placeholders left in ``text``, such as ``{Region}`` or ``${TableName}``."""
    found: list[str] = []
    for m in _PLACEHOLDER_RE.finditer(text):
        found.append(m.group(0))
    return found


def placeholder_name(placeholder: str) -> str:
    """The bare name inside a placeholder: ``{Region}`` → ``Region``."""
    return placeholder.strip("${}<>").strip()


# ---------------------------------------------------------------------------------------------
# Resource-type templates

# A token is ("c", char) for a literal, or ("one"|"star", excluded-characters).
_Token = tuple[str, str]
_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _pattern_tokens(pattern: str) -> list[_Token]:
    """Tokens for a policy Resource entry, following the ARN segment rules for wildcards."""
    out: list[_Token] = []
    segment = 0
    last_segment = pattern.count(":")
    i = 0
    while i < len(pattern):
        chunk = pattern[i : i + 4]
        if chunk in ESCAPES:
            out.append(("c", ESCAPES[chunk]))
            i += 4
            continue
        ch = pattern[i]
        ends_piece = i + 1 == len(pattern) or pattern[i + 1] == ":"
        crossing = ends_piece and (segment >= 5 or segment == last_segment)
        if ch == "*":
            out.append(("star", "" if crossing else ":"))
        elif ch == "?":
            out.append(("one", ":"))
        else:
            if ch == ":":
                segment += 1
            out.append(("c", ch))
        i += 1
    return out


def _classes_meet(a: _Token, b: _Token) -> bool:
    if a[0] == "c" and b[0] == "c":
        return a[1] == b[1]
    if a[0] == "c":
        return a[1] not in b[1]
    if b[0] == "c":
        return b[1] not in a[1]
    return True


def _intersects(a: list[_Token], b: list[_Token]) -> bool:
    """True if some string matches both token sequences (a product-automaton search)."""
    goal = (len(a), len(b))
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state == goal:
            return True
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        ta = a[i] if i < len(a) else None
        tb = b[j] if j < len(b) else None
        if ta is not None and ta[0] == "star":
            stack.append((i + 1, j))
        if tb is not None and tb[0] == "star":
            stack.append((i, j + 1))
        if ta is not None and tb is not None and _classes_meet(ta, tb):
            stack.append((i if ta[0] == "star" else i + 1, j if tb[0] == "star" else j + 1))
    return False


@dataclass(frozen=True)
class ArnTemplate:
    """A resource type's ARN template, e.g. ``arn:${Partition}:dynamodb:…:table/${TableName}``."""

    service: str
    type_name: str
    template: str

    @property
    def resource_template(self) -> str:
        """The resource part of the template, e.g. ``table/${TableName}``."""
        parts = self.template.split(":", 5)
        return parts[5] if len(parts) == 6 else ""

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in the resource part, in order (``("TableName", "StreamLabel")``)."""
        return tuple(_VAR_RE.findall(self.resource_template))

    def _tokens(self, strict: bool) -> list[_Token]:
        out: list[_Token] = []
        for index, part in enumerate(self.template.split(":", 5)):
            if index:
                out.append(("c", ":"))
            excluded = ":/" if (strict and index == 5) else ":" if index < 5 else ""
            pos = 0
            for m in _VAR_RE.finditer(part):
                out.extend(("c", ch) for ch in part[pos : m.start()])
                out.append(("one", excluded))
                out.append(("star", excluded))
                pos = m.end()
            out.extend(("c", ch) for ch in part[pos:])
        return out

    def fits(self, pattern: str, strict: bool = False) -> bool:
        """True if the Resource entry ``pattern`` can name a resource of this type.

        In strict mode a variable in the resource part cannot contain ``/``, so that
        ``table/T/stream/*`` fits *stream* but not *table*.
        """
        return _fits(self.template, pattern, strict)

    def bind(self, pattern: str) -> dict[str, str] | None:
        """Read the template's variables out of ``pattern``, taken as literal text.

        ``table/Reduce*/stream/*`` against the stream template gives
        ``{"TableName": "Reduce*", "StreamLabel": "*"}``. Returns None if the resource part of
        ``pattern`` does not have the template's shape.
        """
        parts = split_arn(pattern)
        if parts is None:
            return None
        for strict in (True, False):
            found = _bind_regex(self.resource_template, strict).fullmatch(parts[5])
            if found is not None:
                names = self.variables
                return {names[i]: found.group(i + 1) for i in range(len(names))}
        return None

    def fill(self, partition: str, region: str, account: str, values: dict[str, str]) -> str:
        """An ARN of this type, with variables taken from ``values`` (``*`` where unknown)."""
        resource = _VAR_RE.sub(lambda m: values.get(m.group(1), "*"), self.resource_template)
        head = self.template.split(":", 5)
        region_part = region if "${Region}" in head[3] else head[3]
        account_part = account if "${Account}" in head[4] else head[4]
        return f"arn:{partition}:{head[2]}:{region_part}:{account_part}:{resource}"


@lru_cache(maxsize=8192)
def _fits(template: str, pattern: str, strict: bool) -> bool:
    if pattern == "*":
        return True
    tmpl = ArnTemplate("", "", template)
    return _intersects(_pattern_tokens(pattern), tmpl._tokens(strict))


@lru_cache(maxsize=1024)
def _bind_regex(resource_template: str, strict: bool) -> re.Pattern[str]:
    out: list[str] = []
    pos = 0
    for m in _VAR_RE.finditer(resource_template):
        out.append(re.escape(resource_template[pos : m.start()]))
        out.append("([^:/]+)" if strict else "(.+?)")
        pos = m.end()
    out.append(re.escape(resource_template[pos:]))
    return re.compile("".join(out), re.DOTALL)
