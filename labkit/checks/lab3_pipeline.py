"""Checks of lab3.step3 and lab3.step4: the replicator's permissions, the function, and the
stream that feeds it, judged by behaviour.

lab3.step4 writes, changes and deletes probe items in logfile (keys ``request#labkit-check-…``,
host ``labkit-check``) and waits until the replica follows: with the local cloud's idle signal,
or on AWS by looking again until a deadline. It then sends the function one stream record the
replica must refuse (a key of the wrong type) and expects the invocation to fail: an item the
handler cannot write must fail the batch, not vanish. Probe items are removed afterwards, from
both tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from labkit.iam import PolicyReport, Requirement, check_least_privilege, lambda_log_requirements
from labkit.lab.policies import DYNAMODB_STREAM_READ
from labkit.lab.replication.names import REPLICA_VARIABLE
from labkit.lab.replication.policy import REPLICA_WRITES
from labkit.lab.replication.stack import BATCH_SIZE, STARTING_POSITION
from labkit.lab.replication.tables import INDEX, INDEX_KEY, KEY, STREAM_VIEW

from .context import CheckContext, error_code
from .lab1 import POLICY_TOLERATED, role_policies
from .lab3_tables import names
from .mistakes import MISTAKES
from .probes import invoke, nonce
from .report import CheckItem, Report, Status, passed, skipped, warning

__all__ = [
    "check_replicator",
    "check_streaming",
    "clean_probes",
    "follow",
    "review_replication_policy",
]

PROBE_HOST = "host#labkit-check"
PROBE_PREFIX = "request#labkit-check-"
#: How long the replica may take to follow the probe writes.
FOLLOW_TIMEOUT = 60.0
#: How often to look again on AWS, where there is no idle signal.
AWS_POLL = 1.0


# ---------------------------------------------------------------------------------------------
# lab3.step3: DDBReplicationPolicy and the function


def _stream_arn(ctx: CheckContext) -> str:
    table = names(ctx).logfile
    found = ctx.describe_table(table) or {}
    arn = found.get("LatestStreamArn")
    return str(arn) if arn else f"{ctx.table_arn(table)}/stream/2024-01-01T00:00:00.000"


def replication_requirements(ctx: CheckContext) -> tuple[Requirement, ...]:
    """What the replication role must allow: read logfile's stream, put and delete in the
    replica, write its own logs."""
    lab = names(ctx)
    stream = _stream_arn(ctx)
    return (
        *(Requirement(action, stream) for action in DYNAMODB_STREAM_READ),
        *(Requirement(action, ctx.table_arn(lab.replica)) for action in REPLICA_WRITES),
        *lambda_log_requirements(lab.function, ctx.region, ctx.account),
    )


def review_replication_policy(ctx: CheckContext, policies: Any) -> PolicyReport:
    """``labkit.iam``'s verdict on ``policies`` against the replicator's needs."""
    return check_least_privilege(
        policies,
        replication_requirements(ctx),
        tolerated=POLICY_TOLERATED,
        title=names(ctx).policy,
    )


def _policy_items(report: PolicyReport) -> list[CheckItem]:
    items: list[CheckItem] = []
    for missing in report.missing:
        action = missing.action.split(":", 1)[-1]
        where = missing.resource.split(":")[-1]
        items.append(
            MISTAKES["lab3-permission-missing"].item(
                f"{action} allowed on {where}", missing.message, fix=missing.fix
            )
        )
    granted = sorted({g.action.split(":", 1)[-1] for g in report.granted})
    if granted:
        items.append(passed("The role may " + ", ".join(granted)))
    for excess in report.excess:
        if excess.resource == "*" or excess.resource.endswith(":*"):
            items.append(
                MISTAKES["lab3-grant-on-star"].item(
                    "Grants name their resources",
                    f"{excess.where} {excess.message}",
                    fix=excess.fix,
                )
            )
        else:
            items.append(warning("Nothing more than needed", excess.message, excess.fix))
    for problem in report.problems:
        items.append(
            MISTAKES["lab3-permission-missing"].item(
                "The policy is well-formed", problem.message, fix=problem.fix
            )
        )
    return items


def _function_items(ctx: CheckContext, role_arn: str) -> list[CheckItem]:
    lab = names(ctx)
    lambda_client = ctx.client("lambda")
    try:
        config = lambda_client.get_function_configuration(FunctionName=lab.function)
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        return [
            MISTAKES["lab3-function-missing"].item(
                f"{lab.function} exists",
                "it does not",
                function=lab.function,
                role=lab.role,
                replica=lab.replica,
            )
        ]
    items = [passed(f"{lab.function} exists", f"runtime {config.get('Runtime')}")]
    role_label = f"{lab.function} runs with {lab.role}"
    if str(config.get("Role", "")).rsplit("/", 1)[-1] == lab.role:
        items.append(passed(role_label))
    else:
        items.append(
            MISTAKES["lab3-wrong-role"].item(
                role_label,
                f"it runs with {config.get('Role')}",
                function=lab.function,
                role_arn=role_arn,
            )
        )
    variables = (config.get("Environment") or {}).get("Variables") or {}
    variable_label = f"{REPLICA_VARIABLE} tells {lab.function} to write {lab.replica}"
    value = variables.get(REPLICA_VARIABLE)
    if value == lab.replica:
        items.append(passed(variable_label))
    else:
        detail = f"it is {value!r}" if value is not None else "the variable is not set"
        items.append(
            MISTAKES["lab3-replica-variable"].item(
                variable_label, detail, function=lab.function, replica=lab.replica
            )
        )
    return items


def check_replicator(ctx: CheckContext) -> Report:
    """lab3.step3: the role's policy grants what replication needs (warning on ``*``), and
    the function exists with the role and the replica's name."""
    title = "Give the replicator its permissions and create it"
    lab = names(ctx)
    policies = role_policies(ctx, lab.role)
    if policies is None:
        item = MISTAKES["lab3-not-provisioned"].item(
            f"The role {lab.role} exists", "it does not (the lab is not set up)", step="lab3.step3"
        )
        return Report("lab3.step3", title, (item,))
    report = review_replication_policy(ctx, policies.documents)
    role_arn = str(ctx.client("iam").get_role(RoleName=lab.role)["Role"]["Arn"])
    items = _policy_items(report) + _function_items(ctx, role_arn)
    return Report("lab3.step3", title, tuple(items), attachments=(report,))


