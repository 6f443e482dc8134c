"""Least privilege: compare what a policy grants with what one step of a lab needs.

:func:`check_least_privilege` reports three things, each with a hint in the learner's terms:

* **missing** — needed permissions the policy does not grant, with the nearest miss
  explained (a placeholder left in, the table ARN where the stream ARN is needed, a typo, a
  Deny statement that blocks it, the wrong region …);
* **excess** — grants beyond the step, grouped as other resources (other tables, streams, log
  groups), other regions or accounts (notes only), other actions, and write access where the
  step only reads;
* the policy's own **problems** and **warnings** from :func:`parse_policy`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from labkit.iam import catalogue
from labkit.iam.arn import ArnTemplate, find_placeholders, placeholder_name, split_arn
from labkit.iam.document import Policy, Statement
from labkit.iam.evaluate import Decision, PolicyInput, PolicySet, StatementRef, compile_policies
from labkit.iam.lint import brackets_word, placeholder_advice, suggest_arn
from labkit.iam.matching import action_matcher, arn_matcher, compile_alternatives, has_wildcard
from labkit.iam.problems import Problem, did_you_mean
from labkit.iam.report import ExcessItem, ExcessKind, GrantedItem, MissingItem, PolicyReport

__all__ = [
    "DEFAULT_TOLERATED",
    "Requirement",
    "check_least_privilege",
    "lambda_log_requirements",
]

#: Grants accepted even though they are broader than a step needs. Creating a log group
#: anywhere is what AWS's own basic Lambda execution policy allows, and it is harmless.
DEFAULT_TOLERATED: tuple[tuple[str, str], ...] = (("logs:CreateLogGroup", "arn:aws:logs:*:*:*"),)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One permission a step needs: an action on a concrete resource ARN."""

    action: str
    resource: str


def lambda_log_requirements(
    function_name: str,
    region: str,
    account: str,
    stream: str = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
) -> tuple[Requirement, ...]:
    """What a Lambda function needs to write its logs to CloudWatch Logs."""
    group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name}"
    return (
        Requirement("logs:CreateLogGroup", group),
        Requirement("logs:CreateLogStream", f"{group}:log-stream:{stream}"),
        Requirement("logs:PutLogEvents", f"{group}:log-stream:{stream}"),
    )


def _as_requirement(item: Requirement | tuple[str, str]) -> Requirement:
    return item if isinstance(item, Requirement) else Requirement(item[0], item[1])


def _join(items: Iterable[str], limit: int = 6) -> str:
    items = list(dict.fromkeys(items))
    if len(items) > limit:
        shown = items[: limit - 1]
        return ", ".join(shown) + f" and {len(items) - len(shown)} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(type_name: str) -> str:
    return type_name.replace("-", " ") + "s"


def _short(resource: str) -> str:
    parts = split_arn(resource)
    return parts[5] if parts else resource


def _templates(action: catalogue.ActionInfo | None, resource: str) -> list[ArnTemplate]:
    """The templates that describe ``resource`` for ``action``.

    For actions without resource-level permissions, the types ``resource`` itself has.
    """
    if action is not None and action.has_resource_level:
        return list(catalogue.templates_for(action))
    found: list[ArnTemplate] = []
    for svc, type_name in sorted(catalogue.fitting_types(resource)):
        tmpl = catalogue.resource_templates(svc).get(type_name)
        if tmpl is not None:
            found.append(tmpl)
    return found


def _binding(
    action: catalogue.ActionInfo | None, resource: str
) -> tuple[ArnTemplate, dict[str, str]]:
    templates = _templates(action, resource)
    for tmpl in templates:
        if tmpl.fits(resource, strict=True):
            bound = tmpl.bind(resource)
            if bound is not None:
                return tmpl, bound
    for tmpl in templates:
        bound = tmpl.bind(resource)
        if bound is not None:
            return tmpl, bound
    raise LookupError(resource)


