"""Checks of lab 4, the counter aggregation (S3 → SNS → processor → state → stream → totals).

Each check reads the lab through boto3 and then proves the step by behaviour:

* **lab4.step1** listens on the topic with a queue of its own, uploads a probe object outside
  the prefix and one inside: exactly one message, for the inside one, must arrive.
* **lab4.step2** invokes the processor with the S3 test event and with an upload event (an
  instance named ``i-labkit+…``, so an undecoded key is noticed), next to another instance's
  value that must survive; then a real upload must travel S3 → topic → function.
* **lab4.step3** sends the aggregator a state item's stream record, then changes a state item
  and waits for its total.
* **lab4.step4** queries ``ByDate`` for the worked example's day.
* **lab4.step5** captures two uploads' events on the topic, then replays the older one after
  the newer was processed: the newer value must stay.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from labkit.iam import check_least_privilege, parse_policy
from labkit.iam.resource_policy import ServiceCall, allows
from labkit.lab.counters.example import DATE, EXPECTED_TOTALS
from labkit.lab.counters.names import BY_DATE, DATA_PREFIX, CounterFunction
from labkit.lab.counters.policies import requirements

from .context import CheckContext
from .lab4_mistakes import ENTRIES
from .lab4_probes import (
    PROBE_DATE,
    Where,
    aggregate_value,
    function_policy,
    keys_in,
    missing,
    probe_objects,
    role_documents,
    s3_may_publish,
    s3_record,
    sns_event,
    state_values,
    stream_event,
    test_event,
    topic_listener,
    topic_policy,
    wait_until,
)
from .probes import Invocation, invoke, nonce
from .report import CheckItem, Report, passed, skipped

__all__ = ["CHECKS"]

MISTAKES = {entry.code: entry for entry in ENTRIES}
TITLES = {
    "lab4.step1": "Uploads under path/to/data/ notify the topic",
    "lab4.step2": "counter-upload-processor keeps each instance's values",
    "lab4.step3": "The state table's stream drives the totals in aggregate-counters",
    "lab4.step4": "The worked example gives COUNTER1 = 191122",
    "lab4.step5": "An old, retried delivery cannot undo a newer value",
}


def _report(step: str, items: list[CheckItem]) -> Report:
    return Report(step, TITLES[step], tuple(items))


def _mistake(code: str, label: str, what: str, **fields: object) -> CheckItem:
    return MISTAKES[code].item(label, what, **fields)


# ---------------------------------------------------------------------------------------------
# lab4.step1


def _bucket_items(ctx: CheckContext, where: Where) -> list[CheckItem]:
    s3 = ctx.client("s3")
    label = f"Bucket {where.bucket} exists"
    try:
        s3.head_bucket(Bucket=where.bucket)
    except Exception as error:
        if missing(error, "NoSuchBucket"):
            return [_mistake("lab4-bucket-missing", label, "it does not", bucket=where.bucket)]
        raise
    items = [passed(label)]
    status = s3.get_bucket_versioning(Bucket=where.bucket).get("Status")
    label = "Versioning is enabled"
    if status != "Enabled":
        items.append(
            _mistake(
                "lab4-bucket-not-versioned", label, f"it is {status or 'off'}", bucket=where.bucket
            )
        )
    else:
        items.append(passed(label))
    return items


def _topic_items(ctx: CheckContext, where: Where) -> list[CheckItem]:
    label = f"Topic {where.names.topic} exists"
    policy = topic_policy(ctx, where)
    if policy is None:
        return [_mistake("lab4-topic-missing", label, "it does not", topic=where.names.topic)]
    items = [passed(label)]
    label = "The topic policy lets this bucket (and only it) publish"
    if not s3_may_publish(policy, where, where.bucket_arn):
        items.append(
            _mistake(
                "lab4-topic-policy-bucket",
                label,
                "S3 may not publish for this bucket",
                bucket_arn=where.bucket_arn,
            )
        )
    elif s3_may_publish(policy, where, f"arn:{where.partition}:s3:::labkit-someone-elses-bucket"):
        items.append(
            _mistake(
                "lab4-topic-policy-open",
                label,
                "any bucket may publish",
                bucket_arn=where.bucket_arn,
            )
        )
    else:
        items.append(passed(label))
    return items


def _notification_items(ctx: CheckContext, where: Where) -> list[CheckItem]:
    label = "The bucket notifies the topic of s3:ObjectCreated:* under path/to/data/"
    config = ctx.client("s3").get_bucket_notification_configuration(Bucket=where.bucket)
    mine = [
        c for c in config.get("TopicConfigurations", []) if c.get("TopicArn") == where.topic_arn
    ]
    created = [c for c in mine if any(e in ("s3:ObjectCreated:*",) for e in c.get("Events", []))]
    if not created:
        return [_mistake("lab4-notification-missing", label, "there is no such notification")]
    rules = [
        rule
        for c in created
        for rule in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        if rule.get("Name", "").lower() == "prefix"
    ]
    if not any(rule.get("Value") == DATA_PREFIX for rule in rules):
        found = ", ".join(repr(r.get("Value")) for r in rules) or "none"
        return [_mistake("lab4-notification-prefix", label, f"prefix filter: {found}")]
    return [passed(label)]


def _probe_topic(ctx: CheckContext, where: Where) -> CheckItem:
    label = "A probe upload inside the prefix sends one message; one outside sends none"
    with topic_listener(ctx, where) as listener, probe_objects(ctx, where) as probes:
        outside = f"labkit-probe/{probes.tag}/values_i-outside"
        inside = f"{DATA_PREFIX}labkit-probe/{probes.tag}"
        probes.put(outside, "LABKIT_PROBE 1\n")
        probes.put(inside, "LABKIT_PROBE 1\n")
        keys = keys_in(listener.messages(wait=30.0))
    if outside in keys:
        return _mistake("lab4-notification-prefix", label, "the upload outside the prefix sent one")
    if keys.count(inside) != 1:
        return _mistake(
            "lab4-probe-no-message", label, f"{keys.count(inside)} messages for the probe"
        )
    return passed(label, "exactly one message, for the upload inside the prefix")


def check_notifications(ctx: CheckContext) -> Report:
    step = "lab4.step1"
    where = Where.of(ctx)
    items = _bucket_items(ctx, where)
    if items[0].failed:
        return _report(step, items)
    items += _topic_items(ctx, where)
    if items[-1].failed and "exists" in items[-1].label:
        return _report(step, items)
    items += _notification_items(ctx, where)
    if any(item.failed for item in items[-2:]):
        items.append(skipped("A probe upload reaches the topic", "fix the items above first"))
    else:
        items.append(_probe_topic(ctx, where))
    return _report(step, items)


# ---------------------------------------------------------------------------------------------
# lab4.step2


def _keys_of(description: dict[str, Any]) -> dict[str, str]:
    return {k["AttributeName"]: k["KeyType"] for k in description.get("KeySchema", [])}


def _table_item(ctx: CheckContext, table: str, code: str, **fields: object) -> CheckItem:
    label = f"Table {table} has keys Counter (HASH) and Date (RANGE)"
    description = ctx.describe_table(table)
    if description is None:
        return _mistake(code, label, "the table does not exist", table=table, **fields)
    keys = _keys_of(description)
    if keys != {"Counter": "HASH", "Date": "RANGE"}:
        return _mistake(code, label, f"its keys are {keys}", table=table, **fields)
    return passed(label)


def _function_config(ctx: CheckContext, name: str, step: str) -> tuple[CheckItem, Any]:
    label = f"Function {name} exists"
    try:
        config = ctx.client("lambda").get_function_configuration(FunctionName=name)
    except Exception as error:
        if missing(error):
            return _mistake(
                "lab4-function-missing", label, "it does not", function=name, step=step
            ), None
        raise
    return passed(label, str(config.get("Runtime", ""))), config


def _policy_item(
    ctx: CheckContext, where: Where, function: CounterFunction, role_arn: str, code: str
) -> tuple[CheckItem, Any]:
    name = where.names.function(function)
    label = f"The role of {name} allows what it needs, and little more"
    documents = role_documents(ctx, role_arn)
    if function is CounterFunction.AGGREGATOR:
        for document in documents.values():
            problems = parse_policy(document).problems
            if any("DescribeStreams" in problem.message for problem in problems):
                return _mistake(
                    "lab4-describe-streams", label, "DescribeStreams is not an action"
                ), None
    needed = requirements(where.names, function, where.bucket, where.region, where.account)
    report = check_least_privilege(documents, needed, title=f"{name}'s role")
    if report.missing:
        first = report.missing[0]
        return (
            _mistake(
                code,
                label,
                f"missing {first.action} on {first.resource}",
                bucket=where.bucket,
                state_table=where.names.state_table,
                aggregate_table=where.names.aggregate_table,
            ),
            report,
        )
    return passed(label), report


def _permission_item(ctx: CheckContext, where: Where, name: str) -> CheckItem:
    label = "The topic may invoke the function (a Lambda permission)"
    policy = function_policy(ctx, name)
    call_ = ServiceCall(
        "sns.amazonaws.com",
        "lambda:InvokeFunction",
        where.function_arn(name),
        where.topic_arn,
        where.account,
    )
    if policy is None or not allows(policy, call_):
        return _mistake(
            "lab4-sns-permission", label, "no statement allows the topic", function=name
        )
    return passed(label)


def _subscription_item(ctx: CheckContext, where: Where, name: str) -> CheckItem:
    label = "The function is subscribed to the topic"
    arn = where.function_arn(name)
    found = ctx.client("sns").list_subscriptions_by_topic(TopicArn=where.topic_arn)["Subscriptions"]
    if not any(s["Protocol"] == "lambda" and s["Endpoint"].startswith(arn) for s in found):
        return _mistake("lab4-subscription-missing", label, "no lambda subscription for it")
    return passed(label)


def _classify(result: Invocation, label: str, name: str) -> CheckItem:
    """The catalogue entry an invocation's error points at."""
    error = result.describe()
    if result.mentions("UserCodeSyntaxError", "print ", "unquote'", "has no attribute 'unquote"):
        return _mistake("lab4-python2", label, "the function failed", error=error)
    if result.mentions("Type mismatch", "actual: B"):
        return _mistake("lab4-body-bytes", label, "the function failed", error=error)
    if result.mentions("NoSuchKey", "does not exist"):
        return _mistake("lab4-key-encoded", label, "the function failed", error=error)
    return _mistake(
        "lab4-processor-error", label, "the function failed", error=error, function=name
    )


