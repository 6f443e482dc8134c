"""Checks of lab 5 (when stream processing fails).

Every check writes tagged probe items through the learner's own mapping and handler and
judges what happened to them: the invocation log, the processed-record counters, the failure
records in the queue, the quarantine table and the window totals. Configuration is read only
to name the mistake behind a behaviour, and to avoid probing a mapping that would retry a
poison record forever.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from labkit.lab.stream_errors import observe
from labkit.lab.stream_errors.steps import STEP_INFOS

from .context import CheckContext
from .lab5_probe import MISTAKES, Probe, labels, preflight
from .lab5_replicator import check_hardened_replicator
from .probes import invoke
from .report import CheckItem, Report, failed, passed

__all__ = ["CHECKS"]

#: The longest tumbling window the step-5 check is willing to wait for.
MAX_WINDOW = 30
#: How long after a window's end its final invoke may take to show.
SETTLE_MARGIN = 15.0
_TITLES = {info.id: info.title for info in STEP_INFOS}


def _report(step: str, items: list[CheckItem]) -> Report:
    return Report(step, _TITLES[step], tuple(items))


# ---- lab5.step1 ------------------------------------------------------------------------------
def check_bounded_retries(ctx: CheckContext) -> Report:
    """A poison record's batch is tried retries + 1 times, then the shard moves on."""
    step = "lab5.step1"
    probe = Probe(ctx)
    items: list[CheckItem] = []
    mapping = preflight(probe, step, items)
    if mapping is None:
        return _report(step, items)
    retries = int(mapping["MaximumRetryAttempts"])
    poison = probe.put("a", "poison:fail", "b")[1]
    # Written once the poison batch is under way (without pausing the mapping, which would
    # abandon that batch), so it queues up behind it.
    probe.wait_until_seen(poison)
    after = probe.put("after", together=False)[0]
    if not probe.settle():
        items.append(
            failed(
                "The shard moves on after the poison record",
                "the mapping was still retrying when the check gave up",
                "Look at errors.invocations(): with a small MaximumRetryAttempts the same batch "
                "should stop coming back.",
            )
        )
        return _report(step, items)
    tries = Counter((i.first, i.last) for i in probe.invocations() if poison in i.ids and i.failed)
    most = max(tries.values(), default=0)
    label = "The poison record's batch is tried retries + 1 times"
    if most == retries + 1:
        items.append(passed(label, f"{most} attempts with MaximumRetryAttempts {retries}"))
    else:
        items.append(
            failed(
                label,
                f"the batch with the poison record was tried {most} times, expected {retries + 1}",
                "Is ErrorsProcessor the provided handler? lab.reset('lab5.step1') restores it.",
            )
        )
    done = probe.processed()
    sequence = probe.sequences().get(after)
    label = "Records behind the poison record are processed"
    if sequence is not None and done.get(sequence, 0) >= 1:
        items.append(passed(label, "the item written after it went through"))
    else:
        items.append(
            failed(
                label,
                "the item written after the poison record was not processed",
                "After the last retry the mapping should discard the batch and go on; "
                "errors.invocations() shows what it did.",
            )
        )
    return _report(step, items)