def _suggested(action: catalogue.ActionInfo | None, resource: str, like: str = "") -> str:
    """The narrowest sensible Resource for ``resource``: parts below the name become ``*``.

    ``…:table/ReduceTable/stream/2024-…`` gives ``…:table/ReduceTable/stream/*``. The
    partition, region and account are taken from ``like`` (what the learner wrote) if given.
    """
    parts = split_arn(resource)
    if parts is None:
        return resource
    written = split_arn(like)
    if written is not None and written[0] == "arn":
        parts = [parts[0], written[1], parts[2], written[3], written[4], parts[5]]
    try:
        tmpl, bound = _binding(action, resource)
    except LookupError:
        return resource
    names = tmpl.variables
    values = {names[0]: bound[names[0]]} if names else {}
    return tmpl.fill(parts[1], parts[3], parts[4], values)


def _display(resource: str) -> str:
    """A short name for a resource: ``table/ReduceTable/stream/*`` rather than the full ARN."""
    return _short(_suggested(None, resource))


def _probe(
    pattern: str,
    tmpl: ArnTemplate,
    resource: str,
    bound: dict[str, str],
    part: str,
) -> bool:
    """True if ``pattern`` also matches a resource that differs from ``resource`` in ``part``."""
    parts = split_arn(resource)
    if parts is None:
        return False
    partition, region, account = parts[1], parts[3], parts[4]
    match = arn_matcher(pattern)
    if part == "name":
        if not tmpl.variables:
            return False
        name = tmpl.variables[0]
        value = bound[name]
        probes = [value + "Q", "Q" + value, "QQQ", value[:-1] + ("Q" if value[-1:] != "Q" else "R")]
        return any(match(tmpl.fill(partition, region, account, {**bound, name: p})) for p in probes)
    if part == "region":
        if "${Region}" not in tmpl.template or not region:
            return False
        probes = [region + "Q", "zz-probe-9", region[:-1] + ("9" if region[-1:] != "9" else "8")]
        return any(match(tmpl.fill(partition, p, account, bound)) for p in probes)
    if "${Account}" not in tmpl.template or not account:
        return False
    probes = ["000000000000" if account != "000000000000" else "111111111111", account + "0"]
    return any(match(tmpl.fill(partition, region, p, bound)) for p in probes)


# ---------------------------------------------------------------------------------------------
# Missing permissions


def _action_test(stmt: Statement) -> tuple[list[str], bool]:
    if stmt.actions is not None:
        return list(stmt.actions), False
    return list(stmt.not_actions or ()), True


def _stmt_allows_action(stmt: Statement, action: str) -> bool:
    patterns, negated = _action_test(stmt)
    if not patterns:
        return False
    return compile_alternatives(patterns)(action) != negated


def _stmt_covers_resource(stmt: Statement, resource: str) -> bool:
    if stmt.resources is not None:
        return any(arn_matcher(p)(resource) for p in stmt.resources)
    if stmt.not_resources is not None:
        return not any(arn_matcher(p)(resource) for p in stmt.not_resources)
    return False


def _placeholder_value(name: str, wanted: list[str] | None) -> str:
    """What to write for a placeholder: the request's own region or account when known."""
    key = name.lower().replace("-", "")
    if wanted is not None and key == "region" and wanted[3]:
        return f"`{wanted[3]}` (or `*`)"
    if wanted is not None and key in ("account", "accountid") and wanted[4]:
        return f"`{wanted[4]}` (or `*`)"
    return placeholder_advice(name)