def _processor_behaviour(ctx: CheckContext, where: Where, name: str) -> list[CheckItem]:
    items: list[CheckItem] = []
    label = "The processor ignores the s3:TestEvent"
    result = invoke(ctx, name, sns_event(where, test_event(where)))
    if not result.ok:
        item = _classify(result, label, name)
        if item.code == "lab4-processor-error":  # nothing more specific: the test event itself
            item = _mistake("lab4-test-event", label, "it failed", error=result.describe())
        return [item]
    items.append(passed(label))

    table = where.names.state_table
    counter = f"LABKIT_PROBE_{nonce()}"
    label = "An upload event stores the instance's value beside the others'"
    with probe_objects(ctx, where) as probes:
        ctx.client("dynamodb").put_item(
            TableName=table,
            Item={
                "Counter": {"S": counter},
                "Date": {"S": PROBE_DATE},
                "InstanceValues": {"M": {"i-labkit-other": {"N": "7"}}},
            },
        )
        key = probes.key()
        probes.put(key, f"{counter} 42\n")
        record = s3_record(where, key, None, "0" * 18 + "1")
        result = invoke(ctx, name, sns_event(where, {"Records": [record]}))
        if not result.ok:
            return [*items, _classify(result, label, name)]
        stored = state_values(ctx, table, counter, PROBE_DATE)
        if stored.get(probes.instance()) != 42:
            return [*items, _mistake("lab4-values-not-stored", label, f"the item holds {stored}")]
        if "i-labkit-other" not in stored:
            return [*items, _mistake("lab4-map-overwritten", label, f"the item holds {stored}")]
        items.append(passed(label))

        label = "A real upload travels S3 → topic → function → state table"
        probes.put(key, f"{counter} 43\n")
        arrived = wait_until(
            ctx, lambda: state_values(ctx, table, counter, PROBE_DATE).get(probes.instance()) == 43
        )
        if not arrived:
            items.append(_mistake("lab4-upload-not-processed", label, "the value did not change"))
        else:
            items.append(passed(label))
    return items


