"""Condition operators: parsing their names and compiling Condition blocks into predicates.

The rules follow AWS:

* every operator in a block must hold, and every key under an operator must hold (AND);
* the values listed for one key are alternatives (OR); for a negated operator such as
  ``StringNotEquals`` the request value must match none of them;
* a key missing from the request makes a positive operator false and a negated one true;
  ``…IfExists`` makes any operator true when the key is missing;
* ``ForAnyValue:`` needs at least one request value to match (false when the key is missing);
  ``ForAllValues:`` needs every request value to match (true when the key is missing or empty).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from labkit.iam.matching import arn_matcher, string_like_matcher, unescape
from labkit.iam.variables import NormalContext, has_variables, substitute

__all__ = [
    "BASE_OPERATORS",
    "ConditionPredicate",
    "Operator",
    "all_operator_names",
    "compile_condition",
    "condition_values",
    "parse_operator",
]

ConditionPredicate = Callable[[NormalContext], bool]
_Compare = Callable[[object, str], bool]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _timestamp(value: object) -> float | None:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _string_equals(value: object, wanted: str) -> bool:
    return _text(value) == unescape(wanted)


def _string_equals_ic(value: object, wanted: str) -> bool:
    return _text(value).lower() == unescape(wanted).lower()


def _string_like(value: object, wanted: str) -> bool:
    return string_like_matcher(wanted)(_text(value))


def _arn_like(value: object, wanted: str) -> bool:
    return arn_matcher(wanted)(_text(value))


def _numeric(test: Callable[[float, float], bool]) -> _Compare:
    def compare(value: object, wanted: str) -> bool:
        left, right = _number(value), _number(wanted)
        return left is not None and right is not None and test(left, right)

    return compare


def _date(test: Callable[[float, float], bool]) -> _Compare:
    def compare(value: object, wanted: str) -> bool:
        left, right = _timestamp(value), _timestamp(wanted)
        return left is not None and right is not None and test(left, right)

    return compare


def _bool(value: object, wanted: str) -> bool:
    return _text(value).lower() == wanted.lower()


def _binary(value: object, wanted: str) -> bool:
    if isinstance(value, bytes):
        try:
            return value == base64.b64decode(wanted, validate=True)
        except (binascii.Error, ValueError):
            return False
    return _text(value) == wanted


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ip(value: object, wanted: str) -> bool:
    network = _network(wanted)
    if network is None:
        return False
    try:
        return ipaddress.ip_address(_text(value)) in network
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Base:
    compare: _Compare
    negated: bool
    variables: bool  # policy variables allowed in the values


def _eq(a: float, b: float) -> bool:
    return a == b


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


_BASES: dict[str, _Base] = {
    "StringEquals": _Base(_string_equals, False, True),
    "StringNotEquals": _Base(_string_equals, True, True),
    "StringEqualsIgnoreCase": _Base(_string_equals_ic, False, True),
    "StringNotEqualsIgnoreCase": _Base(_string_equals_ic, True, True),
    "StringLike": _Base(_string_like, False, True),
    "StringNotLike": _Base(_string_like, True, True),
    "NumericEquals": _Base(_numeric(_eq), False, False),
    "NumericNotEquals": _Base(_numeric(_eq), True, False),
    "NumericLessThan": _Base(_numeric(_lt), False, False),
    "NumericLessThanEquals": _Base(_numeric(_le), False, False),
    "NumericGreaterThan": _Base(_numeric(_gt), False, False),
    "NumericGreaterThanEquals": _Base(_numeric(_ge), False, False),
    "DateEquals": _Base(_date(_eq), False, False),
    "DateNotEquals": _Base(_date(_eq), True, False),
    "DateLessThan": _Base(_date(_lt), False, False),
    "DateLessThanEquals": _Base(_date(_le), False, False),
    "DateGreaterThan": _Base(_date(_gt), False, False),
    "DateGreaterThanEquals": _Base(_date(_ge), False, False),
    "Bool": _Base(_bool, False, True),
    "BinaryEquals": _Base(_binary, False, False),
    "IpAddress": _Base(_ip, False, False),
    "NotIpAddress": _Base(_ip, True, False),
    "ArnEquals": _Base(_arn_like, False, True),
    "ArnLike": _Base(_arn_like, False, True),
    "ArnNotEquals": _Base(_arn_like, True, True),
    "ArnNotLike": _Base(_arn_like, True, True),
}

#: The condition operators without prefixes or the IfExists suffix.
BASE_OPERATORS: tuple[str, ...] = (*_BASES, "Null")
_SET_PREFIXES = ("ForAnyValue", "ForAllValues")


@dataclass(frozen=True, slots=True)
class Operator:
    """A parsed operator name such as ``ForAnyValue:StringLikeIfExists``."""

    base: str
    if_exists: bool = False
    set_operator: str = ""  # "", "ForAnyValue" or "ForAllValues"

    @property
    def negated(self) -> bool:
        """True for operators that hold when the value matches none of the listed values."""
        return self.base in _BASES and _BASES[self.base].negated

    def __str__(self) -> str:
        prefix = f"{self.set_operator}:" if self.set_operator else ""
        return f"{prefix}{self.base}{'IfExists' if self.if_exists else ''}"


@lru_cache(maxsize=256)
def parse_operator(name: str) -> Operator | None:
    """Parse an operator name; None if AWS would not recognise it."""
    set_operator = ""
    rest = name
    if ":" in name:
        set_operator, _, rest = name.partition(":")
        if set_operator not in _SET_PREFIXES:
            return None
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in BASE_OPERATORS or (base == "Null" and (if_exists or set_operator)):
        return None
    return Operator(base, if_exists, set_operator)


@lru_cache(maxsize=1)
def all_operator_names() -> tuple[str, ...]:
    """Every valid operator name, for did-you-mean suggestions."""
    names: list[str] = ["Null"]
    for base in _BASES:
        for suffix in ("", "IfExists"):
            names.append(base + suffix)
            names.extend(f"{p}:{base}{suffix}" for p in _SET_PREFIXES)
    return tuple(names)


def condition_values(raw: object) -> tuple[str, ...]:
    """The values listed for one key, as strings (JSON true becomes ``"true"``)."""
    if isinstance(raw, list | tuple):
        return tuple(_text(v) for v in raw)
    return (_text(raw),)


def _key_predicate(
    op: Operator, key: str, values: tuple[str, ...], variables: bool
) -> ConditionPredicate:
    key = key.lower()
    if op.base == "Null":
        wants_missing = {v.lower() for v in values}

        def null_check(ctx: NormalContext) -> bool:
            present = bool(ctx.get(key))
            return ("false" in wants_missing and present) or (
                "true" in wants_missing and not present
            )

        return null_check

    base = _BASES[op.base]
    compare = base.compare
    dynamic = variables and base.variables and any(has_variables(v) for v in values)

    def wanted_values(ctx: NormalContext) -> Sequence[str]:
        if not dynamic:
            return values
        out = []
        for v in values:
            filled = substitute(v, ctx, literal_wildcards=True)
            if filled is not None:
                out.append(filled)
        return out

    def one(value: object, wanted: Sequence[str]) -> bool:
        hit = any(compare(value, w) for w in wanted)
        return not hit if base.negated else hit

    def check(ctx: NormalContext) -> bool:
        found = ctx.get(key)
        if not found:
            if op.if_exists or op.set_operator == "ForAllValues":
                return True
            if op.set_operator == "ForAnyValue":
                return False
            return base.negated
        wanted = wanted_values(ctx)
        if op.set_operator == "ForAllValues":
            return all(one(v, wanted) for v in found)
        if op.set_operator == "ForAnyValue" or not base.negated:
            return any(one(v, wanted) for v in found)
        return all(one(v, wanted) for v in found)

    return check


def _never(_: NormalContext) -> bool:
    return False


def compile_condition(
    entries: Iterable[tuple[str, str, tuple[str, ...]]], variables: bool = True
) -> ConditionPredicate:
    """Compile a statement's conditions, given as (operator, key, values) entries, into one
    predicate over a normalised request context.

    An unknown operator makes the predicate always false, so the statement never applies;
    the grammar check reports it.
    """
    predicates: list[ConditionPredicate] = []
    for op_name, key, values in entries:
        op = parse_operator(op_name)
        if op is None:
            return _never
        predicates.append(_key_predicate(op, key, values, variables))

    if len(predicates) == 1:
        return predicates[0]

    def all_hold(ctx: NormalContext) -> bool:
        return all(p(ctx) for p in predicates)

    return all_hold
