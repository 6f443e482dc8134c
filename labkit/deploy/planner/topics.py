"""SNS topics (with their access policy) and their subscriptions.

A subscription is the lab's when its endpoint is a function or queue that a wanted or owned
subscription names (with or without a version qualifier); those the step does not want are
removed, duplicates too. Subscriptions of a topic that goes are removed before it (AWS drops
them with the topic, but saying so keeps the plan honest and the local cloud tidy). Others'
subscriptions (an e-mail address, another account's queue) are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..plan import Call
from ..resources import Subscription, Topic
from ..state import SubscriptionState, TopicState, normalise_policy
from .context import Context, missing_tags, tag_list, unique

TOPIC_GONE = ("NotFound", "NotFoundException")


def _topic_names(ctx: Context) -> list[str]:
    names = [t.name for t in unique(ctx.desired.topics, ctx.owned.topics)]
    for sub in (*ctx.desired.subscriptions, *ctx.owned.subscriptions):
        if sub.topic not in names:
            names.append(sub.topic)
    return names


def read(ctx: Context) -> dict[str, TopicState | None]:
    return {name: ctx.reader.topic(name) for name in _topic_names(ctx)}


def remove_topics(ctx: Context, topics: Mapping[str, TopicState | None]) -> None:
    wanted = {t.name for t in ctx.desired.topics}
    for topic in ctx.owned.topics:
        state = topics.get(topic.name)
        if topic.name in wanted or state is None:
            continue
        ctx.add(
            Call(
                "sns",
                "delete_topic",
                {"TopicArn": state.arn},
                f"Delete topic {topic.name}",
                topic.label,
                tolerate=TOPIC_GONE,
                change="remove",
            )
        )


def ensure_topics(ctx: Context, topics: Mapping[str, TopicState | None]) -> None:
    for topic in ctx.desired.topics:
        _ensure_topic(ctx, topic, topics.get(topic.name))


def _ensure_topic(ctx: Context, topic: Topic, state: TopicState | None) -> None:
    arn = ctx.env.topic_arn(topic.name)
    if state is None:
        params: dict[str, Any] = {"Name": topic.name}
        if topic.tags:
            params["Tags"] = tag_list(topic.tags)
        ctx.add(
            Call(
                "sns",
                "create_topic",
                params,
                f"Create topic {topic.name}",
                topic.label,
                change="create",
            )
        )
    if topic.policy is not None:
        document = topic.policy.to_dict(ctx.env)
        current = None if state is None else state.policy
        if current is None or normalise_policy(current) != normalise_policy(document):
            ctx.add(
                Call(
                    "sns",
                    "set_topic_attributes",
                    {
                        "TopicArn": arn,
                        "AttributeName": "Policy",
                        "AttributeValue": json.dumps(document),
                    },
                    f"Set the access policy of topic {topic.name} "
                    f"({', '.join(s.sid for s in topic.policy.statements)})",
                    topic.label,
                    change="create" if state is None else "update",
                )
            )
    if state is not None:
        missing = missing_tags(topic.tags, state.tags)
        if missing:
            ctx.add(
                Call(
                    "sns",
                    "tag_resource",
                    {"ResourceArn": arn, "Tags": tag_list(missing)},
                    f"Tag topic {topic.name}",
                    topic.label,
                    change="update",
                )
            )


# ----- subscriptions ---------------------------------------------------------------------------
@dataclass
class SubscriptionWork:
    removals: list[tuple[str, SubscriptionState, str]] = field(default_factory=list)
    creations: list[Subscription] = field(default_factory=list)


def _unqualified(endpoint: str) -> str:
    """A function ARN without its version or alias (``…:function:F:3`` -> ``…:function:F``)."""
    parts = endpoint.split(":")
    if len(parts) > 7 and parts[2] == "lambda" and parts[5] == "function":
        return ":".join(parts[:7])
    return endpoint


def decide_subscriptions(ctx: Context, topics: Mapping[str, TopicState | None]) -> SubscriptionWork:
    work = SubscriptionWork()
    gone = {t.name for t in ctx.owned.topics} - {t.name for t in ctx.desired.topics}
    ours = {
        (s.topic, s.protocol, s.target.arn(ctx.env))
        for s in (*ctx.desired.subscriptions, *ctx.owned.subscriptions)
    }
    for name, state in topics.items():
        if state is None:
            continue
        wanted = {
            (s.protocol, s.target.arn(ctx.env)): s
            for s in ctx.desired.subscriptions
            if s.topic == name
        }
        matched: set[tuple[str, str]] = set()
        for sub in sorted(state.subscriptions, key=lambda s: s.arn):
            if not sub.arn.startswith("arn:"):
                continue  # pending confirmation: no ARN to remove it by yet
            key = (sub.protocol, sub.endpoint)
            lab = (name, sub.protocol, _unqualified(sub.endpoint)) in ours
            if name in gone:
                if lab:
                    work.removals.append((name, sub, f"topic {name} is removed"))
            elif key in wanted and key not in matched:
                matched.add(key)
            elif key in wanted:
                work.removals.append((name, sub, "it duplicates another subscription"))
            elif lab:
                work.removals.append((name, sub, "the step does not use it"))
        if name not in gone:
            work.creations.extend(s for key, s in wanted.items() if key not in matched)
    for wanted_sub in ctx.desired.subscriptions:
        if topics.get(wanted_sub.topic) is None and wanted_sub not in work.creations:
            work.creations.append(wanted_sub)  # the topic is created by this plan
    return work


def remove_subscriptions(ctx: Context, work: SubscriptionWork) -> None:
    for topic, sub, reason in work.removals:
        ctx.add(
            Call(
                "sns",
                "unsubscribe",
                {"SubscriptionArn": sub.arn},
                f"Unsubscribe {sub.endpoint.rsplit(':', 1)[-1]} ({sub.protocol}) from topic "
                f"{topic} ({reason})",
                f"subscription {sub.arn}",
                tolerate=TOPIC_GONE,
                change="remove",
            )
        )


def ensure_subscriptions(ctx: Context, work: SubscriptionWork) -> None:
    for sub in work.creations:
        ctx.add(
            Call(
                "sns",
                "subscribe",
                {
                    "TopicArn": ctx.env.topic_arn(sub.topic),
                    "Protocol": sub.protocol,
                    "Endpoint": sub.target.arn(ctx.env),
                    "ReturnSubscriptionArn": True,
                },
                f"Subscribe {sub.target.describe()} to topic {sub.topic}",
                sub.label,
                change="create",
            )
        )
