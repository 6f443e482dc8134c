"""Kinesis data streams: create, encrypt, tag, delete."""

from __future__ import annotations

from ..plan import Call, Change
from ..resources import KinesisStream
from .context import Context, missing_tags
from .waits import stream_active, stream_gone


def remove(ctx: Context) -> None:
    wanted = {s.name for s in ctx.desired.streams}
    for stream in ctx.owned.streams:
        if stream.name in wanted or ctx.reader.kinesis_stream(stream.name) is None:
            continue
        ctx.add(
            Call(
                "kinesis",
                "delete_stream",
                {"StreamName": stream.name, "EnforceConsumerDeletion": True},
                f"Delete Kinesis stream {stream.name}",
                stream.label,
                wait=stream_gone(stream.name),
                tolerate=("ResourceNotFoundException",),
                change="remove",
            )
        )


def ensure(ctx: Context) -> None:
    for stream in ctx.desired.streams:
        _ensure(ctx, stream)


def _ensure(ctx: Context, stream: KinesisStream) -> None:
    current = ctx.reader.kinesis_stream(stream.name)
    change: Change = "create" if current is None else "update"
    if current is None:
        ctx.add(
            Call(
                "kinesis",
                "create_stream",
                {
                    "StreamName": stream.name,
                    "ShardCount": stream.shard_count,
                    "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                },
                f"Create Kinesis stream {stream.name} ({stream.shard_count} shards)",
                stream.label,
                wait=stream_active(stream.name),
                change="create",
            )
        )
        missing = stream.tags
        encrypted = False
    else:
        encrypted = current.encryption == "KMS"
        if current.shard_count != stream.shard_count:
            ctx.notes.append(
                f"{stream.name} has {current.shard_count} shards (the lab would create "
                f"{stream.shard_count}); it is kept as it is."
            )
        missing = missing_tags(stream.tags, current.tags)
    if stream.kms_key is not None and not encrypted:
        ctx.add(
            Call(
                "kinesis",
                "start_stream_encryption",
                {"StreamName": stream.name, "EncryptionType": "KMS", "KeyId": stream.kms_key},
                f"Encrypt Kinesis stream {stream.name} with {stream.kms_key}",
                stream.label,
                wait=stream_active(stream.name),
                change=change,
            )
        )
    if missing:
        ctx.add(
            Call(
                "kinesis",
                "add_tags_to_stream",
                {"StreamName": stream.name, "Tags": dict(missing)},
                f"Tag Kinesis stream {stream.name}",
                stream.label,
                change=change,
            )
        )
