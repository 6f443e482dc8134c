"""Policy variables such as ``${aws:username}``, filled in from the request context.

Only policies with ``"Version": "2012-10-17"`` use variables; in older policies ``${…}`` is
plain text. ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters, and
``${aws:username, 'nobody'}`` gives a default for a key the request does not carry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

__all__ = ["ContextValue", "NormalContext", "has_variables", "normalise_context", "substitute"]

#: A value in a request context: a scalar, a list of scalars (a multivalued key) or None.
ContextValue = object
#: A context with lower-case keys and every value as a tuple of scalars.
NormalContext = Mapping[str, tuple[object, ...]]

_VARIABLE_RE = re.compile(r"\$\{([^}*?$][^},]*)(?:,\s*'([^']*)')?\}")


def has_variables(text: str) -> bool:
    """True if ``text`` uses a policy variable (escapes such as ``${*}`` do not count)."""
    return _VARIABLE_RE.search(text) is not None


def normalise_context(context: Mapping[str, object] | None) -> dict[str, tuple[object, ...]]:
    """Lower-case the keys and turn every value into a tuple; None values are dropped."""
    if not context:
        return {}
    out: dict[str, tuple[object, ...]] = {}
    for key, value in context.items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            out[key.lower()] = tuple(value)
        elif isinstance(value, set | frozenset):
            out[key.lower()] = tuple(sorted(value, key=str))
        else:
            out[key.lower()] = (value,)
    return out


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def substitute(text: str, context: NormalContext, *, literal_wildcards: bool) -> str | None:
    """``text`` with each variable replaced by its single value from ``context``.

    Returns None if a variable has no value (and no default) or has several: AWS then treats
    the entry as matching nothing. With ``literal_wildcards`` a ``*`` or ``?`` inside a value
    is escaped, so that a user called ``a*`` does not match every user.
    """
    missing = False

    def replace(m: re.Match[str]) -> str:
        nonlocal missing
        values = context.get(m.group(1).strip().lower())
        if values is None or len(values) != 1:
            if m.group(2) is not None:
                value = m.group(2)
            else:
                missing = True
                return ""
        else:
            value = _as_text(values[0])
        if literal_wildcards:
            value = value.replace("$", "${$}").replace("*", "${*}").replace("?", "${?}")
        return value

    result = _VARIABLE_RE.sub(replace, text)
    return None if missing else result
