"""Checks of lab 1: tables and streams, ReduceLambdaPolicy, connecting ReduceLambda.

Each check reads the real state through boto3 and judges it; none of them raises on a
learner's mistake (a missing table, a missing role …): the report says what is wrong instead.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from labkit.iam import (
    MissingItem,
    PolicyReport,
    Requirement,
    check_least_privilege,
    is_allowed,
    lambda_log_requirements,
)
from labkit.iam.least_privilege import DEFAULT_TOLERATED
from labkit.iam.problems import did_you_mean
from labkit.lab.names import FunctionId, TableId
from labkit.lab.policies import DYNAMODB_STREAM_READ
from labkit.lab.stack import KEYS, REDUCE_BATCH_SIZE, REDUCE_CONCURRENCY, STREAMS

from .context import CheckContext, error_code
from .mistakes import MISTAKES
from .report import CheckItem, Report, Status, passed, skipped, warning

__all__ = [
    "POLICY_TOLERATED",
    "check_connect_reduce",
    "check_reduce_policy",
    "check_tables",
    "reduce_policy_requirements",
    "role_policies",
]

#: Grants the policy check accepts although the step does not need them: creating a log group
#: anywhere (AWS's own basic execution policy does), and dynamodb:ListStreams, which the error
#: message for a mapping names and which cannot be narrowed to a resource anyway.
POLICY_TOLERATED: tuple[tuple[str, str], ...] = (
    *DEFAULT_TOLERATED,
    ("dynamodb:ListStreams", "*"),
)

#: Who reads each table's stream, and why its view type matters.
_READERS = {
    TableId.STATE: (
        "MapLambda",
        "MapLambda needs the old image as well as the new one: when a trade changes, it takes "
        "the trade's old value out of its old total.",
    ),
    TableId.REDUCE: (
        "ReduceLambda",
        "ReduceLambda reads the totals from each new ReduceTable item, so the records must "
        "carry the new image.",
    ),
}


# ---------------------------------------------------------------------------------------------
# lab1.step1: tables and streams


def _key_items(ctx: CheckContext, table: TableId, found: dict[str, Any]) -> list[CheckItem]:
    name = ctx.names.table(table)
    key = KEYS[table]
    label = f"{name} has the partition key {key} (a string)"
    schema = found.get("KeySchema", [])
    hashes = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"]
    types = {a["AttributeName"]: a["AttributeType"] for a in found.get("AttributeDefinitions", [])}
    if hashes != [key]:
        have = hashes[0] if hashes else "(none)"
        return [
            MISTAKES["wrong-key-name"].item(
                label, f"its partition key is {have}", table=name, key=key
            )
        ]
    if types.get(key, "S") != "S":
        kind = {"N": "a number (N)", "B": "binary (B)"}.get(types[key], types[key])
        return [
            MISTAKES["wrong-key-type"].item(
                label, f"{key} is declared as {kind}", table=name, key=key
            )
        ]
    if ranges:
        return [
            MISTAKES["sort-key"].item(
                label, f"it also has the sort key {ranges[0]}", table=name, key=key
            )
        ]
    return [passed(label)]


def _billing_item(ctx: CheckContext, table: TableId, found: dict[str, Any]) -> CheckItem:
    name = ctx.names.table(table)
    label = f"{name} uses on-demand capacity"
    mode = (found.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if mode == "PAY_PER_REQUEST":
        return passed(label)
    throughput = found.get("ProvisionedThroughput") or {}
    detail = (
        f"it has provisioned capacity ({throughput.get('ReadCapacityUnits', '?')} reads, "
        f"{throughput.get('WriteCapacityUnits', '?')} writes per second)"
    )
    return MISTAKES["provisioned-capacity"].item(label, detail, table=name)


def _stream_item(ctx: CheckContext, table: TableId, found: dict[str, Any]) -> CheckItem:
    name = ctx.names.table(table)
    spec = found.get("StreamSpecification") or {}
    enabled = bool(spec.get("StreamEnabled"))
    view = spec.get("StreamViewType")
    wanted = STREAMS.get(table)
    if wanted is None:
        label = f"{name} needs no stream"
        if enabled:
            return MISTAKES["unneeded-stream"].item(label, f"it has a {view} stream", table=name)
        return passed(label)
    label = f"{name} has a {wanted.value} stream"
    reader, why = _READERS[table]
    if not enabled:
        return MISTAKES["stream-not-enabled"].item(
            label, "its stream is off", table=name, view=wanted.value, reader=reader
        )
    if view == wanted.value:
        return passed(label)
    item = MISTAKES["wrong-stream-view"].item(
        label, f"its stream carries {view}", table=name, view=wanted.value, why=why
    )
    if table is TableId.REDUCE and view == "NEW_AND_OLD_IMAGES":
        # It works (new items have no old image), but it is not what the step asks for.
        return CheckItem(item.label, Status.WARN, item.detail, item.hint, item.code)
    return item


def _missing_table_item(ctx: CheckContext, table: TableId, existing: list[str]) -> CheckItem:
    name = ctx.names.table(table)
    label = f"{name} exists"
    others = [t for t in existing if t not in {ctx.names.table(x) for x in TableId}]
    close = did_you_mean(name, others, cutoff=0.75)
    if close is not None:
        return MISTAKES["table-name-typo"].item(
            label, f"there is no {name}, but there is {close}", table=name, found=close
        )
    stream = ", capacity mode and stream" if STREAMS.get(table) else " and capacity mode"
    return MISTAKES["table-missing"].item(label, "not created yet", table=name, stream=stream)


def _list_tables(ctx: CheckContext) -> list[str]:
    names: list[str] = []
    for page in ctx.client("dynamodb").get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names


def check_tables(ctx: CheckContext) -> Report:
    """lab1.step1: the four tables, their keys, capacity mode and streams."""
    items: list[CheckItem] = []
    existing = _list_tables(ctx)
    for table in TableId:
        name = ctx.names.table(table)
        found = ctx.describe_table(name) if name in existing else None
        if found is None:
            items.append(_missing_table_item(ctx, table, existing))
            continue
        status = found.get("TableStatus", "ACTIVE")
        if status != "ACTIVE":
            items.append(
                MISTAKES["table-not-active"].item(
                    f"{name} is ready", f"it is still {status}", table=name
                )
            )
            continue
        items.extend(_key_items(ctx, table, found))
        items.append(_billing_item(ctx, table, found))
        items.append(_stream_item(ctx, table, found))
    return Report("lab1.step1", "Create the tables and their streams", tuple(items))


# ---------------------------------------------------------------------------------------------
# lab1.step2: ReduceLambdaPolicy


def _document(raw: Any) -> dict[str, Any]:
    """A policy document as IAM returns it (a dict, JSON text or URL-encoded JSON)."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    if text.lstrip().startswith("%7B"):
        text = urllib.parse.unquote(text)
    document = json.loads(text)
    return document if isinstance(document, dict) else {}


