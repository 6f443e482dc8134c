"""lab5.step6's check: the hardened replicator sends one poison row to its queue and
replicates every other row.

The probe writes six tagged rows to errors-logfile in one batch, the fourth of them poison (an
empty ``GSI_1_PK``, which the replica's index refuses), lets the learner's mapping and
replicator deal with them, and reads the outcome: which rows reached errors-logfile_replica,
and which rows the failure records in ErrorsReplicaFailures stand for (re-read from the
stream). The mapping's configuration only names the mistake behind what went wrong.
"""

from __future__ import annotations

from typing import Any

from labkit.lab.stream_errors import observe
from labkit.lab.stream_errors.replicator_runs import POISON, ReplicatorRuns, row_of

from .context import CheckContext
from .lab5_probe import MISTAKES, SETTLE_TIMEOUT, usable_mapping
from .probes import invoke, nonce
from .report import CheckItem, Report, failed, passed

__all__ = ["check_hardened_replicator"]

STEP = "lab5.step6"
TITLE = "Harden the replicator"
LABELS = ("a", "b", "c", POISON, "d", "e")


def _poison_event(row_id: str) -> dict[str, Any]:
    """A stream event of one poison row, as the mapping would deliver it."""
    row = row_of(f"{row_id}:{POISON}")
    return {
        "Records": [
            {
                "eventID": "lab5-step6-probe",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"PK": row["PK"]},
                    "NewImage": row,
                    "SequenceNumber": "1",
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        ]
    }


def check_hardened_replicator(ctx: CheckContext) -> Report:
    runs = ReplicatorRuns(
        ctx.client, ctx.settings, wait_idle=ctx.wait_idle, sleep=ctx.sleep, clock=ctx.clock
    )
    names, lab05 = runs.names, runs.lab05
    items: list[CheckItem] = []

    def report() -> Report:
        return Report(STEP, TITLE, tuple(items))

    url = observe.named_queue_url(ctx.client, names.replica_queue)
    if url is None:
        items.append(
            failed(
                f"The queue {names.replica_queue} exists",
                "it does not",
                f"lab.reset('{STEP}') creates it (with everything else the step starts with).",
            )
        )
        return report()
    queue_arn = observe.queue_arn(ctx.client, url)
    mapping = usable_mapping(
        runs.find_mapping(),
        (lab05.logfile, lab05.function),
        STEP,
        items,
        settle=lambda: runs.settle(SETTLE_TIMEOUT),
    )
    if mapping is None:
        return report()

    tag = f"probe-{nonce()[:6]}-"
    ids = runs.put(
        *(f"{tag}{label}" if label != POISON else f"{tag}p:{POISON}" for label in LABELS)
    )
    poison = ids[LABELS.index(POISON)]
    if not runs.settle(SETTLE_TIMEOUT):
        items.append(
            failed(
                "The replicator's mapping gets past the poison row",
                f"it was still retrying after {SETTLE_TIMEOUT:.0f} s",
                "A small MaximumRetryAttempts makes the mapping give up on the poison row.",
            )
        )
        return report()

    def short(row_ids: list[str]) -> str:
        return ", ".join(row_id.removeprefix(tag) for row_id in row_ids)

    replicated = runs.replicated(ids)
    lost = [row_id for row_id in ids if row_id != poison and row_id not in replicated]
    label = f"Every healthy row reaches {lab05.replica}"
    if poison in replicated:
        items.append(
            failed(
                label,
                "the poison row was replicated too",
                f"Does {lab05.replica} still have its GSI_1 index? lab.reset('{STEP}') "
                "restores the step's tables.",
            )
        )
    elif not lost:
        items.append(passed(label, f"{len(ids) - 1} of {len(ids) - 1} rows replicated"))
    elif not mapping.get("BisectBatchOnFunctionError"):
        items.append(
            MISTAKES["lab5-replicator-bisect-off"].item(
                label, f"{short(lost)} never arrived", lost=short(lost), uuid=mapping["UUID"]
            )
        )
    else:
        items.append(
            failed(
                label,
                f"{short(lost)} never arrived",
                f"lab.logs shows what {lab05.function} did; is it lab 05's replicator?",
            )
        )

    discarded = sorted(
        {row for f in runs.failures() for row in runs.discarded(f) if row.startswith(tag)}
    )
    label = f"The poison row ends in {names.replica_queue}"
    if discarded == [poison]:
        items.append(passed(label, "one failure record, for the poison row alone"))
    elif poison in discarded:
        others = [row for row in discarded if row != poison]
        items.append(
            failed(
                label,
                f"it was discarded together with {short(others)}",
                "With BisectBatchOnFunctionError the batch is split until the poison row "
                "stands alone.",
            )
        )
    else:
        items.append(_why_nothing_arrived(ctx, runs, mapping, queue_arn, poison, label))
    return report()


def _why_nothing_arrived(
    ctx: CheckContext,
    runs: ReplicatorRuns,
    mapping: dict[str, Any],
    queue_arn: str,
    poison: str,
    label: str,
) -> CheckItem:
    """No failure record for the poison row: name the reason."""
    lab05 = runs.lab05
    found = "no failure record for it"
    if invoke(ctx, lab05.function, _poison_event(poison)).ok:
        return MISTAKES["lab5-replicator-swallows"].item(label, found, function=lab05.function)
    destination = (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    policy = lab05.policy
    if not destination:
        return MISTAKES["lab5-replicator-destination-missing"].item(
            label, "the mapping has no on-failure destination", queue_arn=queue_arn, policy=policy
        )
    if destination != queue_arn:
        return MISTAKES["lab5-replicator-destination-wrong"].item(
            label,
            f"the failure went to {destination}",
            found=destination,
            queue_arn=queue_arn,
            policy=policy,
        )
    return MISTAKES["lab5-replicator-cannot-send"].item(
        label, found, queue_arn=queue_arn, policy=policy
    )