def _diagnose(pattern: str, req: Requirement, info: catalogue.ActionInfo | None) -> tuple[str, str]:
    """Why the Resource entry ``pattern`` misses ``req.resource``, and what to write instead
    (every ARN suggested matches ``req.resource`` and is no broader than the step needs)."""
    target = f"`{_suggested(info, req.resource)}`"
    if info is not None and not info.has_resource_level:
        target = f'{target} (or `"*"`, since {info.full_name} cannot be narrowed)'
    placeholders = list(dict.fromkeys(find_placeholders(pattern)))
    parts = split_arn(pattern)
    wanted = split_arn(req.resource)
    if placeholders:
        advice = "; ".join(
            f"{p} → {_placeholder_value(placeholder_name(p), wanted)}" for p in placeholders
        )
        return (
            f"the Resource {pattern} still contains the placeholder "
            f"{', '.join(placeholders)}, so it matches no real ARN.",
            f"Replace each placeholder, {brackets_word(placeholders)} included ({advice}): "
            f"{target}.",
        )
    if not pattern.startswith("arn:") or wanted is None:
        return (f"the Resource {pattern} is not an ARN.", f"Use {target}.")
    try:
        tmpl, have = _binding(info, req.resource)
    except LookupError:
        tmpl, have = None, {}
    fits = (
        catalogue.action_fits(info, pattern)
        if info is not None and info.has_resource_level
        else tmpl is None or tmpl.fits(pattern)
    )
    if not fits:
        kinds = sorted({t for _, t in catalogue.fitting_types(pattern)})
        given = f"a {kinds[0]} ARN" if len(kinds) == 1 else "an ARN of another kind"
        if info is not None and info.has_resource_level:
            needed = " or ".join(f"a {t}" for t in info.resource_types[:2])
            suggested = suggest_arn(info, (pattern,))
            fix_arn = (
                f"`{suggested}`" if suggested and arn_matcher(suggested)(req.resource) else target
            )
        else:
            needed = f"a {tmpl.type_name}" if tmpl is not None else "another kind of"
            fix_arn = target
        return (
            f"{pattern} is {given}, but {req.action} is needed on {needed} ARN.",
            f"Use {fix_arn} for {req.action}.",
        )
    if parts is not None:
        labels = ("", "partition", "service", "region", "account ID")
        for index in (2, 1, 3, 4):
            if arn_matcher(parts[index])(wanted[index]):
                continue
            if index == 3:
                fix = f"Change the region to {wanted[3]} (or use * for any region): {target}."
            elif index == 4:
                fix = f"Change the account ID to {wanted[4]} (or use *): {target}."
            else:
                fix = f"Use {target}."
            return (
                f"{pattern} names the {labels[index]} {parts[index] or '(empty)'}, but the "
                f"resource is in {wanted[index]}.",
                fix,
            )
    written = tmpl.bind(pattern) if tmpl is not None else None
    if tmpl is not None and written is not None:
        for position, var in enumerate(tmpl.variables):
            if arn_matcher(written[var])(have[var]):
                continue
            if position == 0:
                return (
                    f"{pattern} names the {tmpl.type_name.replace('-', ' ')} {written[var]}, "
                    f"but the step uses {have[var]}.",
                    f"Change {written[var]} to {have[var]}: {target}.",
                )
            return (
                f"the {var} part of {pattern} ({written[var]}) does not match {have[var]}.",
                f"Use * for it: {target}.",
            )
    return (f"{pattern} does not cover {req.resource}.", f"Use {target}.")


def _closeness(pattern: str, resource: str) -> float:
    return difflib.SequenceMatcher(None, pattern, resource).ratio()