def check_processor(ctx: CheckContext) -> Report:
    step = "lab4.step2"
    where = Where.of(ctx)
    name = where.names.processor
    items = [_table_item(ctx, where.names.state_table, "lab4-state-table")]
    item, config = _function_config(ctx, name, step)
    items.append(item)
    if config is None:
        return _report(step, items)
    policy_item, _ = _policy_item(
        ctx, where, CounterFunction.PROCESSOR, config["Role"], "lab4-processor-policy"
    )
    items.append(policy_item)
    items.append(_permission_item(ctx, where, name))
    items.append(_subscription_item(ctx, where, name))
    if items[0].failed:
        items.append(skipped("The processor stores uploads", "the state table comes first"))
        return _report(step, items)
    items += _processor_behaviour(ctx, where, name)
    return _report(step, items)


# ---------------------------------------------------------------------------------------------
# lab4.step3


def _stream_item(ctx: CheckContext, table: str) -> tuple[CheckItem, str | None]:
    label = f"{table} has a stream with the new image"
    description = ctx.describe_table(table) or {}
    spec = description.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        return _mistake("lab4-stream-missing", label, "no stream is enabled", table=table), None
    view = spec.get("StreamViewType")
    if view not in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        return _mistake("lab4-stream-view", label, f"its view is {view}"), None
    return passed(label, str(view)), str(description.get("LatestStreamArn"))


