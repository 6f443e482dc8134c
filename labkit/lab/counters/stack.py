"""Lab 4's resources at the start and the end of each step, as :class:`~labkit.deploy.Stack`.

* step 1 ends with the versioned bucket, the topic (its policy lets this bucket publish, on
  the condition ``aws:SourceArn``) and the bucket's notification of ``s3:ObjectCreated:*``
  under ``path/to/data/``;
* step 2 adds the state table (Counter + Date), counter-upload-processor with its role and log
  group, the Lambda permission for the topic and the subscription;
* step 3 adds the NEW_IMAGE stream, aggregate-counters (Counter + Date, index ByDate on Date,
  all attributes), counter-upload-aggregator and its mapping (batch 100, TRIM_HORIZON: the
  stream only holds the lab's own changes, so the aggregator sees every one of them);
* step 4 changes no resource (the learner uploads the worked example);
* step 5 deploys the ordered processor.

Each step starts where the previous one ended; the code of a step's own function is the
reference only in its solution.
"""

from __future__ import annotations

from labkit.deploy import Stack
from labkit.deploy.resources import (
    Bucket,
    Condition,
    EventSourceMapping,
    Function,
    GlobalIndex,
    InlinePolicy,
    LogGroup,
    Notification,
    Permission,
    PolicyDocument,
    Principal,
    Role,
    Statement,
    StreamSource,
    StreamView,
    Subscription,
    Table,
    Target,
    Topic,
    bucket_arn_template,
    topic_arn_template,
)

from ..names import LabSettings
from .names import BY_DATE, DATA_PREFIX, CounterFunction, CounterNames
from .packages import package
from .policies import policy_document

#: The lab's tag, on everything that takes tags.
TAGS = (("labkit:lab", "counters"),)
TIMEOUT = 30
AGGREGATOR_BATCH = 100
DESCRIPTIONS = {
    CounterFunction.PROCESSOR: "Keeps each instance's counter values from S3 uploads (labkit).",
    CounterFunction.AGGREGATOR: "Sums the instances' values of each counter (labkit).",
}


def topic_policy(names: CounterNames, bucket: str) -> PolicyDocument:
    """Only this bucket's S3 events may be published to the topic."""
    return PolicyDocument(
        (
            Statement(
                "S3PublishesThisBucketsEvents",
                ("SNS:Publish",),
                (topic_arn_template(names.topic),),
                principal=Principal.service("s3.amazonaws.com"),
                conditions=(
                    Condition("ArnEquals", "aws:SourceArn", (bucket_arn_template(bucket),)),
                ),
            ),
        ),
        policy_id="counter-upload-events-policy",
    )


def _function(
    names: CounterNames, settings: LabSettings, function: CounterFunction, version: str
) -> Function:
    return Function(
        name=names.function(function),
        role=names.role(function),
        code=package(function, version),
        timeout=TIMEOUT,
        memory_size=settings.memory_size,
        runtime=settings.runtime,
        environment=(
            ("STATE_TABLE", names.state_table),
            ("AGGREGATE_TABLE", names.aggregate_table),
        ),
        description=DESCRIPTIONS[function],
        tags=TAGS,
    )


def _role(names: CounterNames, function: CounterFunction, bucket: str) -> Role:
    return Role(
        names.role(function),
        (),
        description=f"Execution role of {names.function(function)} (labkit)",
        tags=TAGS,
        inline=(
            InlinePolicy(
                "main",
                policy_document(
                    names, function, bucket, batch=function is CounterFunction.AGGREGATOR
                ),
            ),
        ),
    )


def _state_table(names: CounterNames, stream: bool) -> Table:
    return Table(
        names.state_table,
        "Counter",
        StreamView.NEW_IMAGE if stream else None,
        TAGS,
        sort_key="Date",
    )


def counters_stack(
    settings: LabSettings, bucket: str, done: int, *, processor: str = "solution"
) -> Stack:
    """Everything that exists once steps 1..``done`` are solved (``done`` = 0: nothing).

    ``processor`` is the processor's code from step 2 on (``ordered`` once step 5 is done).
    """
    names = CounterNames.of(settings)
    stack = Stack()
    if done < 1:
        return stack
    notification = Notification(
        "counter-uploads", Target("sns", names.topic), ("s3:ObjectCreated:*",), DATA_PREFIX
    )
    topics = (Topic(names.topic, topic_policy(names, bucket), TAGS),)
    buckets = (Bucket(bucket, versioning=True, notifications=(notification,), tags=TAGS),)
    if done < 2:
        return Stack(topics=topics, buckets=buckets)
    steps = [CounterFunction.PROCESSOR] + ([CounterFunction.AGGREGATOR] if done >= 3 else [])
    versions = {CounterFunction.PROCESSOR: processor, CounterFunction.AGGREGATOR: "solution"}
    tables = [_state_table(names, stream=done >= 3)]
    mappings: tuple[EventSourceMapping, ...] = ()
    if done >= 3:
        tables.append(
            Table(
                names.aggregate_table,
                "Counter",
                None,
                TAGS,
                sort_key="Date",
                indexes=(GlobalIndex(BY_DATE, "Date"),),
            )
        )
        mappings = (
            EventSourceMapping(
                names.aggregator,
                StreamSource("dynamodb", names.state_table),
                batch_size=AGGREGATOR_BATCH,
                starting_position="TRIM_HORIZON",
            ),
        )
    return Stack(
        tables=tuple(tables),
        roles=tuple(_role(names, f, bucket) for f in steps),
        log_groups=tuple(
            LogGroup(names.log_group(f), settings.log_retention_days, TAGS) for f in steps
        ),
        functions=tuple(_function(names, settings, f, versions[f]) for f in steps),
        mappings=mappings,
        topics=topics,
        subscriptions=(Subscription(names.topic, Target("lambda", names.processor)),),
        buckets=buckets,
        permissions=(
            Permission(
                names.processor,
                "sns-invoke",
                "sns.amazonaws.com",
                source_arn=topic_arn_template(names.topic),
            ),
        ),
    )