# ---------------------------------------------------------------------------------------------
# lab3.step4: the stream, the mapping, and the handler at work


def _mappings(ctx: CheckContext, function: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    paginator = ctx.client("lambda").get_paginator("list_event_source_mappings")
    for page in paginator.paginate(FunctionName=function):
        found.extend(page.get("EventSourceMappings", []))
    return found


def _stream_items(ctx: CheckContext, found: dict[str, Any]) -> tuple[list[CheckItem], str | None]:
    table = names(ctx).logfile
    spec = found.get("StreamSpecification") or {}
    label = f"{table} has a {STREAM_VIEW.value} stream"
    if not spec.get("StreamEnabled") or not found.get("LatestStreamArn"):
        return [MISTAKES["lab3-stream-off"].item(label, "its stream is off", table=table)], None
    view = str(spec.get("StreamViewType"))
    arn = str(found["LatestStreamArn"])
    if view in ("KEYS_ONLY", "OLD_IMAGE"):
        return [MISTAKES["lab3-stream-view"].item(label, f"it is {view}", view=view)], arn
    if view != STREAM_VIEW.value:
        return [
            warning(label, f"it is {view}", "That works too: the replicator only reads NewImage.")
        ], arn
    return [passed(label)], arn


def _mapping_items(
    ctx: CheckContext, stream_arn: str
) -> tuple[list[CheckItem], dict[str, Any] | None]:
    lab = names(ctx)
    label = f"A mapping from {lab.logfile}'s stream to {lab.function}"
    mine = _mappings(ctx, lab.function)
    right = [m for m in mine if m.get("EventSourceArn") == stream_arn]
    if not right:
        extra = (
            f" The existing mapping {mine[0]['UUID']} reads another stream: delete it."
            if mine
            else ""
        )
        detail = "it reads an older stream of logfile" if mine else "there is none"
        item = MISTAKES["lab3-mapping-missing"].item(
            label, detail, function=lab.function, stream=stream_arn, extra=extra
        )
        return [item], None
    mapping = right[0]
    uuid = mapping["UUID"]
    items = [passed(label, f"UUID {uuid}")]
    if mapping.get("State") in ("Disabled", "Disabling"):
        items.append(
            MISTAKES["lab3-mapping-disabled"].item(
                "The mapping is enabled", f"it is {mapping.get('State')}", uuid=uuid
            )
        )
    position = mapping.get("StartingPosition")
    position_label = f"The mapping starts at {STARTING_POSITION}"
    if position == "LATEST":
        items.append(
            MISTAKES["lab3-mapping-latest"].item(position_label, "it is LATEST", uuid=uuid)
        )
    else:
        items.append(passed(position_label))
    batch = mapping.get("BatchSize")
    if batch != BATCH_SIZE:
        items.append(
            warning(
                f"The mapping's batch size is {BATCH_SIZE}",
                f"it is {batch}",
                f"The material uses {BATCH_SIZE}: lambda_client.update_event_source_mapping("
                f"UUID='{uuid}', BatchSize={BATCH_SIZE}).",
            )
        )
    return items, mapping


def _probe_item(key: str, bytes_sent: int) -> dict[str, Any]:
    return {
        KEY: {"S": key},
        INDEX_KEY: {"S": PROBE_HOST},
        "requestid": {"N": "0"},
        "host": {"S": "labkit-check"},
        "url": {"S": "/labkit-check"},
        "bytessent": {"N": str(bytes_sent)},
    }


def follow(ctx: CheckContext, done: Callable[[], bool], function: str) -> bool:
    """Wait until ``done()`` (the replica followed) or the pipeline is idle or stuck."""
    if ctx.wait_idle is not None:
        ctx.settle(FOLLOW_TIMEOUT, functions=(function,))
        return done()
    deadline = ctx.clock() + FOLLOW_TIMEOUT
    while not done():
        if ctx.clock() > deadline:
            return False
        ctx.sleep(AWS_POLL)
    return True


def clean_probes(ctx: CheckContext) -> None:
    """Remove every probe item from logfile, then whatever the replica kept of them."""
    lab = names(ctx)
    ddb = ctx.client("dynamodb")
    for table in (lab.logfile, lab.replica):
        try:
            answer = ddb.query(
                TableName=table,
                IndexName=INDEX,
                KeyConditionExpression="#k = :host",
                ExpressionAttributeNames={"#k": INDEX_KEY},
                ExpressionAttributeValues={":host": {"S": PROBE_HOST}},
            )
        except Exception as error:
            if error_code(error) in ("ResourceNotFoundException", "ValidationException"):
                continue
            raise
        for item in answer.get("Items", []):
            ddb.delete_item(TableName=table, Key={KEY: item[KEY]})
        if table == lab.logfile and answer.get("Items"):
            ctx.settle(FOLLOW_TIMEOUT, functions=(lab.function,))


def _last_error(ctx: CheckContext, mapping: dict[str, Any]) -> str | None:
    """The error of the function's last mapping invocation, if it failed."""
    function = names(ctx).function
    if ctx.invocations is None:
        fresh = ctx.client("lambda").get_event_source_mapping(UUID=mapping["UUID"])
        result = str(fresh.get("LastProcessingResult", ""))
        return result if result.startswith("PROBLEM") else None
    recent = ctx.invocations(function)
    if recent and recent[-1].get("outcome") == "error":
        last = recent[-1]
        return f"{last.get('error_type')}: {last.get('error_message') or ''}".strip()
    return None


def _failure_item(ctx: CheckContext, label: str, error: str) -> CheckItem:
    lab = names(ctx)
    for word in error.replace("'", " ").replace('"', " ").replace("/", " ").split():
        table = word.strip(".,:;()")
        if table.endswith("logfile_replica") and table != lab.replica:
            return MISTAKES["lab3-hard-coded-name"].item(
                label, "the handler writes to another table", found=table, replica=lab.replica
            )
    return MISTAKES["lab3-handler-failing"].item(
        label, "its calls fail", error=error[:300], function=lab.function
    )


def _behaviour_items(ctx: CheckContext, mapping: dict[str, Any]) -> list[CheckItem]:
    lab = names(ctx)
    ddb = ctx.client("dynamodb")
    tag = nonce()
    added, changed, removed = (f"{PROBE_PREFIX}{tag}-{what}" for what in ("add", "change", "del"))
    clean_probes(ctx)
    for key in (added, changed, removed):
        ddb.put_item(TableName=lab.logfile, Item=_probe_item(key, 1))
    ddb.put_item(TableName=lab.logfile, Item=_probe_item(changed, 2))
    ddb.delete_item(TableName=lab.logfile, Key={KEY: {"S": removed}})

    def in_replica(key: str) -> dict[str, Any] | None:
        found = ddb.get_item(TableName=lab.replica, Key={KEY: {"S": key}}, ConsistentRead=True)
        item: dict[str, Any] | None = found.get("Item")
        return item

    def followed() -> bool:
        change = in_replica(changed)
        return (
            in_replica(added) is not None
            and change is not None
            and change.get("bytessent") == {"N": "2"}
            and in_replica(removed) is None
        )

    items: list[CheckItem] = []
    try:
        follow(ctx, followed, lab.function)
        insert_label = "A new item in logfile arrives in the replica"
        if in_replica(added) is None:
            error = _last_error(ctx, mapping)
            if error:
                items.append(_failure_item(ctx, insert_label, error))
            else:
                items.append(
                    MISTAKES["lab3-not-replicating"].item(
                        insert_label,
                        f"{added} never arrived",
                        what="The probe item was written to logfile but not to the replica.",
                        function=lab.function,
                    )
                )
            items.append(skipped("Changes and deletions follow", "nothing arrived at all"))
        else:
            items.append(passed(insert_label))
            change = in_replica(changed) or {}
            change_label = "A changed item changes in the replica"
            if change.get("bytessent") == {"N": "2"}:
                items.append(passed(change_label))
            else:
                items.append(
                    MISTAKES["lab3-change-missed"].item(
                        change_label, f"{changed} still has bytessent 1 in the replica"
                    )
                )
            remove_label = "A deleted item disappears from the replica"
            if in_replica(removed) is None:
                items.append(passed(remove_label))
            else:
                items.append(
                    MISTAKES["lab3-remove-ignored"].item(
                        remove_label,
                        f"{removed} was deleted in logfile but is still in the replica",
                    )
                )
        items.append(_refusal_item(ctx))
    finally:
        clean_probes(ctx)
    return items


def _refused_event(ctx: CheckContext, stream_arn: str) -> dict[str, Any]:
    """One INSERT record whose image the replica refuses: its key PK is a number."""
    image = {KEY: {"N": "404"}, INDEX_KEY: {"S": PROBE_HOST}, "url": {"S": "/labkit-check"}}
    return {
        "Records": [
            {
                "eventID": f"labkit-check-{nonce()}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": ctx.region,
                "dynamodb": {
                    "Keys": {KEY: image[KEY]},
                    "NewImage": image,
                    "SequenceNumber": "100000000000000000001",
                    "SizeBytes": 64,
                    "StreamViewType": STREAM_VIEW.value,
                },
                "eventSourceARN": stream_arn,
            }
        ]
    }


def _refusal_item(ctx: CheckContext) -> CheckItem:
    lab = names(ctx)
    label = "A record the replica refuses fails the batch (so Lambda retries it)"
    result = invoke(ctx, lab.function, _refused_event(ctx, _stream_arn(ctx)))
    if not result.ok:
        if result.mentions("ValidationException", "type mismatch"):
            return passed(label, result.describe())
        return _failure_item(ctx, label, result.describe())
    returned = json.dumps(result.payload)[:120] if result.payload is not None else "nothing"
    return MISTAKES["lab3-errors-swallowed"].item(
        label, f"the write failed, yet the handler returned {returned} as if all went well"
    )


def check_streaming(ctx: CheckContext) -> Report:
    """lab3.step4: a NEW_IMAGE stream, the mapping (TRIM_HORIZON, batch 100), and a handler
    that replicates inserts, changes and deletions and fails on a write it cannot make."""
    title = "Stream logfile's changes to the replicator"
    lab = names(ctx)
    found = ctx.describe_table(lab.logfile)
    if found is None or ctx.describe_table(lab.replica) is None:
        item = MISTAKES["lab3-not-provisioned"].item(
            "Both tables exist", "the lab is not set up", step="lab3.step4"
        )
        return Report("lab3.step4", title, (item,))
    items, stream_arn = _stream_items(ctx, found)
    if stream_arn is None:
        return Report("lab3.step4", title, tuple(items))
    mapping_items, mapping = _mapping_items(ctx, stream_arn)
    items.extend(mapping_items)
    blocking = any(i.status is Status.FAIL for i in items)
    if mapping is None or blocking:
        items.append(skipped("The replica follows logfile", "not tried until the above is right"))
    else:
        items.extend(_behaviour_items(ctx, mapping))
    return Report("lab3.step4", title, tuple(items))