def _aggregate_item(ctx: CheckContext, table: str) -> CheckItem:
    label = f"{table} has keys Counter and Date and the index ByDate (Date, all attributes)"
    description = ctx.describe_table(table)
    if description is None:
        return _mistake("lab4-aggregate-table", label, "the table does not exist")
    if _keys_of(description) != {"Counter": "HASH", "Date": "RANGE"}:
        return _mistake("lab4-aggregate-table", label, f"its keys are {_keys_of(description)}")
    index = next(
        (i for i in description.get("GlobalSecondaryIndexes", []) if i["IndexName"] == BY_DATE),
        None,
    )
    if index is None or _keys_of(index) != {"Date": "HASH"}:
        return _mistake("lab4-aggregate-table", label, "there is no ByDate index on Date")
    if index.get("Projection", {}).get("ProjectionType") != "ALL":
        return _mistake("lab4-aggregate-table", label, "ByDate does not project all attributes")
    return passed(label)


def _mapping_item(ctx: CheckContext, stream_arn: str | None, name: str) -> CheckItem:
    label = "An enabled mapping feeds the state table's stream to the aggregator"
    mappings = ctx.client("lambda").list_event_source_mappings(FunctionName=name)[
        "EventSourceMappings"
    ]
    ok = [
        m
        for m in mappings
        if m.get("EventSourceArn") == stream_arn
        and m.get("State") in ("Enabled", "Enabling", "Creating")
    ]
    if not ok:
        return _mistake("lab4-mapping-missing", label, "there is none", function=name)
    return passed(label)


def _aggregator_behaviour(
    ctx: CheckContext, where: Where, stream_arn: str, name: str
) -> list[CheckItem]:
    table = where.names.aggregate_table
    counter = f"LABKIT_PROBE_{nonce()}"
    label = "A stream record of a state item gives the sum of its values"
    result = invoke(
        ctx, name, stream_event(ctx, stream_arn, counter, PROBE_DATE, {"i-a": 2, "i-b": 3})
    )
    if not result.ok:
        return [
            _mistake(
                "lab4-aggregator-error", label, "it failed", error=result.describe(), function=name
            )
        ]
    total = aggregate_value(ctx, table, counter, PROBE_DATE)
    if total != 5:
        return [
            _mistake(
                "lab4-totals-wrong", label, f"Value is {total}", sums="2 + 3 gave " + str(total)
            )
        ]
    items = [passed(label)]
    label = "A change in the state table reaches aggregate-counters through the stream"
    ctx.client("dynamodb").put_item(
        TableName=where.names.state_table,
        Item={
            "Counter": {"S": counter},
            "Date": {"S": PROBE_DATE},
            "InstanceValues": {"M": {"i-a": {"N": "2"}, "i-b": {"N": "4"}}},
        },
    )
    if not wait_until(ctx, lambda: aggregate_value(ctx, table, counter, PROBE_DATE) == 6):
        items.append(
            _mistake("lab4-mapping-missing", label, "the total did not follow", function=name)
        )
    else:
        items.append(passed(label))
    return items