def _missing(
    policies: tuple[Policy, ...],
    policy_set: PolicySet,
    req: Requirement,
    context: Mapping[str, object] | None,
) -> MissingItem | GrantedItem:
    result = policy_set.evaluate(req.action, req.resource, context)
    info = catalogue.lookup_action(req.action)
    target = _suggested(info, req.resource)
    if result.decision is Decision.ALLOW:
        return GrantedItem(req.action, req.resource, result.decided_by, target)
    short = _display(req.resource)

    def item(
        message: str,
        fix: str,
        blocked: StatementRef | None = None,
        near: tuple[Policy, Statement] | None = None,
    ) -> MissingItem:
        ref = None
        if near is not None:
            ref = StatementRef(near[0].name, near[1].index, near[1].sid, "Allow")
        return MissingItem(req.action, req.resource, message, fix, blocked, target, ref)

    if result.decision is Decision.EXPLICIT_DENY:
        return item(
            f"the Deny statement {result.decided_by} blocks it, and a Deny always wins over "
            "any Allow.",
            f"Remove `{req.action}` from that Deny statement, or narrow its Resource so that "
            f"it no longer covers `{short}`.",
            result.decided_by,
        )

    allows = [(p, s) for p in policies for s in p.statements if s.effect == "Allow"]
    # 1. A misspelt action whose closest real action is the one needed.
    for policy, stmt in allows:
        for entry in stmt.actions or ():
            if has_wildcard(entry) or catalogue.lookup_action(entry) is not None:
                continue
            guess = catalogue.suggest_action(entry)
            if guess is not None and guess.lower() == req.action.lower():
                return item(
                    f'{policy.name} {stmt.label} lists "{entry}", which is not an AWS action, '
                    f"so nothing grants {req.action}.",
                    f'Change `"{entry}"` to `"{req.action}"`.',
                    near=(policy, stmt),
                )
    # 2. The action is allowed, but on other resources (or only under a condition).
    near: list[tuple[float, Policy, Statement, str]] = []
    for policy, stmt in allows:
        if not _stmt_allows_action(stmt, req.action):
            continue
        if _stmt_covers_resource(stmt, req.resource):
            return item(
                f"{policy.name} {stmt.label} would allow it, but its Condition does not hold "
                "for this request.",
                "Check the Condition block of that statement, or remove it.",
                near=(policy, stmt),
            )
        near.extend((_closeness(p, req.resource), policy, stmt, p) for p in stmt.resources or ())
    if near:
        _, policy, stmt, pattern = max(near, key=lambda n: n[0])
        message, fix = _diagnose(pattern, req, info)
        return item(f"in {policy.name} {stmt.label}, {message}", fix, near=(policy, stmt))
    # 3. The resource is covered, but by statements that allow other actions.
    for policy, stmt in allows:
        if not _stmt_covers_resource(stmt, req.resource):
            continue
        listed = list(stmt.actions or ())
        close = did_you_mean(req.action, listed, cutoff=0.75)
        fix = (
            f"In that statement's Action list, replace `{close}` with `{req.action}`."
            if close
            else f"Add `{req.action}` to that statement's Action list."
        )
        return item(
            f"{policy.name} {stmt.label} covers {short} but allows only {_join(listed)}, not "
            f"{req.action}.",
            fix,
            near=(policy, stmt),
        )
    return item(
        f"no statement allows {req.action} on {short}.",
        f"Add a statement that allows `{req.action}` on `{target}`.",
    )


# ---------------------------------------------------------------------------------------------
# Excess grants


@dataclass
class _Bucket:
    actions: list[str] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    narrow: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)


_BucketKey = tuple[ExcessKind, StatementRef, str]


@dataclass
class _Needs:
    """The step's requirements, indexed for the excess analysis."""

    by_action: dict[str, list[str]]
    read_only: set[str]
    infos: list[catalogue.ActionInfo]
    missing_actions: set[str]

    @classmethod
    def of(cls, reqs: list[Requirement], missing: list[MissingItem]) -> _Needs:
        by_action: dict[str, list[str]] = {}
        by_resource: dict[str, list[catalogue.ActionInfo | None]] = {}
        for req in reqs:
            by_action.setdefault(req.action.lower(), []).append(req.resource)
            by_resource.setdefault(req.resource, []).append(catalogue.lookup_action(req.action))
        read_only = {
            r
            for r, infos in by_resource.items()
            if all(i is not None and not i.is_write for i in infos)
        }
        infos = [i for i in map(catalogue.lookup_action, by_action) if i is not None]
        return cls(by_action, read_only, infos, {m.action.lower() for m in missing})

    def all_resources(self) -> set[str]:
        return {r for rs in self.by_action.values() for r in rs}


