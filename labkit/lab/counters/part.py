"""Lab 4 (notebook 06) as a :class:`~labkit.lab.parts.LabPart`: AdRoll's counter aggregation.

Uploads under ``path/to/data/`` → SNS topic → counter-upload-processor → the state table →
its NEW_IMAGE stream → counter-upload-aggregator → aggregate-counters (index ByDate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from labkit.deploy import Package, Stack

from ..names import LabSettings
from ..parts import StepInfo
from .names import CounterNames
from .packages import function_of, package_with, source
from .stack import counters_stack

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


def _account() -> str:
    """The account boto3's default session is in (the lab's: ``Lab()`` points boto3 at it),
    or "" when boto3 has no account to ask (then nothing of lab 4 can exist there either)."""
    key = (
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_PROFILE"),
        os.environ.get("AWS_ACCESS_KEY_ID"),
    )
    if key not in _ACCOUNTS:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        try:
            # A fresh session reads the environment now (the default one caches credentials).
            sts = boto3.session.Session().client("sts", config=config)
            found = sts.get_caller_identity()["Account"]
        except Exception:
            found = ""
        _ACCOUNTS[key] = str(found)
    return _ACCOUNTS[key]


_ACCOUNTS: dict[tuple[str | None, str | None, str | None], str] = {}


def bucket_name(settings: LabSettings) -> str:
    """The lab's bucket: ``counter-uploads`` locally, ``<prefix>counter-uploads-<account>``
    with a prefix (bucket names are global across AWS)."""
    names = CounterNames.of(settings)
    return names.bucket(_account() if names.prefix else "")


#: Steps solved at the start of each step, and at its end.
_DONE_AT_START = {
    "lab4.step1": 0,
    "lab4.step2": 1,
    "lab4.step3": 2,
    "lab4.step4": 3,
    "lab4.step5": 3,
}
_DONE_AT_END = {"lab4.step1": 1, "lab4.step2": 2, "lab4.step3": 3, "lab4.step4": 3, "lab4.step5": 3}


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
        if step_id is None:
            return counters_stack(settings, bucket_name(settings), 3, processor="ordered")
        table = _DONE_AT_END if solved else _DONE_AT_START
        done = table[step_id]
        ordered = solved and step_id == "lab4.step5"
        return counters_stack(
            settings, bucket_name(settings), done, processor="ordered" if ordered else "solution"
        )

    def owned(self, settings: LabSettings) -> Stack:
        return self.stack(settings, None)

    def functions(self) -> tuple[str, ...]:
        return ("counter-upload-processor", "counter-upload-aggregator")

    def source(self, function: str, version: str = "starter") -> str:
        return source(function_of(function), version)

    def package_with(self, function: str, handler_source: str) -> Package:
        return package_with(function_of(function), handler_source)

    def function_name(self, settings: LabSettings, function: str) -> str:
        return CounterNames.of(settings).function(function_of(function))


PART = CountersPart()