@dataclass(frozen=True)
class RolePolicies:
    """The policies in force for a role: name -> document, plus the managed ones' ARNs."""

    documents: dict[str, dict[str, Any]]
    managed_arns: dict[str, str]


def role_policies(ctx: CheckContext, role: str) -> RolePolicies | None:
    """The inline and attached (default version) policies of ``role``; None if no such role."""
    iam = ctx.client("iam")
    try:
        iam.get_role(RoleName=role)
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise
    documents: dict[str, dict[str, Any]] = {}
    managed: dict[str, str] = {}
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for attached in page.get("AttachedPolicies", []):
            arn = attached["PolicyArn"]
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
            version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
            documents[attached["PolicyName"]] = _document(version["PolicyVersion"]["Document"])
            managed[attached["PolicyName"]] = arn
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page.get("PolicyNames", []):
            found = iam.get_role_policy(RoleName=role, PolicyName=name)
            documents[name] = _document(found["PolicyDocument"])
    return RolePolicies(documents, managed)


def _reduce_stream_arn(ctx: CheckContext) -> str:
    """ReduceTable's current stream ARN (or a stand-in of the right shape if it has none)."""
    table = ctx.names.reduce_table
    found = ctx.describe_table(table) or {}
    arn = found.get("LatestStreamArn")
    if arn:
        return str(arn)
    return f"{ctx.table_arn(table)}/stream/2024-01-01T00:00:00.000"


