"""Checks of lab 2: exactly-once results under retries, judged by behaviour.

Both checks send synthetic events straight to the learner's deployed function and look at what
it did, instead of reading its source:

* **lab2.step1** sends StateLambda a new trade, its next version, an older version, a duplicate,
  and finally a message DynamoDB must refuse (a key over 2048 bytes). The trade's value is zero,
  so what MapLambda and ReduceLambda later make of it changes no total.
* **lab2.step2** sends ReduceLambda the same batch of totals twice, then once more to a freshly
  published version (a new execution environment, as a retry on AWS may get), then another
  batch. The totals go to keys of their own in AggregateTable, which are deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from labkit.lab.names import CodeVersion, FunctionId
from labkit.lab.packages import package

from .context import CheckContext, error_code
from .mistakes import MISTAKES
from .probes import (
    Invocation,
    invoke,
    kinesis_event,
    nonce,
    quiet_pipeline,
    reduce_stream_event,
    trade_message,
)
from .report import CheckItem, Report, passed, skipped

__all__ = ["check_reduce_idempotent", "check_state_versions"]

PROBE_HIERARCHY = {"RiskType": "PV", "Region": "EMEA", "TradeDesk": "FXSpot"}
#: DynamoDB refuses a partition key over 2048 bytes, on AWS and locally.
OVERSIZED_KEY_LENGTH = 3000
INJECTED_RETRIES = 5


def _is_starter(config: Mapping[str, Any], function: FunctionId) -> bool:
    return str(config.get("CodeSha256")) == package(function, CodeVersion.STARTER).sha256


def _not_set_up(step: str, title: str, function: str) -> Report:
    item = MISTAKES["function-missing"].item(
        f"{function} exists", "it does not (the lab is not set up)", step=step
    )
    return Report(step, title, (item,))


# ---------------------------------------------------------------------------------------------
# lab2.step1: StateLambda keeps only newer versions


class _StateProbe:
    def __init__(self, ctx: CheckContext, config: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.function = str(config["FunctionName"])
        self.role = str(config.get("Role", ""))
        self.table = ctx.names.state_table
        self.trade_id = f"labkit-check-{nonce()}"

    def event(self, trade_id: str, version: int, region: str = "EMEA") -> dict[str, Any]:
        hierarchy = {**PROBE_HIERARCHY, "Region": region}
        return kinesis_event(
            self.ctx,
            self.ctx.names.incoming_stream,
            self.role,
            [trade_message(trade_id, version, hierarchy)],
        )

    def send(self, event: dict[str, Any]) -> Invocation:
        return invoke(self.ctx, self.function, event)

    def stored_version(self) -> int | None:
        found = self.ctx.client("dynamodb").get_item(
            TableName=self.table, Key={"id": {"S": self.trade_id}}, ConsistentRead=True
        )
        version = found.get("Item", {}).get("Version", {}).get("N")
        return int(Decimal(version)) if version is not None else None

    def clean_up(self) -> None:
        try:
            self.ctx.client("dynamodb").delete_item(
                TableName=self.table, Key={"id": {"S": self.trade_id}}
            )
        except Exception as error:
            if error_code(error) != "ResourceNotFoundException":
                raise

    def error_item(self, label: str, result: Invocation) -> CheckItem:
        return MISTAKES["probe-error"].item(
            label, "the function failed", function=self.function, error=result.describe()
        )

    def run(self) -> list[CheckItem]:
        items: list[CheckItem] = []
        conditional = ("ConditionalCheckFailed", "conditional request failed")

        label = "A new trade is stored"
        result = self.send(self.event(self.trade_id, 0))
        if result.real_error:
            return [self.error_item(label, result)]
        if self.stored_version() != 0:
            return [
                MISTAKES["condition-rejects-new"].item(
                    label, "a trade seen for the first time was not written"
                )
            ]
        items.append(passed(label))

        label = "A newer version replaces the stored one"
        newer = self.event(self.trade_id, 1)
        result = self.send(newer)
        if result.real_error and not result.mentions(*conditional):
            return [*items, self.error_item(label, result)]
        if self.stored_version() != 1:
            return [
                *items,
                MISTAKES["condition-rejects-newer"].item(label, "version 1 did not replace 0"),
            ]
        items.append(passed(label))

        label = "An older version changes nothing and does not fail"
        result = self.send(self.event(self.trade_id, 0, region="APAC"))
        if result.real_error and result.mentions(*conditional):
            items.append(
                MISTAKES["condition-not-handled"].item(
                    label, "the function failed with ConditionalCheckFailedException"
                )
            )
        elif result.real_error:
            return [*items, self.error_item(label, result)]
        elif self.stored_version() != 1:
            items.append(
                MISTAKES["no-version-condition"].item(
                    label, "version 0 arrived late and overwrote version 1"
                )
            )
        else:
            items.append(passed(label))

        label = "A duplicate changes nothing and does not fail"
        result = self.send(newer)  # the very same message again
        if result.real_error and result.mentions(*conditional):
            if not any(i.code == "condition-not-handled" for i in items):
                items.append(
                    MISTAKES["condition-not-handled"].item(
                        label, "the function failed with ConditionalCheckFailedException"
                    )
                )
        elif result.real_error:
            items.append(self.error_item(label, result))
        else:
            items.append(passed(label))

        label = "Other errors still fail the batch"
        oversized = "labkit-check-" + "x" * OVERSIZED_KEY_LENGTH
        for _ in range(INJECTED_RETRIES):
            result = self.send(self.event(oversized, 0))
            if not result.injected:
                break
        if result.ok:
            items.append(
                MISTAKES["catch-all"].item(
                    label,
                    "a message DynamoDB rejects (ValidationException) was swallowed; "
                    "the function reported success",
                )
            )
        else:
            items.append(passed(label, f"it failed with {result.error_type}, as it should"))
        return items


def check_state_versions(ctx: CheckContext) -> Report:
    """lab2.step1: StateLambda keeps only the newest version of each trade."""
    step, title = "lab2.step1", "Keep only newer versions in StateLambda"
    config = ctx.function_configuration(FunctionId.STATE)
    function = ctx.function(FunctionId.STATE)
    if config is None:
        return _not_set_up(step, title, function)
    if ctx.describe_table(ctx.names.state_table) is None:
        item = MISTAKES["lab-not-provisioned"].item(
            f"{ctx.names.state_table} exists", "it does not", step=step
        )
        return Report(step, title, (item,))
    label = f"{function} runs your new code"
    if _is_starter(config, FunctionId.STATE):
        items = [
            MISTAKES["state-not-deployed"].item(label, "it runs the starter code, unchanged"),
            skipped("Behaviour with duplicates and old versions", "not tried on the old code"),
        ]
        return Report(step, title, tuple(items))
    probe = _StateProbe(ctx, config)
    with quiet_pipeline(ctx):
        try:
            found = probe.run()
        finally:
            probe.clean_up()
    return Report(step, title, (passed(label), *found))


# ---------------------------------------------------------------------------------------------
# lab2.step2: ReduceLambda idempotent


_Batch = list[tuple[str, dict[str, Decimal]]]


class _ReduceProbe:
    KEYS = 6

    def __init__(self, ctx: CheckContext, config: Mapping[str, Any], stream_arn: str) -> None:
        self.ctx = ctx
        self.function = str(config["FunctionName"])
        self.table = ctx.names.aggregate_table
        tag = nonce()
        self.keys = [f"labkit-check:{tag}:{i}" for i in range(self.KEYS)]
        self.first = self._batch(f"{tag}-a", 12, Decimal("1.25"))
        self.second = self._batch(f"{tag}-b", 8, Decimal("0.50"))
        # Built once: a retry delivers the very same event, byte for byte.
        self.first_event = reduce_stream_event(ctx, stream_arn, self.first)
        self.second_event = reduce_stream_event(ctx, stream_arn, self.second)

    def _batch(self, prefix: str, count: int, step: Decimal) -> _Batch:
        messages = []
        for index in range(count):
            key = self.keys[index % self.KEYS]
            other = self.keys[(index + 1) % self.KEYS]
            value = step * (index + 1)
            messages.append((f"{prefix}-{index:02d}", {key: value, other: step}))
        return messages

    @staticmethod
    def expected(batch: _Batch) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for _, values in batch:
            for key, value in values.items():
                totals[key] = totals.get(key, Decimal(0)) + value
        return totals

    def send(self, event: dict[str, Any], qualifier: str | None = None) -> Invocation:
        return invoke(self.ctx, self.function, event, qualifier)

    def values(self) -> dict[str, Decimal]:
        ddb = self.ctx.client("dynamodb")
        found: dict[str, Decimal] = {}
        for key in self.keys:
            item = ddb.get_item(
                TableName=self.table, Key={"Identifier": {"S": key}}, ConsistentRead=True
            ).get("Item", {})
            number = item.get("Value", {}).get("N")
            found[key] = Decimal(number) if number is not None else Decimal(0)
        return found

    def clean_up(self) -> None:
        ddb = self.ctx.client("dynamodb")
        for key in self.keys:
            ddb.delete_item(TableName=self.table, Key={"Identifier": {"S": key}})

    def error_item(self, label: str, result: Invocation) -> CheckItem:
        if result.mentions("IdempotentParameterMismatch"):
            return MISTAKES["token-constant"].item(
                label,
                "a new batch was refused",
                what="a new batch failed with IdempotentParameterMismatchException, because its "
                "token had already been used for another batch",
            )
        if result.mentions("clientRequestToken", "ClientRequestToken") and result.mentions(
            "36", "length"
        ):
            return MISTAKES["token-too-long"].item(label, f"every call fails: {result.describe()}")
        return MISTAKES["reduce-error"].item(
            label, "the function failed", function=self.function, error=result.describe()
        )

    def fresh_version(self) -> tuple[str, bool]:
        """A published version of the current code (new execution environments); True if it
        was created here (and so is deleted afterwards)."""
        lam = self.ctx.client("lambda")
        before = {
            v["Version"]
            for page in lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=self.function
            )
            for v in page.get("Versions", [])
        }
        version = str(lam.publish_version(FunctionName=self.function)["Version"])
        return version, version not in before

    def drop_version(self, version: str) -> None:
        try:
            self.ctx.client("lambda").delete_function(FunctionName=self.function, Qualifier=version)
        except Exception as error:
            if error_code(error) not in ("ResourceNotFoundException", "ResourceConflictException"):
                raise

    def run(self) -> list[CheckItem]:
        items: list[CheckItem] = []
        once = self.expected(self.first)

        label = "A batch is added to AggregateTable"
        result = self.send(self.first_event)
        if result.real_error:
            return [self.error_item(label, result)]
        after_first = self.values()
        if all(v == 0 for v in after_first.values()):
            return [MISTAKES["reduce-not-adding"].item(label, "nothing arrived")]
        if after_first != once:
            return [
                MISTAKES["reduce-error"].item(
                    label,
                    "the totals are not what the batch adds up to",
                    function=self.function,
                    error=f"expected {_show(once)}, found {_show(after_first)}",
                )
            ]
        items.append(passed(label))

        label = "The same batch, retried, is not added again"
        result = self.send(self.first_event)
        if result.real_error:
            return [*items, self.error_item(label, result)]
        after_retry = self.values()
        twice = after_retry != once
        if twice:
            items.append(
                MISTAKES["counted-twice"].item(
                    label, f"after the retry the totals were {_ratio(after_retry, once)}"
                )
            )
            items.append(
                skipped(
                    "A retry in a new execution environment is not added again",
                    "not tried while a plain retry is counted twice",
                )
            )
        else:
            items.append(passed(label))
            label = "A retry in a new execution environment is not added again"
            version, created = self.fresh_version()
            try:
                result = self.send(self.first_event, qualifier=version)
            finally:
                if created:
                    self.drop_version(version)
            if result.real_error:
                items.append(self.error_item(label, result))
            elif (again := self.values()) != once:
                items.append(
                    MISTAKES["token-unstable"].item(
                        label,
                        "a retry in a new execution environment was added again (the totals "
                        f"were {_ratio(again, once)})",
                    )
                )
            else:
                items.append(passed(label))

        label = "A different batch adds to the totals"
        baseline = self.values()
        result = self.send(self.second_event)
        now = self.values()
        added = self.expected(self.second)
        wanted = {k: baseline[k] + added.get(k, Decimal(0)) for k in self.keys}
        if result.real_error and result.mentions("IdempotentParameterMismatch"):
            items.append(
                MISTAKES["token-constant"].item(
                    label,
                    "the second batch was refused",
                    what="the second batch failed with IdempotentParameterMismatchException",
                )
            )
        elif result.real_error:
            items.append(self.error_item(label, result))
        elif now == wanted:
            items.append(passed(label))
        elif now == baseline:
            items.append(
                MISTAKES["token-constant"].item(
                    label,
                    "the second batch was ignored",
                    what="the second batch was taken for a repeat of the first and skipped",
                )
            )
        elif all(now[k] == added.get(k, now[k]) for k in self.keys):
            items.append(
                MISTAKES["put-overwrites"].item(label, "the second batch replaced the totals")
            )
        else:
            items.append(
                MISTAKES["reduce-error"].item(
                    label,
                    "the totals are not what the two batches add up to",
                    function=self.function,
                    error=f"expected {_show(wanted)}, found {_show(now)}",
                )
            )
        return items


def _show(values: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{k.rsplit(':', 1)[-1]}={v}" for k, v in sorted(values.items()))


def _ratio(found: Mapping[str, Decimal], once: Mapping[str, Decimal]) -> str:
    ratios = {found[k] / once[k] for k in once if once[k]}
    if len(ratios) == 1:
        ratio = ratios.pop()
        if ratio == ratio.to_integral_value():
            return f"{int(ratio)} times what the batch adds up to"
    return f"{_show(found)} instead of {_show(once)}"


def check_reduce_idempotent(ctx: CheckContext) -> Report:
    """lab2.step2: a batch delivered twice is added to AggregateTable once."""
    step, title = "lab2.step2", "Make ReduceLambda idempotent"
    config = ctx.function_configuration(FunctionId.REDUCE)
    function = ctx.function(FunctionId.REDUCE)
    if config is None:
        return _not_set_up(step, title, function)
    table = ctx.describe_table(ctx.names.reduce_table)
    aggregate = ctx.describe_table(ctx.names.aggregate_table)
    if table is None or aggregate is None or not table.get("LatestStreamArn"):
        item = MISTAKES["lab-not-provisioned"].item(
            "The lab's tables exist",
            "ReduceTable (with its stream) or AggregateTable is missing",
            step=step,
        )
        return Report(step, title, (item,))
    label = f"{function} runs your new code"
    if _is_starter(config, FunctionId.REDUCE):
        items = [
            MISTAKES["reduce-not-deployed"].item(label, "it runs the starter code, unchanged"),
            skipped("Behaviour when a batch is retried", "not tried on the old code"),
        ]
        return Report(step, title, tuple(items))
    probe = _ReduceProbe(ctx, config, str(table["LatestStreamArn"]))
    with quiet_pipeline(ctx):
        try:
            found = probe.run()
        finally:
            probe.clean_up()
    return Report(step, title, (passed(label), *found))
