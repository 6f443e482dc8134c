"""The planner: from "what exists" and "what a step needs" to an ordered list of API calls.

``plan_stack(desired, reader, owned=...)`` reads the current state through a
:class:`~labkit.deploy.state.StateReader` and returns a :class:`~labkit.deploy.plan.Plan`:

* what is missing is created, what differs is updated in place, what matches is left alone,
  so running a plan twice makes no calls the second time;
* whatever is in ``owned`` (every resource the lab may have) but not in ``desired`` is removed
  if it exists, which is how a step is reset and how teardown works (``desired`` empty);
* mappings of the lab's functions that the step does not want are removed, and duplicates of a
  wanted mapping are removed too (two mappings on one stream would count everything twice).

Order: removals first (buckets, emptied first, then subscriptions, mappings,
permissions, functions, log groups, topics, queues, roles, policies, tables, streams), then
creations and updates (streams, tables, queues, topics and their policies, buckets, policies,
roles, log groups, functions, permissions, items, mappings, subscriptions, and last the
buckets' notifications, which S3 checks against the topic and queue policies and the Lambda
permissions), each followed by a wait where AWS needs time.

One module per resource kind decides that kind's calls (:mod:`.tables` with :mod:`.indexes`,
:mod:`.streams`, :mod:`.iam`, :mod:`.functions`, :mod:`.permissions`, :mod:`.mappings`,
:mod:`.queues`, :mod:`.topics` with subscriptions, :mod:`.buckets`); this module only puts
them in order.

Plan policies
-------------
Each call says what kind of change it is: ``create`` (add what is missing), ``update``
(change something in place), ``replace`` (destroy and make again: a table with another key,
a stream turned off and on, a mapping with another starting position) or ``remove``.
``plan_stack(..., policy=...)`` keeps only the kinds a :class:`PlanPolicy` allows:

* :data:`CONVERGE` (the default): everything, so what exists becomes exactly ``desired``;
* :data:`KEEP_EXTRA`: create and update, never replace or remove;
* :data:`ADD_MISSING`: only create what is missing; nothing that exists is touched (what a
  re-run of an earlier step's provisioning should do, so no learner work is lost).

The calls left out are ``Plan.skipped`` (and shown as "left as it is" in ``Plan.lines()``),
including any call that needed a value only a skipped call would have captured.
"""

from __future__ import annotations

from ..plan import Plan
from ..resources import Stack
from ..state import StateReader
from . import buckets, functions, iam, mappings, permissions, queues, streams, tables, topics
from .context import Context
from .policy import ADD_MISSING, CONVERGE, KEEP_EXTRA, PlanPolicy, apply


def _build(ctx: Context) -> None:
    table_work = tables.decide(ctx)
    function_states = functions.read(ctx)
    mapping_work = mappings.decide(ctx, table_work, function_states)
    bucket_states = buckets.read(ctx)
    topic_states = topics.read(ctx)
    subscription_work = topics.decide_subscriptions(ctx, topic_states)
    queue_states = queues.read(ctx)

    buckets.remove(ctx, bucket_states)
    topics.remove_subscriptions(ctx, subscription_work)
    mappings.remove(ctx, mapping_work)
    functions.remove_functions(ctx, function_states)
    functions.remove_log_groups(ctx)
    topics.remove_topics(ctx, topic_states)
    queues.remove(ctx, queue_states)
    roles, policies = iam.read(ctx)
    iam.remove_roles(ctx, roles)
    iam.remove_policies(ctx, policies, roles)
    tables.remove(ctx, table_work)
    streams.remove(ctx)

    streams.ensure(ctx)
    tables.ensure(ctx, table_work)
    queues.ensure(ctx, queue_states)
    topics.ensure_topics(ctx, topic_states)
    buckets.ensure(ctx, bucket_states)
    iam.ensure_policies(ctx, policies)
    iam.ensure_roles(ctx, roles)
    functions.ensure_log_groups(ctx)
    functions.ensure_functions(ctx, function_states)
    permissions.plan(ctx, function_states)
    tables.ensure_items(ctx, table_work)
    mappings.ensure(ctx, mapping_work)
    topics.ensure_subscriptions(ctx, subscription_work)
    buckets.ensure_notifications(ctx, bucket_states)


def plan_stack(
    desired: Stack,
    reader: StateReader,
    *,
    owned: Stack | None = None,
    title: str = "plan",
    policy: PlanPolicy = CONVERGE,
) -> Plan:
    """The calls that turn what ``reader`` sees into ``desired``.

    Resources in ``owned`` that ``desired`` lacks are removed if they exist; by default
    ``owned`` is ``desired`` itself (nothing is removed). ``policy`` limits the kinds of
    change (:data:`ADD_MISSING`: only create what is missing); the calls it leaves out are
    the plan's ``skipped`` calls.
    """
    ctx = Context(desired, owned if owned is not None else desired, reader)
    _build(ctx)
    calls, skipped = apply(policy, ctx.calls)
    return Plan(title, tuple(calls), tuple(ctx.notes), tuple(skipped))


__all__ = ["ADD_MISSING", "CONVERGE", "KEEP_EXTRA", "PlanPolicy", "plan_stack"]
