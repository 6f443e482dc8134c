"""Lab 4's resources by role, and their names on each backend.

Locally the names are the material's (``counter-upload-processor`` …); on AWS they carry the
settings' prefix (``labkit-``). A bucket name must be unique across all of AWS, so with a
prefix it also carries the account: ``labkit-counter-uploads-123456789012`` (one lab 4 per
account and prefix, whatever the region).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from labkit.lab.names import LabSettings

#: Uploads under this prefix notify the topic.
DATA_PREFIX = "path/to/data/"
FILE_PREFIX = "values_"
BY_DATE = "ByDate"
#: The worked example's date, fixed so that it is repeatable.
EXAMPLE_DATE = "2015-11-16"


class CounterFunction(StrEnum):
    PROCESSOR = "counter-upload-processor"
    AGGREGATOR = "counter-upload-aggregator"


@dataclass(frozen=True)
class CounterNames:
    """Every name lab 4 uses, with the prefix applied."""

    prefix: str = ""

    @classmethod
    def of(cls, settings: LabSettings) -> CounterNames:
        return cls(settings.prefix)

    def bucket(self, account: str) -> str:
        if not self.prefix:
            return "counter-uploads"
        return f"{self.prefix}counter-uploads-{account}".lower().rstrip("-")[:63]

    @property
    def topic(self) -> str:
        return f"{self.prefix}counter-upload-events"

    @property
    def state_table(self) -> str:
        return f"{self.prefix}counter-upload-processor-state"

    @property
    def aggregate_table(self) -> str:
        return f"{self.prefix}aggregate-counters"

    def function(self, function: CounterFunction) -> str:
        return self.prefix + function.value

    def role(self, function: CounterFunction) -> str:
        return f"{self.prefix}{function.value}-execute"

    def log_group(self, function: CounterFunction) -> str:
        return f"/aws/lambda/{self.function(function)}"

    @property
    def processor(self) -> str:
        return self.function(CounterFunction.PROCESSOR)

    @property
    def aggregator(self) -> str:
        return self.function(CounterFunction.AGGREGATOR)


def upload_key(date: str, instance: str) -> str:
    """Where an instance uploads its counters for a day."""
    return f"{DATA_PREFIX}{date}/{FILE_PREFIX}{instance}"
