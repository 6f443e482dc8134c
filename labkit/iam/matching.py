"""Wildcard matching for IAM actions, resource ARNs and ``*Like`` condition values.

IAM has two wildcards: ``*`` (any run of characters, possibly empty) and ``?`` (exactly one
character). Every other character, including ``.``, ``+``, ``(`` and ``$``, is literal.

* Actions compare case-insensitively and ``*`` runs over everything.
* Resource ARNs compare case-sensitively and wildcards stay inside one colon-separated
  segment. In the resource part (after the account), a ``*`` that ends a colon-separated
  piece may run past colons, and so may a ``*`` that ends a pattern cut short
  (``arn:aws:dynamodb:*``). So ``arn:aws:logs:*:*:*`` and ``log-group:/aws/lambda/f:*`` both
  cover log streams, as on AWS.
* ``StringLike`` values compare case-sensitively and ``*`` runs over everything.

Patterns are compiled once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

__all__ = [
    "ESCAPES",
    "Matcher",
    "action_matcher",
    "arn_matcher",
    "compile_alternatives",
    "has_wildcard",
    "string_like_matcher",
    "unescape",
]

Matcher = Callable[[str], bool]

#: Policy-variable escapes for literal wildcard characters: ``${*}``, ``${?}`` and ``${$}``.
ESCAPES: dict[str, str] = {"${*}": "*", "${?}": "?", "${$}": "$"}

_ESCAPE_RE = re.compile(r"\$\{[*?$]\}")


def has_wildcard(pattern: str) -> bool:
    """True if ``pattern`` contains an unescaped ``*`` or ``?``."""
    return "*" in _ESCAPE_RE.sub("", pattern) or "?" in _ESCAPE_RE.sub("", pattern)


def unescape(text: str) -> str:
    """Replace ``${*}``, ``${?}`` and ``${$}`` with the literal characters they stand for."""
    return _ESCAPE_RE.sub(lambda m: ESCAPES[m.group(0)], text)


def _always(_: str) -> bool:
    return True


def _tokens(pattern: str) -> list[str]:
    """Split a pattern into single characters, keeping ``${*}``-style escapes whole."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        chunk = pattern[i : i + 4]
        if chunk in ESCAPES:
            out.append(chunk)
            i += 4
        else:
            out.append(pattern[i])
            i += 1
    return out


def _glob_regex(pattern: str) -> str:
    parts: list[str] = []
    for tok in _tokens(pattern):
        if tok == "*":
            parts.append(".*")
        elif tok == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ESCAPES.get(tok, tok)))
    return "".join(parts)


def _arn_regex(pattern: str) -> str:
    segments: list[list[str]] = [[]]
    for tok in _tokens(pattern):
        if tok == ":":
            segments.append([])
        else:
            segments[-1].append(tok)
    out: list[str] = []
    for index, seg in enumerate(segments):
        # In the five head segments (arn, partition, service, region, account) a wildcard stays
        # inside its segment, unless the pattern stops early and ends with "*". In the
        # resource part, a "*" that ends a colon-separated piece may run past colons.
        is_last = index == len(segments) - 1
        crossing = index >= 5 or is_last
        parts: list[str] = []
        for i, tok in enumerate(seg):
            if tok == "*":
                parts.append(".*" if crossing and i == len(seg) - 1 else "[^:]*")
            elif tok == "?":
                parts.append("[^:]")
            else:
                parts.append(re.escape(ESCAPES.get(tok, tok)))
        out.append("".join(parts))
    return ":".join(out)


def _literal_or_regex(literal: str, regex: str, flags: int, fold: bool) -> Matcher:
    if regex == ".*":
        return _always
    if not has_wildcard(literal):
        text = unescape(literal)
        if fold:
            folded = text.lower()
            return lambda value: value.lower() == folded
        return lambda value: value == text
    compiled = re.compile(regex, flags | re.DOTALL)
    return lambda value: compiled.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def action_matcher(pattern: str) -> Matcher:
    """A case-insensitive matcher for an Action or NotAction entry such as ``dynamodb:Get*``."""
    return _literal_or_regex(pattern, _glob_regex(pattern), re.IGNORECASE, fold=True)


@lru_cache(maxsize=4096)
def arn_matcher(pattern: str) -> Matcher:
    """A case-sensitive matcher for a Resource entry, with ARN segment rules for wildcards."""
    if pattern == "*":
        return _always
    return _literal_or_regex(pattern, _arn_regex(pattern), 0, fold=False)


@lru_cache(maxsize=4096)
def string_like_matcher(pattern: str, ignore_case: bool = False) -> Matcher:
    """A matcher for a ``StringLike`` value: ``*`` and ``?`` run over any character."""
    return _literal_or_regex(
        pattern, _glob_regex(pattern), re.IGNORECASE if ignore_case else 0, fold=ignore_case
    )


def compile_alternatives(patterns: Iterable[str]) -> Matcher:
    """One case-insensitive matcher for several action patterns (used on the hot path)."""
    return _alternatives(tuple(patterns))


@lru_cache(maxsize=4096)
def _alternatives(patterns: tuple[str, ...]) -> Matcher:
    exact = {unescape(p).lower() for p in patterns if not has_wildcard(p)}
    wild = [p for p in patterns if has_wildcard(p)]
    if any(_glob_regex(p) == ".*" for p in wild):
        return _always
    if not wild:
        return lambda value: value.lower() in exact
    regex = re.compile("|".join(f"(?:{_glob_regex(p)})" for p in wild), re.IGNORECASE | re.DOTALL)

    def match(value: str) -> bool:
        return value.lower() in exact or regex.fullmatch(value) is not None

    return match