def reduce_policy_requirements(
    ctx: CheckContext, stream_arn: str | None = None
) -> tuple[Requirement, ...]:
    """What ReduceLambda's role must allow once lab1.step2 is done."""
    names = ctx.names
    stream = stream_arn or _reduce_stream_arn(ctx)
    function = names.function(FunctionId.REDUCE)
    return (
        *(Requirement(action, stream) for action in DYNAMODB_STREAM_READ),
        Requirement("dynamodb:UpdateItem", ctx.table_arn(names.aggregate_table)),
        Requirement("dynamodb:GetItem", ctx.table_arn(names.parameter_table)),
        *lambda_log_requirements(function, ctx.region, ctx.account),
    )


def review_policy(ctx: CheckContext, policies: Any, stream_arn: str | None = None) -> PolicyReport:
    """The least-privilege report of ``policies`` against lab1.step2's needs."""
    return check_least_privilege(
        policies,
        reduce_policy_requirements(ctx, stream_arn),
        tolerated=POLICY_TOLERATED,
        title=ctx.names.policy(FunctionId.REDUCE),
    )


def _classify(missing: MissingItem) -> str:
    message = missing.message
    if "placeholder" in message:
        return "placeholder-left"
    if "is a table ARN" in message and "stream ARN" in message:
        return "table-arn-for-stream"
    if "allows only" in message and "PutItem" in message and missing.action.endswith("UpdateItem"):
        return "putitem-instead-of-updateitem"
    if "names the table" in message:
        return "wrong-table"
    if "StreamLabel part" in message:
        return "old-stream-label"
    if "not an AWS action" in message:
        return "action-typo"
    if missing.near is not None:
        return "arn-mismatch"
    return "permission-missing"


def _short_action(action: str) -> str:
    return action.split(":", 1)[-1]


def _missing_items(ctx: CheckContext, report: PolicyReport) -> list[CheckItem]:
    """One item per cause (three stream actions with one cause are one item); a Deny that
    blocks an action comes first. A permission not granted at all (the step not done yet)
    says what is missing and where to look, not the statement to paste."""
    out: list[CheckItem] = []
    for finding in report.needed():
        if finding.mark != "✗":
            continue
        first = finding.members[0]
        actions = ", ".join(_short_action(a) for a in finding.actions)
        what = _resource_words(ctx, first.resource)
        code = "denied" if finding.blocked else _classify(first)
        message = finding.text.split(": ", 1)[-1]
        message = message[0].upper() + message[1:] if message[:1].islower() else message
        out.append(
            MISTAKES[code].item(
                f"{actions} allowed on {what}",
                message,
                fix=finding.fix,
                step="lab1.step2",
                actions=" and ".join(f"`{a}`" for a in finding.actions),
                resource=f"`{finding.resource}`",
            )
        )
    return out


def _resource_words(ctx: CheckContext, resource: str) -> str:
    names = ctx.names
    if "/stream/" in resource or resource.endswith("/stream/*"):
        return f"{resource.split(':table/')[-1].split('/stream/')[0]}'s stream"
    if ":table/" in resource:
        return resource.split(":table/")[-1]
    if ":log-group:" in resource:
        return f"its log group {names.log_group(FunctionId.REDUCE)}"
    return resource


_DUPLICATED_PROBLEMS = {"placeholder-in-arn", "resource-type-mismatch", "unknown-action"}


