"""Lab 4 (notebook 06) as a :class:`~labkit.lab.parts.LabPart`: AdRoll's counter aggregation.

Uploads under ``path/to/data/`` → SNS topic → counter-upload-processor → the state table →
its NEW_IMAGE stream → counter-upload-aggregator → aggregate-counters (index ByDate).
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.deploy import Package, Stack

from ..names import LabSettings
from ..parts import StepInfo, StepNotAvailable
from .names import CounterNames
from .packages import function_of, package_with, source

STEPS: tuple[StepInfo, ...] = (
    StepInfo(
        "lab4.step1",
        4,
        1,
        "Uploads under path/to/data/ notify the topic",
        "Create a versioned bucket and the topic counter-upload-events, let only this bucket "
        "publish to it, and notify it of s3:ObjectCreated:* under path/to/data/.",
    ),
    StepInfo(
        "lab4.step2",
        4,
        2,
        "counter-upload-processor keeps each instance's values",
        "Create counter-upload-processor-state (Counter + Date), the function with its role, "
        "its Lambda permission for the topic and the subscription; store each value with two "
        "conditional updates.",
    ),
    StepInfo(
        "lab4.step3",
        4,
        3,
        "The state table's stream drives the totals in aggregate-counters",
        "Enable a NEW_IMAGE stream, create aggregate-counters (Counter + Date, index ByDate) "
        "and connect counter-upload-aggregator, which writes a total only when it changes.",
    ),
    StepInfo(
        "lab4.step4",
        4,
        4,
        "The worked example gives COUNTER1 = 191122",
        "Upload the material's five files for 2015-11-16 and query ByDate: COUNTER1 = 191122, "
        "COUNTER2 = 54321.",
    ),
    StepInfo(
        "lab4.step5",
        4,
        5,
        "An old, retried delivery cannot undo a newer value",
        "Keep each instance's S3 sequencer beside its value and update only when the event "
        "is newer.",
    ),
)

#: Why lab 4 cannot be provisioned by labkit yet (the deploy kinds it needs are on their way).
NOT_DEPLOYABLE = (
    "labkit cannot build lab 4's resources yet: its deployer does not know S3 buckets and "
    "notifications, SNS topics, policies and subscriptions, Lambda permissions or tables with "
    "a sort key and an index. Build the step with the notebook's code (06-counters) instead; "
    "lab.check and lab.hint work as usual."
)


@dataclass(frozen=True)
class CountersPart:
    """Lab 4: S3 → SNS → Lambda → DynamoDB → stream → Lambda, after the 2015 AdRoll article."""

    key: str = "counters"
    title: str = "Aggregate counters uploaded to S3"
    notebook: str = "06-counters"

    @property
    def steps(self) -> tuple[StepInfo, ...]:
        return STEPS

    def stack(self, settings: LabSettings, step_id: str | None, *, solved: bool = False) -> Stack:
        raise StepNotAvailable(NOT_DEPLOYABLE)

    def owned(self, settings: LabSettings) -> Stack:
        # Nothing labkit would create yet, so nothing for a teardown to remove.
        return Stack()

    def functions(self) -> tuple[str, ...]:
        return ("counter-upload-processor", "counter-upload-aggregator")

    def source(self, function: str, version: str = "starter") -> str:
        return source(function_of(function), version)

    def package_with(self, function: str, handler_source: str) -> Package:
        return package_with(function_of(function), handler_source)

    def function_name(self, settings: LabSettings, function: str) -> str:
        return CounterNames.of(settings).function(function_of(function))


PART = CountersPart()
