"""S3 buckets: created (in the plan's region), versioned, tagged, emptied and deleted, and
their notification configuration, set last because S3 checks that every destination accepts
its events (a topic's or queue's policy, a function's permission)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..plan import Call, Change
from ..resources import Bucket, Notification
from ..state import BucketState, NotificationState
from .context import Context, missing_tags, unique
from .waits import DESTINATION_NOT_VALID_YET

BUCKET_GONE = ("NoSuchBucket",)
DELETE_BATCH = 1000
#: ``put_bucket_notification_configuration`` keys, by the kind of destination.
CONFIGURATION_KEYS = {
    "sns": ("TopicConfigurations", "TopicArn"),
    "sqs": ("QueueConfigurations", "QueueArn"),
    "lambda": ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
}


def read(ctx: Context) -> dict[str, BucketState | None]:
    every = unique(ctx.desired.buckets, ctx.owned.buckets)
    return {b.name: ctx.reader.bucket(b.name) for b in every}


# ----- removals ----------------------------------------------------------------------------
def remove(ctx: Context, buckets: Mapping[str, BucketState | None]) -> None:
    wanted = {b.name for b in ctx.desired.buckets}
    for bucket in ctx.owned.buckets:
        if bucket.name in wanted or buckets.get(bucket.name) is None:
            continue
        objects = ctx.reader.bucket_objects(bucket.name)
        for start in range(0, len(objects), DELETE_BATCH):
            batch = objects[start : start + DELETE_BATCH]
            ctx.add(
                Call(
                    "s3",
                    "delete_objects",
                    {
                        "Bucket": bucket.name,
                        "Delete": {
                            "Objects": [
                                {
                                    "Key": o.key,
                                    **({"VersionId": o.version_id} if o.version_id else {}),
                                }
                                for o in batch
                            ],
                            "Quiet": True,
                        },
                    },
                    f"Delete {len(batch)} object(s) from bucket {bucket.name}",
                    bucket.label,
                    tolerate=BUCKET_GONE,
                    change="remove",
                )
            )
        ctx.add(
            Call(
                "s3",
                "delete_bucket",
                {"Bucket": bucket.name},
                f"Delete bucket {bucket.name}",
                bucket.label,
                tolerate=BUCKET_GONE,
                change="remove",
            )
        )


# ----- creations and updates -----------------------------------------------------------------
def ensure(ctx: Context, buckets: Mapping[str, BucketState | None]) -> None:
    """The buckets, their versioning and tags (notifications come at the end of the plan)."""
    for bucket in ctx.desired.buckets:
        state = buckets.get(bucket.name)
        change: Change = "create" if state is None else "update"
        if state is None:
            params: dict[str, Any] = {"Bucket": bucket.name}
            if ctx.env.region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.env.region}
            ctx.add(
                Call(
                    "s3",
                    "create_bucket",
                    params,
                    f"Create bucket {bucket.name}",
                    bucket.label,
                    tolerate=("BucketAlreadyOwnedByYou",),
                    change="create",
                )
            )
        current = None if state is None else state.versioning
        status = "Enabled" if bucket.versioning else ("Suspended" if current else None)
        if status is not None and status != current:
            ctx.add(
                Call(
                    "s3",
                    "put_bucket_versioning",
                    {"Bucket": bucket.name, "VersioningConfiguration": {"Status": status}},
                    f"{'Turn on' if bucket.versioning else 'Suspend'} versioning of bucket "
                    f"{bucket.name}",
                    bucket.label,
                    change=change,
                )
            )
        tags = {} if state is None else dict(state.tags)
        if missing_tags(bucket.tags, tags):
            tags.update(bucket.tags)  # put_bucket_tagging replaces them all: keep the others
            ctx.add(
                Call(
                    "s3",
                    "put_bucket_tagging",
                    {
                        "Bucket": bucket.name,
                        "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
                    },
                    f"Tag bucket {bucket.name}",
                    bucket.label,
                    change=change,
                )
            )


def _entry(ctx: Context, notification: Notification) -> NotificationState:
    return NotificationState(
        id=notification.id,
        kind=notification.target.kind,
        arn=notification.target.arn(ctx.env),
        events=tuple(sorted(notification.events)),
        prefix=notification.prefix,
        suffix=notification.suffix,
    )


def configuration(entries: tuple[NotificationState, ...]) -> dict[str, Any]:
    """Entries as ``put_bucket_notification_configuration`` takes them."""
    document: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        key, arn_key = CONFIGURATION_KEYS[entry.kind]
        item: dict[str, Any] = {"Id": entry.id, arn_key: entry.arn, "Events": list(entry.events)}
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", entry.prefix), ("suffix", entry.suffix))
            if value
        ]
        if rules:
            item["Filter"] = {"Key": {"FilterRules": rules}}
        document.setdefault(key, []).append(item)
    return document


def _key(entry: NotificationState) -> tuple[str, ...]:
    return (entry.id, entry.kind, entry.arn, *entry.events, "|", entry.prefix, entry.suffix)


def ensure_notifications(ctx: Context, buckets: Mapping[str, BucketState | None]) -> None:
    for bucket in ctx.desired.buckets:
        state = buckets.get(bucket.name)
        current = () if state is None else state.notifications
        wanted = tuple(_entry(ctx, n) for n in bucket.notifications)
        if sorted(map(_key, current)) == sorted(map(_key, wanted)):
            continue
        ctx.add(_put_notifications(bucket, wanted, current))


def _put_notifications(
    bucket: Bucket, wanted: tuple[NotificationState, ...], current: tuple[NotificationState, ...]
) -> Call:
    if not wanted:
        description = f"Remove the event notifications of bucket {bucket.name}"
        change: Change = "remove"
    else:
        shown = "; ".join(n.describe() for n in bucket.notifications)
        description = f"Send events of bucket {bucket.name}: {shown}"
        change = "update" if current else "create"
    return Call(
        "s3",
        "put_bucket_notification_configuration",
        {"Bucket": bucket.name, "NotificationConfiguration": configuration(wanted)},
        description,
        bucket.label,
        retry=(DESTINATION_NOT_VALID_YET,),
        change=change,
    )