def check_aggregator(ctx: CheckContext) -> Report:
    step = "lab4.step3"
    where = Where.of(ctx)
    name = where.names.aggregator
    stream_item, stream_arn = _stream_item(ctx, where.names.state_table)
    items = [stream_item, _aggregate_item(ctx, where.names.aggregate_table)]
    item, config = _function_config(ctx, name, step)
    items.append(item)
    if config is None:
        return _report(step, items)
    policy_item, _ = _policy_item(
        ctx, where, CounterFunction.AGGREGATOR, config["Role"], "lab4-aggregator-policy"
    )
    items.append(policy_item)
    items.append(_mapping_item(ctx, stream_arn, name))
    if stream_arn is None or items[1].failed:
        items.append(skipped("The aggregator keeps totals", "fix the tables first"))
        return _report(step, items)
    items += _aggregator_behaviour(ctx, where, stream_arn, name)
    return _report(step, items)


# ---------------------------------------------------------------------------------------------
# lab4.step4


def query_by_date(ctx: CheckContext, date: str) -> dict[str, int]:
    """Every total of ``date`` in aggregate-counters, through the ByDate index."""
    where = Where.of(ctx)
    found = ctx.client("dynamodb").query(
        TableName=where.names.aggregate_table,
        IndexName=BY_DATE,
        KeyConditionExpression="#date = :date",
        ExpressionAttributeNames={"#date": "Date"},
        ExpressionAttributeValues={":date": {"S": date}},
    )["Items"]
    return {i["Counter"]["S"]: int(i["Value"]["N"]) for i in found if "Value" in i}


def _example_done(totals: dict[str, int]) -> bool:
    return {k: totals.get(k) for k in EXPECTED_TOTALS} == EXPECTED_TOTALS


def check_example(ctx: CheckContext) -> Report:
    step = "lab4.step4"
    label = f"A ByDate query for {DATE} gives COUNTER1 = 191122 and COUNTER2 = 54321"
    totals = query_by_date(ctx, DATE)
    if not _example_done(totals) and wait_until(
        ctx, lambda: _example_done(query_by_date(ctx, DATE))
    ):  # the pipeline was still at work
        totals = query_by_date(ctx, DATE)
    if not totals:
        return _report(step, [_mistake("lab4-example-missing", label, "it finds nothing")])
    wanted = {k: totals.get(k) for k in EXPECTED_TOTALS}
    if wanted != EXPECTED_TOTALS:
        return _report(
            step,
            [_mistake("lab4-example-totals", label, f"found {wanted}", found=json.dumps(wanted))],
        )
    return _report(step, [passed(label, json.dumps(totals, sort_keys=True))])


# ---------------------------------------------------------------------------------------------
# lab4.step5


def check_ordering(ctx: CheckContext) -> Report:
    step = "lab4.step5"
    where = Where.of(ctx)
    name = where.names.processor
    items = _bucket_items(ctx, where)
    if any(item.failed for item in items):
        return _report(step, items)
    table = where.names.state_table
    counter = f"LABKIT_PROBE_{nonce()}"
    label = "Replaying an older upload's event after a newer one keeps the newer value"
    with topic_listener(ctx, where) as listener, probe_objects(ctx, where) as probes:
        key = probes.key()
        probes.put(key, f"{counter} 1\n")
        probes.put(key, f"{counter} 2\n")
        messages = [m for m in listener.messages(wait=30.0) if key in json.dumps(keys_in([m]))]

        def newest() -> int | None:
            return state_values(ctx, table, counter, PROBE_DATE).get(probes.instance())

        if len(messages) != 2 or not wait_until(ctx, lambda: newest() == 2):
            if len(messages) == 2 and newest() == 1:
                # Both events arrived together and the older one was processed last: the update
                # was lost before the replay was even sent.
                found = "the older upload was processed last, so the value is 1"
                items.append(_mistake("lab4-lost-update", label, found))
            else:
                found = "the two uploads were not both processed"
                items.append(_mistake("lab4-upload-not-processed", label, found))
            return _report(step, items)
        old = messages[0]
        result = invoke(ctx, name, sns_event(where, old))
        if not result.ok:
            items.append(_classify(result, label, name))
        elif newest() != 2:
            items.append(_mistake("lab4-lost-update", label, f"the value went back to {newest()}"))
        else:
            items.append(passed(label, "the newer value stayed"))
    return _report(step, items)


CheckFunction = Callable[[CheckContext], Report]

CHECKS: dict[str, CheckFunction] = {
    "lab4.step1": check_notifications,
    "lab4.step2": check_processor,
    "lab4.step3": check_aggregator,
    "lab4.step4": check_example,
    "lab4.step5": check_ordering,
}