def _excess(
    policies: tuple[Policy, ...],
    policy_set: PolicySet,
    needs: _Needs,
    tolerated: tuple[tuple[str, str], ...],
) -> list[ExcessItem]:
    items: list[ExcessItem] = []
    buckets: dict[_BucketKey, _Bucket] = {}

    def bucket(kind: ExcessKind, ref: StatementRef, pattern: str) -> _Bucket:
        return buckets.setdefault((kind, ref, pattern), _Bucket())

    def is_tolerated(action: str, pattern: str) -> bool:
        return any(action_matcher(ta)(action) and arn_matcher(tr)(pattern) for ta, tr in tolerated)

    for policy in policies:
        for stmt in policy.statements:
            if stmt.effect != "Allow":
                continue
            ref = StatementRef(policy.name, stmt.index, stmt.sid, "Allow")
            concrete, special = _granted_actions(stmt, ref, needs)
            items.extend(special)
            if stmt.not_resources is not None and stmt.resources is None:
                items.append(
                    ExcessItem(
                        ExcessKind.OTHER_RESOURCES,
                        (ref,),
                        tuple(dict.fromkeys(i.full_name for i, _ in concrete)),
                        "",
                        "NotResource allows its actions on every resource except "
                        f"{_join(stmt.not_resources)}.",
                        "Use Resource with the exact ARNs the step needs instead of NotResource.",
                    )
                )
                continue
            seen: set[tuple[str, str]] = set()
            for info, origin in concrete:
                for pattern in stmt.resources or ():
                    key = (info.full_name, pattern)
                    if key in seen or find_placeholders(pattern):
                        continue
                    seen.add(key)
                    if not catalogue.action_fits(info, pattern):
                        continue
                    if is_tolerated(info.full_name, pattern):
                        continue
                    denied = policy_set.evaluate(info.full_name, pattern).decision
                    if denied is Decision.EXPLICIT_DENY:
                        continue
                    _classify(info, origin, pattern, ref, needs, bucket)

    notes: list[tuple[StatementRef, _Bucket]] = []
    for (kind, ref, pattern), b in buckets.items():
        if kind is ExcessKind.OTHER_REGIONS_OR_ACCOUNTS:
            notes.append((ref, b))
        else:
            items.append(_describe(kind, ref, pattern, b, needs))
    if notes:
        items.append(_describe_notes(notes))
    order = list(ExcessKind)
    items.sort(key=lambda e: (not e.fails, order.index(e.kind), e.where))
    return items


def _granted_actions(
    stmt: Statement, ref: StatementRef, needs: _Needs
) -> tuple[list[tuple[catalogue.ActionInfo, str]], list[ExcessItem]]:
    """The concrete actions an Allow statement grants (with the entry each came from), plus
    items for entries too broad to list (``*``, wildcard services, NotAction)."""
    concrete: list[tuple[catalogue.ActionInfo, str]] = []
    special: list[ExcessItem] = []
    if stmt.not_actions is not None and stmt.actions is None:
        special.append(
            ExcessItem(
                ExcessKind.OTHER_ACTIONS,
                (ref,),
                ("NotAction",),
                "",
                "NotAction allows every action of every AWS service except "
                f"{_join(stmt.not_actions)}.",
                "Use Action with the exact actions the step needs instead of NotAction.",
            )
        )
        concrete = [(i, "NotAction") for i in needs.infos if _stmt_allows_action(stmt, i.full_name)]
    for entry in stmt.actions or ():
        service = entry.partition(":")[0]
        if entry == "*" or has_wildcard(service):
            scope = "every AWS service" if entry == "*" else "several AWS services"
            special.append(
                ExcessItem(
                    ExcessKind.OTHER_ACTIONS,
                    (ref,),
                    (entry,),
                    "",
                    f'"{entry}" allows every action of {scope}, far more than the step needs.',
                    f'Replace "{entry}" with the exact actions the step needs.',
                )
            )
            match = action_matcher(entry)
            concrete.extend((i, entry) for i in needs.infos if match(i.full_name))
        else:
            concrete.extend((i, entry) for i in catalogue.expand_action(entry))
    return concrete, special