def _policy_items(ctx: CheckContext, report: PolicyReport) -> list[CheckItem]:
    items = _missing_items(ctx, report)
    for finding in report.needed():
        if finding.mark == "✓":
            what = _resource_words(ctx, finding.resource)
            actions = ", ".join(_short_action(a) for a in finding.actions)
            items.append(passed(f"{actions} allowed on {what}"))
    for finding in report.too_broad():
        if finding.mark == "✗":
            items.append(
                MISTAKES["too-broad"].item(
                    "Nothing more than the function needs", finding.text, fix=finding.fix
                )
            )
    for problem in report.problems:
        if report.missing and problem.code in _DUPLICATED_PROBLEMS:
            continue
        where = f"{problem.where}: " if problem.where else ""
        items.append(
            MISTAKES["policy-error"].item(
                "The policy is well-formed", f"{where}{problem.message}", fix=problem.fix
            )
        )
    for note in report.warnings:
        where = f"{note.where}: " if note.where else ""
        items.append(warning("Worth a look", f"{where}{note.message}", note.fix))
    return items


def _unapplied_fixes(
    ctx: CheckContext, role: str, policies: RolePolicies, missing: list[Requirement]
) -> list[CheckItem]:
    """A fix that exists but is not in force: a non-default version, an unattached policy."""
    iam = ctx.client("iam")
    expected = ctx.names.policy(FunctionId.REDUCE)
    found: list[CheckItem] = []
    arn = policies.managed_arns.get(expected)
    if arn is not None:
        versions = iam.list_policy_versions(PolicyArn=arn).get("Versions", [])
        for version in sorted(versions, key=lambda v: str(v.get("CreateDate", "")), reverse=True):
            if version.get("IsDefaultVersion"):
                break
            document = _document(
                iam.get_policy_version(PolicyArn=arn, VersionId=version["VersionId"])[
                    "PolicyVersion"
                ]["Document"]
            )
            if any(is_allowed(document, r.action, r.resource) for r in missing):
                found.append(
                    MISTAKES["version-not-default"].item(
                        f"The new version of {expected} is in force",
                        f"version {version['VersionId']} has the permissions but is not the "
                        "default",
                        policy_arn=arn,
                        version=version["VersionId"],
                    )
                )
                return found
    attached = set(policies.managed_arns.values())
    pages = iam.get_paginator("list_policies").paginate(Scope="Local")
    checked = 0
    for page in pages:
        for policy in page.get("Policies", []):
            if policy["Arn"] in attached or checked >= 50:
                continue
            checked += 1
            document = _document(
                iam.get_policy_version(
                    PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
                )["PolicyVersion"]["Document"]
            )
            if any(is_allowed(document, r.action, r.resource) for r in missing):
                found.append(
                    MISTAKES["policy-not-attached"].item(
                        f"{policy['PolicyName']} is attached to {role}",
                        f"{policy['PolicyName']} is not attached to {role}",
                        policy=policy["PolicyName"],
                        role=role,
                        policy_arn=policy["Arn"],
                        expected=expected,
                    )
                )
                return found
    return found


def check_reduce_policy(ctx: CheckContext) -> Report:
    """lab1.step2: ReduceLambdaRole's policies allow reading ReduceTable's stream, UpdateItem
    on AggregateTable, and nothing more than the function needs."""
    title = "Let ReduceLambda read its stream and write the aggregates"
    role = ctx.names.role(FunctionId.REDUCE)
    policies = role_policies(ctx, role)
    if policies is None:
        item = MISTAKES["lab-not-provisioned"].item(
            f"The role {role} exists", "it does not (the lab is not set up)", step="lab1.step2"
        )
        return Report("lab1.step2", title, (item,))
    report = review_policy(ctx, policies.documents)
    items = _policy_items(ctx, report)
    if report.missing:
        missing = [Requirement(m.action, m.resource) for m in report.missing]
        items = _unapplied_fixes(ctx, role, policies, missing) + items
    return Report("lab1.step2", title, tuple(items))


# ---------------------------------------------------------------------------------------------
# lab1.step3: connect ReduceLambda