# ---- lab5.step2 ------------------------------------------------------------------------------
def check_quarantine(ctx: CheckContext) -> Report:
    """Discarded batches reach the queue, and the quarantiner copies exactly their records."""
    step = "lab5.step2"
    probe = Probe(ctx)
    names = probe.names
    items: list[CheckItem] = []
    url = observe.queue_url(ctx.client, names)
    if url is None:
        items.append(
            failed(
                f"The queue {names.queue} exists",
                "it does not",
                f"lab.reset('{step}') creates it (with everything else the step starts with).",
            )
        )
        return _report(step, items)
    queue_arn = observe.queue_arn(ctx.client, url)
    mapping = preflight(probe, step, items)
    if mapping is None:
        return _report(step, items)
    destination = (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    label = "Discarded batches are sent to the queue"
    policy = names.policy("ErrorsProcessor")
    if not destination:
        items.append(
            MISTAKES["lab5-destination-missing"].item(
                label,
                "the mapping has no on-failure destination",
                queue_arn=queue_arn,
                policy=policy,
            )
        )
        return _report(step, items)
    if destination != queue_arn:
        items.append(
            MISTAKES["lab5-destination-wrong"].item(
                label,
                f"the destination is {destination}",
                found=destination,
                queue_arn=queue_arn,
            )
        )
        return _report(step, items)
    ids = probe.put("kept", "poison:fail")
    probe.settle()
    sequences = probe.sequences()
    mine = {sequences[i]: i for i in ids if i in sequences}
    records = [f for f in probe.failures() if any(f.covers(s) for s in mine)]
    if not records:
        items.append(
            failed(
                label,
                "the probe's batch was not discarded to the queue",
                f"Does {policy} allow sqs:SendMessage on {queue_arn}? Lambda sends the failure "
                "record with the function's role.",
            )
        )
        return _report(step, items)
    items.append(passed(label, f"{len(records)} failure record(s) for the probe's batch"))
    expected = {s: i for s, i in mine.items() if any(f.covers(s) for f in records)}
    before = {row["SequenceNumber"] for row in observe.quarantined(ctx.client, names)}
    covered = probe.failures()
    result = invoke(ctx, names.quarantiner, {})
    label = "ErrorsQuarantiner copies the discarded records"
    if not result.ok:
        items.append(
            MISTAKES["lab5-quarantiner-error"].item(
                label, result.describe(), error=result.describe()
            )
        )
        return _report(step, items)
    rows = observe.quarantined(ctx.client, names)
    copied = {r["SequenceNumber"] for r in rows} & set(expected)
    fresh = [r for r in rows if r["SequenceNumber"] not in before]
    extra = [r for r in fresh if not any(f.covers(r["SequenceNumber"]) for f in covered)]
    table = names.quarantine
    if not copied:
        items.append(
            MISTAKES["lab5-quarantine-empty"].item(label, f"nothing reached {table}", table=table)
        )
    elif len(copied) < len(expected):
        items.append(
            MISTAKES["lab5-quarantine-incomplete"].item(
                label,
                f"{len(copied)} of {len(expected)} records copied",
                copied=len(copied),
                expected=len(expected),
                table=table,
            )
        )
    elif extra:
        shown = ", ".join(f"{r['id']} ({r['SequenceNumber']})" for r in extra[:3])
        items.append(
            MISTAKES["lab5-quarantine-wrong-records"].item(
                label, f"{len(extra)} record(s) that were not discarded", extra=shown, table=table
            )
        )
    else:
        items.append(passed(label, f"{len(copied)} record(s), re-read from the stream"))
    left = [f for f in probe.failures() if any(f.covers(s) for s in mine)]
    if left and copied:
        items.append(
            MISTAKES["lab5-quarantine-keeps-message"].item(
                "Copied failure records leave the queue",
                f"{len(left)} failure record(s) of the probe are still in {names.queue}",
            )
        )
    return _report(step, items)


# ---- lab5.step3 ------------------------------------------------------------------------------
def check_bisect(ctx: CheckContext) -> Report:
    """Only the poison record is discarded; its healthy neighbours are processed."""
    step = "lab5.step3"
    probe = Probe(ctx)
    items: list[CheckItem] = []
    mapping = preflight(probe, step, items)
    if mapping is None:
        return _report(step, items)
    ids = probe.put("a", "b", "c", "poison:fail", "d", "e")
    poison = ids[3]
    probe.settle()
    sequences = probe.sequences()
    done = probe.processed()
    lost = [i for i in ids if i != poison and done.get(sequences.get(i, ""), 0) == 0]
    label = "The poison record's healthy neighbours are processed"
    if not lost:
        items.append(passed(label, "all five went through"))
    elif not mapping.get("BisectBatchOnFunctionError"):
        items.append(
            MISTAKES["lab5-bisect-off"].item(
                label,
                f"{labels(probe, lost)} were discarded",
                lost=labels(probe, lost),
                uuid=mapping["UUID"],
            )
        )
    else:
        items.append(
            failed(
                label,
                f"{labels(probe, lost)} were not processed",
                "errors.invocations() shows how the batch was split; is ErrorsProcessor the "
                "provided handler?",
            )
        )
    alone = [i for i in probe.invocations() if i.ids == (poison,)]
    label = "The poison record ends up alone in its batch"
    if alone:
        items.append(passed(label, f"tried alone {len(alone)} time(s), then discarded"))
    else:
        items.append(
            failed(
                label,
                "it never was",
                "With BisectBatchOnFunctionError the batch halves "
                "until the poison record stands alone.",
            )
        )
    return _report(step, items)


# ---- lab5.step4 ------------------------------------------------------------------------------
def check_partial(ctx: CheckContext) -> Report:
    """A failed record is reported: nothing before it runs twice, nothing after it is lost."""
    step = "lab5.step4"
    probe = Probe(ctx)
    items: list[CheckItem] = []
    mapping = preflight(probe, step, items)
    if mapping is None:
        return _report(step, items)
    ids = probe.put("a", "b:fail-once", "c", "d:fail-once", "e")
    probe.settle()
    sequences = probe.sequences()
    done = probe.processed()
    invocations = probe.invocations()
    reported = [(r, i) for i in invocations for r in i.reported]
    lost = [i for i in ids if done.get(sequences.get(i, ""), 0) == 0]
    enabled = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
    first, twice = ids[0], done.get(sequences.get(ids[0], ""), 0) > 1
    label = "Failed records are reported and retried from there"
    if any(r == "" for r, _ in reported):
        items.append(
            MISTAKES["lab5-partial-sample-key"].item(
                label, "every batch reported an empty identifier"
            )
        )
    elif any(r not in i.sequences for r, i in reported):
        wrong = next(r for r, i in reported if r not in i.sequences)
        items.append(
            MISTAKES["lab5-partial-wrong-identifier"].item(
                label, f"it reported {wrong!r}", reported=repr(wrong)
            )
        )
    elif lost and reported and not enabled:
        items.append(
            MISTAKES["lab5-partial-not-enabled"].item(
                label, f"{labels(probe, lost)} were lost", lost=labels(probe, lost)
            )
        )
    elif lost and reported:
        items.append(
            MISTAKES["lab5-partial-last-only"].item(
                label, f"{labels(probe, lost)} were lost", lost=labels(probe, lost)
            )
        )
    elif twice and not reported:
        items.append(
            MISTAKES["lab5-partial-raises"].item(
                label,
                f"{probe.short(first)} (before the failure) was processed more than once",
                duplicates=probe.short(first),
            )
        )
    elif lost:
        items.append(
            failed(
                label,
                f"{labels(probe, lost)} were not processed",
                "errors.invocations() shows each batch and what it reported.",
            )
        )
    elif not reported:
        items.append(
            failed(
                label,
                "no invocation reported a failed record",
                "Return {'batchItemFailures': [{'itemIdentifier': <SequenceNumber>}]}.",
            )
        )
    else:
        items.append(passed(label, f"{len(reported)} report(s), nothing lost"))
        label = "Records before a failure are processed once"
        if twice:
            items.append(
                failed(label, f"{probe.short(first)} ran twice", "Report instead of raising.")
            )
        else:
            items.append(passed(label, f"{probe.short(first)} ran once"))
    return _report(step, items)


# ---- lab5.step5 ------------------------------------------------------------------------------
def _totals_of(ctx: CheckContext, probe: Probe) -> dict[str, int]:
    found: Counter[str] = Counter()
    for row in observe.window_totals(ctx.client, probe.names):
        for item, amount in row["totals"].items():
            if str(item).startswith(probe.id("")):
                found[str(item)] += int(amount)
    return dict(found)


def check_window(ctx: CheckContext) -> Report:
    """Each window's totals reach ErrorsWindows at its final invoke."""
    step = "lab5.step5"
    probe = Probe(ctx)
    items: list[CheckItem] = []
    mapping = preflight(probe, step, items)
    if mapping is None:
        return _report(step, items)
    window = int(mapping.get("TumblingWindowInSeconds") or 0)
    if not 0 < window <= MAX_WINDOW:
        items.append(
            MISTAKES["lab5-window-missing"].item(
                "The mapping has a short tumbling window",
                f"TumblingWindowInSeconds is {window}",
                window=window,
                uuid=mapping["UUID"],
            )
        )
        return _report(step, items)
    first, second = probe.put({"id": "x", "amount": 2}, {"id": "y", "amount": 5}, together=False)
    probe.put({"id": "x", "amount": 4}, together=False)
    expected = {first: 6, second: 5}
    deadline = ctx.clock() + window + SETTLE_MARGIN
    totals = _totals_of(ctx, probe)
    while totals != expected and ctx.clock() < deadline:
        probe.settle(window + SETTLE_MARGIN)
        ctx.sleep(0.25)
        totals = _totals_of(ctx, probe)
    label = "The window's totals reach ErrorsWindows"
    if totals == expected:
        items.append(passed(label, json.dumps({probe.short(k): v for k, v in totals.items()})))
        return _report(step, items)
    retried_ok = [i for i in probe.invocations() if i.outcome == "ok" and i.attempt > 1]
    if retried_ok:
        items.append(
            MISTAKES["lab5-window-no-state"].item(
                label, "Lambda retried invocations that the handler finished"
            )
        )
        return _report(step, items)
    shown = {probe.short(k): v for k, v in totals.items()} or "nothing"
    found = f"Expected x=6, y=5; found {shown}"
    items.append(
        MISTAKES["lab5-window-not-written"].item(
            label, found, found=found, table=probe.names.windows
        )
    )
    return _report(step, items)


CHECKS: dict[str, Callable[[CheckContext], Report]] = {
    "lab5.step1": check_bounded_retries,
    "lab5.step2": check_quarantine,
    "lab5.step3": check_bisect,
    "lab5.step4": check_partial,
    "lab5.step5": check_window,
    "lab5.step6": check_hardened_replicator,
}
assert tuple(CHECKS) == tuple(info.id for info in STEP_INFOS)