def _classify(
    info: catalogue.ActionInfo,
    origin: str,
    pattern: str,
    ref: StatementRef,
    needs: _Needs,
    get: Callable[[ExcessKind, StatementRef, str], _Bucket],
) -> None:
    """Put one granted (action, Resource entry) into the right excess bucket, if any."""
    match = arn_matcher(pattern)
    resources = needs.by_action.get(info.full_name.lower())
    if resources is None:
        reached = {r for r in needs.all_resources() if match(r) and catalogue.action_fits(info, r)}
        kind = (
            ExcessKind.WRITE_ACCESS
            if info.is_write and reached & needs.read_only
            else ExcessKind.OTHER_ACTIONS
        )
        b = get(kind, ref, pattern)
        b.actions.append(info.full_name)
        b.origins.add(origin)
        b.names.update(_display(r) for r in reached & needs.read_only)
        return
    if not info.has_resource_level:
        return
    matched = [r for r in resources if match(r)]
    if not matched:
        # The action is needed, but elsewhere. Writing where the step only reads is worth its
        # own item; otherwise, if the action is still missing, the missing item says what to
        # correct, and if not, this grant is simply extra.
        reached = {r for r in needs.all_resources() if match(r) and catalogue.action_fits(info, r)}
        if info.is_write and reached & needs.read_only:
            b = get(ExcessKind.WRITE_ACCESS, ref, pattern)
            b.origins.add(origin)
            b.names.update(_display(r) for r in reached & needs.read_only)
        elif info.full_name.lower() not in needs.missing_actions:
            b = get(ExcessKind.OTHER_RESOURCES, ref, pattern)
            b.names.update(_display(r) for r in resources)
        else:
            return
        b.actions.append(info.full_name)
        return
    for r in matched:
        try:
            tmpl, bound = _binding(info, r)
        except LookupError:
            continue
        parts = split_arn(r)
        if _probe(pattern, tmpl, r, bound, "name"):
            b = get(ExcessKind.OTHER_RESOURCES, ref, pattern)
            b.actions.append(info.full_name)
            b.types.add(tmpl.type_name)
            b.names.add(bound[tmpl.variables[0]] if tmpl.variables else _display(r))
            b.narrow.add(_suggested(info, r, like=pattern))
            return
        region = parts is not None and _probe(pattern, tmpl, r, bound, "region")
        account = parts is not None and _probe(pattern, tmpl, r, bound, "account")
        if parts is not None and (region or account):
            b = get(ExcessKind.OTHER_REGIONS_OR_ACCOUNTS, ref, pattern)
            b.actions.append(info.full_name)
            if region:
                b.regions.add(parts[3])
            if account:
                b.accounts.add(parts[4])


def _proper_name(action: str) -> str:
    info = catalogue.lookup_action(action)
    return info.full_name if info is not None else action


def _describe(
    kind: ExcessKind, ref: StatementRef, pattern: str, b: _Bucket, needs: _Needs
) -> ExcessItem:
    actions = tuple(dict.fromkeys(b.actions))
    names = _join(actions)
    where = 'every resource ("*")' if pattern == "*" else pattern
    match = arn_matcher(pattern)
    services = {a.partition(":")[0].lower() for a in actions}
    wanted = sorted(
        _proper_name(a)
        for a, rs in needs.by_action.items()
        if a.partition(":")[0] in services and any(match(r) for r in rs)
    )
    wild = sorted(o for o in b.origins if has_wildcard(o))
    needed_here = [a for a in actions if a.lower() in needs.by_action]
    if wild:
        fix = f"Replace {_join(wild)} with only the actions the step needs"
        fix += f": {_join(wanted, limit=20)}." if wanted else "."
    elif needed_here:
        targets = sorted(
            {
                _suggested(catalogue.lookup_action(a), r, like=pattern)
                for a in needed_here
                for r in needs.by_action[a.lower()]
            }
        )
        fix = (
            f"Give {_join(needed_here)} a statement of its own whose Resource is only "
            f"{_join(targets, limit=20)}."
        )
    else:
        fix = f"Remove {names} from this statement."

    if kind is ExcessKind.OTHER_ACTIONS:
        count = len(actions)
        message = (
            f"also allows {count} action{'s' if count != 1 else ''} the step does not use, on "
            f"{where}: {names}."
        )
        return ExcessItem(kind, (ref,), actions, pattern, message, fix)
    if kind is ExcessKind.WRITE_ACCESS:
        message = (
            f"lets the function change {_join(sorted(b.names))}, which the step only reads "
            f"({names})."
        )
        return ExcessItem(kind, (ref,), actions, pattern, message, fix)
    if b.types:
        kinds = " and ".join(_plural(t) for t in sorted(b.types))
        message = (
            f"allows {names} on {where}, which reaches other {kinds} too; the step only "
            f"needs {_join(sorted(b.names))}."
        )
        fix = f"Narrow the Resource to {_join(sorted(b.narrow), limit=20)}."
    else:
        message = (
            f"allows {names} on {where} as well, which the step does not use (it needs "
            f"{_join(sorted(b.names))})."
        )
    return ExcessItem(kind, (ref,), actions, pattern, message, fix)