def _mappings(ctx: CheckContext, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ctx.client("lambda").get_paginator("list_event_source_mappings").paginate(**query):
        found.extend(page.get("EventSourceMappings", []))
    return found


def _concurrency_item(ctx: CheckContext, function: str) -> CheckItem:
    label = f"{function} has a reserved concurrency of {REDUCE_CONCURRENCY}"
    answer = ctx.client("lambda").get_function_concurrency(FunctionName=function)
    reserved = answer.get("ReservedConcurrentExecutions")
    if reserved is None:
        return MISTAKES["concurrency-not-set"].item(label, "none is set", function=function)
    if reserved == 0:
        return MISTAKES["concurrency-zero"].item(label, "it is 0", function=function)
    if reserved != REDUCE_CONCURRENCY:
        return MISTAKES["concurrency-wrong"].item(
            label, f"it is {reserved}", function=function, found=reserved
        )
    return passed(label)


def _policy_state(ctx: CheckContext, stream_arn: str) -> str:
    """A sentence about whether ReduceLambda's role can read the stream now."""
    policies = role_policies(ctx, ctx.names.role(FunctionId.REDUCE))
    documents = policies.documents if policies else {}
    readable = all(is_allowed(documents, a, stream_arn) for a in DYNAMODB_STREAM_READ)
    if readable:
        return "ReduceLambdaPolicy lets the role read the stream now. "
    return (
        "AWS refuses a mapping whose role cannot read the stream ('Cannot access stream'; the "
        "ListStreams it also names is not needed to read a stream), and "
        "ReduceLambdaPolicy does not allow that yet: finish lab1.step2 first "
        '(`lab.check("lab1.step2")`). '
    )


def _stream_table(arn: str) -> str:
    return arn.split(":table/")[-1].split("/stream/")[0] if ":table/" in arn else ""


def _mapping_items(
    ctx: CheckContext, function: str, stream_arn: str | None
) -> tuple[list[CheckItem], dict[str, Any]]:
    names = ctx.names
    label = f"A mapping from {names.reduce_table}'s stream to {function}"
    mine = _mappings(ctx, FunctionName=function)
    right = [m for m in mine if stream_arn is not None and m.get("EventSourceArn") == stream_arn]
    if not right:
        for mapping in mine:
            source = str(mapping.get("EventSourceArn", ""))
            if _stream_table(source) == names.reduce_table and stream_arn is not None:
                return [
                    MISTAKES["mapping-old-stream"].item(
                        label,
                        f"it reads {source.split('/stream/')[-1]}, not the current stream",
                        stream=stream_arn,
                        uuid=mapping["UUID"],
                    )
                ], mapping
        if mine:
            mapping = mine[0]
            source = str(mapping.get("EventSourceArn", ""))
            where = _stream_table(source) or source.split(":")[-1]
            return [
                MISTAKES["mapping-wrong-source"].item(
                    label,
                    f"{function} is mapped to {where}'s stream instead",
                    stream=stream_arn or f"{names.reduce_table}'s stream",
                    uuid=mapping["UUID"],
                )
            ], mapping
        return [
            MISTAKES["mapping-missing"].item(
                label,
                "there is none",
                function=function,
                policy_state=_policy_state(ctx, stream_arn or ""),
            )
        ], {}
    mapping = right[0]
    items = [passed(label, f"UUID {mapping['UUID']}")]
    state = mapping.get("State", "")
    enabled_label = "The mapping is enabled"
    if state in ("Disabled", "Disabling"):
        items.append(
            MISTAKES["mapping-disabled"].item(enabled_label, f"it is {state}", uuid=mapping["UUID"])
        )
    else:
        items.append(passed(enabled_label, state))
    batch_label = f"The mapping's batch size is {REDUCE_BATCH_SIZE}"
    batch = mapping.get("BatchSize")
    if batch != REDUCE_BATCH_SIZE:
        detail = "it is 100, the default" if batch == 100 else f"it is {batch}"
        items.append(MISTAKES["batch-size"].item(batch_label, detail, uuid=mapping["UUID"]))
    else:
        items.append(passed(batch_label))
    if mapping.get("StartingPosition") == "LATEST":
        items.append(
            MISTAKES["starting-latest"].item(
                "The mapping starts from the oldest record", "it starts at LATEST"
            )
        )
    return items, mapping


def _recent_errors(ctx: CheckContext, function: str, mapping: dict[str, Any]) -> list[str]:
    """The errors of the function's latest mapping invocations, if the last one failed."""
    if ctx.invocations is None:  # on AWS: the mapping's own summary
        result = str(mapping.get("LastProcessingResult", ""))
        return [result] if result.startswith("PROBLEM") else []
    recent = ctx.invocations(function)[-5:]
    if recent and recent[-1].get("outcome") == "error":
        last = recent[-1]
        return [f"{last.get('error_type')}: {last.get('error_message') or ''}".strip()]
    return []


def _count_items(ctx: CheckContext, table: str) -> int:
    try:
        answer = ctx.client("dynamodb").scan(TableName=table, Select="COUNT", Limit=50)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return 0
        raise
    return int(answer.get("Count", 0))


def _message_count(ctx: CheckContext) -> int | None:
    try:
        item = ctx.client("dynamodb").get_item(
            TableName=ctx.names.aggregate_table,
            Key={"Identifier": {"S": "message_count"}},
            ConsistentRead=True,
        )
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    value = item.get("Item", {}).get("Value", {}).get("N")
    return int(float(value)) if value is not None else None


def _behaviour_items(ctx: CheckContext, function: str, mapping: dict[str, Any]) -> list[CheckItem]:
    label = f"{function} adds totals to {ctx.names.aggregate_table}"
    errors = _recent_errors(ctx, function, mapping)
    if not errors:
        ctx.settle(30.0)
        errors = _recent_errors(ctx, function, mapping)
    if errors:
        error = errors[-1]
        denied = "AccessDenied" in error or "not authorized" in error
        code = "runtime-access-denied" if denied else "function-failing"
        return [MISTAKES[code].item(label, "its last calls failed", error=error, function=function)]
    count = _message_count(ctx)
    if count:
        return [passed(label, f"{count} messages counted so far")]
    if _count_items(ctx, ctx.names.reduce_table) > 0:
        return [
            MISTAKES["aggregates-empty"].item(
                label, f"{ctx.names.reduce_table} has totals, nothing arrived", function=function
            )
        ]
    return [
        warning(
            label,
            "no trades have gone through yet",
            "Play a round (`lab.scoreboard().play()`) and watch AggregateTable fill.",
        )
    ]


def check_connect_reduce(ctx: CheckContext) -> Report:
    """lab1.step3: reserved concurrency 1, a mapping from ReduceTable's stream with batch size
    1000, and the function at work."""
    title = "Connect ReduceLambda to ReduceTable's stream"
    function = ctx.function(FunctionId.REDUCE)
    if ctx.function_configuration(FunctionId.REDUCE) is None:
        item = MISTAKES["function-missing"].item(
            f"{function} exists", "it does not (the lab is not set up)", step="lab1.step3"
        )
        return Report("lab1.step3", title, (item,))
    table = ctx.describe_table(ctx.names.reduce_table)
    stream_arn = str(table["LatestStreamArn"]) if table and table.get("LatestStreamArn") else None
    items = [_concurrency_item(ctx, function)]
    if stream_arn is None:
        items.append(
            MISTAKES["stream-not-enabled"].item(
                f"{ctx.names.reduce_table} has a stream",
                "it has none, so there is nothing to connect",
                table=ctx.names.reduce_table,
                view="NEW_IMAGE",
                reader="ReduceLambda",
            )
        )
    mapping_items, mapping = _mapping_items(ctx, function, stream_arn)
    items.extend(mapping_items)
    if all(i.status is not Status.FAIL for i in mapping_items):
        items.extend(_behaviour_items(ctx, function, mapping))
    else:
        items.append(skipped(f"{function} adds totals", "not looked at until the mapping is right"))
    return Report("lab1.step3", title, tuple(items))
