"""Checks of one statement's actions, ARNs and condition keys against the AWS catalogue."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from labkit.iam import catalogue
from labkit.iam.arn import (
    PARTITIONS,
    ArnTemplate,
    find_placeholders,
    is_account,
    is_region,
    placeholder_name,
)
from labkit.iam.matching import has_wildcard
from labkit.iam.problems import Problem, Severity, did_you_mean
from labkit.iam.variables import has_variables

if TYPE_CHECKING:
    from labkit.iam.document import Statement

__all__ = [
    "brackets_word",
    "describe_template",
    "placeholder_advice",
    "statement_problems",
    "suggest_arn",
]

_PLACEHOLDER_ADVICE = {
    "partition": "aws",
    "region": "your region (for example eu-west-1) or *",
    "account": "your 12-digit account ID or *",
    "accountid": "your 12-digit account ID or *",
    "tablename": "the table's name, for example ReduceTable",
    "streamlabel": "* (the label changes each time the stream is turned on)",
    "loggroupname": "the log group's name, for example /aws/lambda/ReduceLambda",
    "functionname": "the function's name",
}
_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def placeholder_advice(name: str) -> str:
    """What a learner should write instead of the placeholder ``name``."""
    return _PLACEHOLDER_ADVICE.get(name.lower().replace("-", ""), "the real value")


def brackets_word(placeholders: list[str]) -> str:
    """How to call the brackets around these placeholders, for "… included"."""
    if all(p.startswith("<") for p in placeholders):
        return "angle brackets"
    if any(p.startswith("<") for p in placeholders):
        return "brackets"
    return "curly braces"


def describe_template(tmpl: ArnTemplate) -> str:
    """A template written for people: ``arn:aws:dynamodb:<Region>:<Account>:table/<TableName>``."""
    text = tmpl.template.replace("${Partition}", "aws")
    return _VAR_RE.sub(lambda m: f"<{m.group(1)}>", text)


def suggest_arn(action: catalogue.ActionInfo, written: tuple[str, ...]) -> str | None:
    """An ARN of the right type for ``action``, built from what the learner wrote.

    ``dynamodb:GetRecords`` with ``arn:aws:dynamodb:*:*:table/ReduceTable`` gives
    ``arn:aws:dynamodb:*:*:table/ReduceTable/stream/*``.
    """
    wanted = catalogue.templates_for(action)
    if not wanted:
        return None
    target = wanted[0]
    for pattern in written:
        parts = pattern.split(":", 5)
        if len(parts) != 6 or parts[2] != action.service:
            continue
        values: dict[str, str] = {}
        for svc, type_name in sorted(catalogue.fitting_types(pattern)):
            tmpl = catalogue.resource_templates(svc).get(type_name)
            bound = tmpl.bind(pattern) if tmpl else None
            if bound:
                values = bound
                break
        return target.fill(parts[1], parts[3], parts[4], values)
    return None


def _action_problems(entry: str, where: str) -> list[Problem]:
    def err(code: str, message: str, fix: str) -> Problem:
        return Problem(code, Severity.ERROR, where, message, fix)

    if entry == "*":
        return []
    if entry != entry.strip() or " " in entry:
        return [
            err(
                "bad-action",
                f'"{entry}" contains a space.',
                f'Write it without spaces: "{"".join(entry.split())}".',
            )
        ]
    service, sep, name = entry.partition(":")
    if not sep or not service or not name:
        return [
            err(
                "bad-action-format",
                f'"{entry}" is not written as service:Action.',
                'Put the service prefix and a colon in front, for example "dynamodb:GetItem".',
            )
        ]
    if has_wildcard(service):
        if not catalogue.any_action_matches(entry):
            return [
                err(
                    "wildcard-matches-nothing",
                    f'"{entry}" does not match any AWS action.',
                    "Write the service prefix in full, for example dynamodb:Get*.",
                )
            ]
        return []
    if service.lower() not in catalogue.services():
        guess = catalogue.suggest_service(service)
        return [
            err(
                "unknown-service",
                f'"{service}" is not an AWS service prefix.'
                + (f' Did you mean "{guess}"?' if guess else ""),
                f'Change it to "{guess}:{name}".'
                if guess
                else "Check the prefix: DynamoDB is dynamodb, CloudWatch Logs is logs.",
            )
        ]
    title = catalogue.service_title(service.lower())
    if has_wildcard(name):
        if not catalogue.expand_action(entry):
            return [
                err(
                    "wildcard-matches-nothing",
                    f'"{entry}" does not match any action of {title}.',
                    "Check the spelling of the part before or after the *.",
                )
            ]
        return []
    if catalogue.lookup_action(entry) is None:
        guess = catalogue.suggest_action(entry)
        return [
            err(
                "unknown-action",
                f'"{entry}" is not an action of {title}.'
                + (f' Did you mean "{guess}"?' if guess else ""),
                f'Change it to "{guess}".'
                if guess
                else "Check the spelling against the service's list of actions.",
            )
        ]
    return []


def _resource_problems(entry: str, where: str, variables: bool) -> list[Problem]:
    def err(code: str, message: str, fix: str, warn: bool = False) -> Problem:
        return Problem(code, Severity.WARNING if warn else Severity.ERROR, where, message, fix)

    if entry == "*":
        return []
    placeholders = find_placeholders(entry)
    if placeholders:
        shown = ", ".join(placeholders)
        advice = "; ".join(
            f"{p} → {placeholder_advice(placeholder_name(p))}" for p in dict.fromkeys(placeholders)
        )
        return [
            err(
                "placeholder-in-arn",
                f"The ARN {entry} still contains the placeholder {shown} from the template.",
                f"Replace each placeholder, {brackets_word(placeholders)} included: {advice}.",
            )
        ]
    out: list[Problem] = []
    if has_variables(entry) and not variables:
        out.append(
            err(
                "variable-in-old-version",
                f"{entry} uses a policy variable, but without "
                '"Version": "2012-10-17" AWS reads it as plain text.',
                'Set "Version": "2012-10-17".',
                warn=True,
            )
        )
    if any(ch.isspace() for ch in entry):
        return [
            *out,
            err(
                "malformed-arn",
                f'The ARN "{entry}" contains a space.',
                "Remove the spaces; an ARN never contains any.",
            ),
        ]
    parts = entry.split(":", 5)
    if parts[0] != "arn":
        fix = (
            f"Write the full ARN, for example arn:aws:dynamodb:*:*:table/{entry}."
            if re.fullmatch(r"[A-Za-z0-9_.-]+", entry)
            else "An ARN starts with arn:aws: followed by the service, region, account and "
            "resource."
        )
        return [*out, err("malformed-arn", f'"{entry}" is not an ARN.', fix)]
    if len(parts) < 6 and not entry.endswith("*"):
        return [
            *out,
            err(
                "malformed-arn",
                f"The ARN {entry} has {len(parts)} parts separated by colons; an ARN has six "
                "(arn:partition:service:region:account:resource).",
                "Add the missing parts; use * for a part you do not want to fix.",
            ),
        ]
    partition = parts[1] if len(parts) > 1 else ""
    if partition not in PARTITIONS and not has_wildcard(partition):
        out.append(
            err(
                "malformed-arn",
                f'"{partition}" in {entry} is not an AWS partition.',
                'Use "aws" here (arn:aws:…).',
            )
        )
    service = parts[2] if len(parts) > 2 else ""
    if has_wildcard(service):
        out.append(
            err(
                "malformed-arn",
                f"The service part of {entry} uses a wildcard, which AWS does not allow.",
                "Write the service name, for example dynamodb or logs.",
            )
        )
    elif service and service not in catalogue.services():
        guess = catalogue.suggest_service(service)
        out.append(
            err(
                "unknown-arn-service",
                f'"{service}" in {entry} is not a known AWS service name.'
                + (f' Did you mean "{guess}"?' if guess else ""),
                f'Change it to "{guess}".' if guess else "Check the service name.",
                warn=True,
            )
        )
    region = parts[3] if len(parts) > 3 else ""
    if region and not has_wildcard(region) and not is_region(region):
        fix = (
            f'Write it in lower case: "{region.lower()}".'
            if is_region(region.lower())
            else 'Use a region code such as "eu-west-1", or * for any region.'
        )
        out.append(err("bad-region", f'"{region}" in {entry} is not an AWS region code.', fix))
    account = parts[4] if len(parts) > 4 else ""
    if account and not has_wildcard(account) and not is_account(account):
        digits = re.sub(r"\D", "", account)
        fix = (
            f'Remove the dashes: "{digits}".'
            if len(digits) == 12
            else "Use the 12-digit account ID without dashes, or *."
        )
        out.append(err("bad-account", f'"{account}" in {entry} is not a 12-digit account ID.', fix))
    return out


def statement_problems(stmt: Statement, variables: bool) -> list[Problem]:
    """Catalogue, ARN and condition-key problems of one statement."""
    problems: list[Problem] = []
    for element, entries in (("Action", stmt.actions), ("NotAction", stmt.not_actions)):
        for entry in entries or ():
            problems.extend(_action_problems(entry, f"{stmt.label}, {element}"))
    bad_resources: set[str] = set()
    for element, entries in (("Resource", stmt.resources), ("NotResource", stmt.not_resources)):
        for entry in entries or ():
            found = _resource_problems(entry, f"{stmt.label}, {element}", variables)
            if any(p.is_error for p in found):
                bad_resources.add(entry)
            problems.extend(found)
    problems.extend(_fit_problems(stmt, bad_resources))
    problems.extend(_condition_key_problems(stmt))
    return problems


def _fit_problems(stmt: Statement, bad_resources: set[str]) -> list[Problem]:
    if not stmt.resources or not stmt.actions:
        return []
    resources = tuple(r for r in stmt.resources if r not in bad_resources)
    if not resources or "*" in resources:
        return []
    where = f"{stmt.label}, Resource"
    out: list[Problem] = []
    concrete = [catalogue.lookup_action(a) for a in stmt.actions if not has_wildcard(a)]
    known = [a for a in concrete if a is not None]
    mismatches: dict[tuple[str, str | None], list[catalogue.ActionInfo]] = {}
    for action in known:
        if not action.has_resource_level:
            out.append(
                Problem(
                    "no-resource-level",
                    Severity.WARNING,
                    where,
                    f"{action.full_name} cannot be narrowed to one resource: AWS checks it "
                    'against "*", not against an ARN.',
                    "Listing it next to specific ARNs is common and does no harm here, but "
                    'it is clearer in a statement of its own with "Resource": "*".',
                )
            )
            continue
        if any(catalogue.action_fits(action, r) for r in resources):
            continue
        kinds = " or ".join(
            f"{t.type_name} ARN ({describe_template(t)})"
            for t in catalogue.templates_for(action)[:2]
        )
        mismatches.setdefault((kinds, suggest_arn(action, resources)), []).append(action)
    for (kinds, suggestion), actions in mismatches.items():
        names = _join([a.full_name for a in actions])
        verb = "acts" if len(actions) == 1 else "act"
        them = "it" if len(actions) == 1 else "them"
        out.append(
            Problem(
                "resource-type-mismatch",
                Severity.ERROR,
                where,
                f"{names} {verb} on a {kinds}, but no Resource of this statement is one, so "
                f"this statement does not grant {them}.",
                f"Use {suggestion} as the Resource for {names}."
                if suggestion
                else f"Give {names} a Resource of that form.",
            )
        )
    mismatched = bool(mismatches)
    all_known = len(known) == len(stmt.actions) and all(a.has_resource_level for a in known)
    if not mismatched and all_known:
        for r in resources:
            if not any(catalogue.action_fits(a, r) for a in known):
                out.append(
                    Problem(
                        "resource-unused",
                        Severity.WARNING,
                        where,
                        f"None of this statement's actions works on {r}, so this entry has no "
                        "effect.",
                        "Remove it, or move it to the statement whose actions need it.",
                    )
                )
    return out


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _condition_key_problems(stmt: Statement) -> list[Problem]:
    out: list[Problem] = []
    for entry in stmt.conditions:
        service, sep, _ = entry.key.partition(":")
        if not sep or service.lower() == "aws":
            continue
        keys = catalogue.condition_keys(service)
        if not keys or entry.key.lower() in keys:
            continue
        if any(k.split("/")[0] == entry.key.lower().split("/")[0] for k in keys if "${" in k):
            continue
        guess = did_you_mean(entry.key, keys.values(), cutoff=0.6)
        out.append(
            Problem(
                "unknown-condition-key",
                Severity.WARNING,
                f"{stmt.label}, Condition",
                f'"{entry.key}" is not a condition key of {catalogue.service_title(service)}, so '
                "requests never carry it." + (f' Did you mean "{guess}"?' if guess else ""),
                f'Change it to "{guess}".' if guess else "Check the key's spelling.",
            )
        )
    return out