def _describe_notes(notes: list[tuple[StatementRef, _Bucket]]) -> ExcessItem:
    refs = tuple(dict.fromkeys(ref for ref, _ in notes))
    actions = tuple(dict.fromkeys(a for _, b in notes for a in b.actions))
    regions = sorted({r for _, b in notes for r in b.regions})
    accounts = sorted({a for _, b in notes for a in b.accounts})
    scope = " and ".join(
        part for part, used in (("region", regions), ("account", accounts)) if used
    )
    others = " and ".join(
        part for part, used in (("regions", regions), ("accounts", accounts)) if used
    )
    exact = _join([*regions, *accounts])
    message = (
        f"these Resources use * for the {scope}, so they also match resources with the same "
        f"names in other {others}."
    )
    fix = f"That is fine for this lab; to be strict, write {exact} instead of the *."
    return ExcessItem(
        ExcessKind.OTHER_REGIONS_OR_ACCOUNTS, refs, actions, "", message, fix, fails=False
    )


# ---------------------------------------------------------------------------------------------


def check_least_privilege(
    policies: PolicyInput,
    required: Iterable[Requirement | tuple[str, str]],
    *,
    context: Mapping[str, object] | None = None,
    tolerated: Iterable[tuple[str, str]] = DEFAULT_TOLERATED,
    title: str | None = None,
) -> PolicyReport:
    """Check that ``policies`` grant every required (action, resource) pair and little more.

    ``tolerated`` lists (action pattern, resource pattern) grants that are accepted even
    though they are broader than the step needs.
    """
    policy_set = compile_policies(policies)
    parsed = policy_set.policies
    reqs = [_as_requirement(r) for r in required]
    granted: list[GrantedItem] = []
    missing: list[MissingItem] = []
    for req in reqs:
        outcome = _missing(parsed, policy_set, req, context)
        if isinstance(outcome, GrantedItem):
            granted.append(outcome)
        else:
            missing.append(outcome)
    excess = _excess(parsed, policy_set, _Needs.of(reqs, missing), tuple(tolerated))
    several = len(parsed) > 1
    problems = tuple(p for pol in parsed for p in _named(pol, errors=True, prefix=several))
    warnings = tuple(p for pol in parsed for p in _named(pol, errors=False, prefix=several))
    name = title or _join([p.name for p in parsed]) or "policy"
    return PolicyReport(
        title=name,
        granted=tuple(granted),
        missing=tuple(missing),
        excess=tuple(excess),
        warnings=warnings,
        problems=problems,
    )


def _named(policy: Policy, errors: bool, prefix: bool) -> list[Problem]:
    """The policy's errors (or warnings), with its name in ``where`` if there are several."""
    found = [p for p in policy.problems if p.is_error == errors]
    if not prefix:
        return found
    return [
        dataclasses.replace(p, where=f"{policy.name}, {p.where}" if p.where else policy.name)
        for p in found
    ]
