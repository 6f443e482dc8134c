"""What the Workshop's verbs return, and the score kept aside while a reset removes its table.

:class:`StepResult` says what provision, solve, reset or restore did (and what they left alone
or would remove); :class:`ScoreArchive` keeps ParameterTable's score item in the data directory
while a reset of a lab-1 step removes the table, and puts it back once the table exists again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from labkit.deploy import ExecutionReport, Plan
from labkit.jsonfile import load_json, write_json

from .names import Parameter

__all__ = [
    "SCORE_ARCHIVE_FILE",
    "ResetPlan",
    "ScoreArchive",
    "StepResult",
]

#: Where a reset keeps the score while ParameterTable is gone.
SCORE_ARCHIVE_FILE = "score-archive.json"


@dataclass(frozen=True)
class ResetPlan:
    """What a reset would do: its plan, and the changes to existing things it makes."""

    step: str
    plan: Plan
    removes: tuple[str, ...]


@dataclass(frozen=True)
class StepResult:
    """What provision, solve, reset or restore did.

    ``report`` is the executor's report (None when a reset waited for confirmation);
    ``left_alone`` the changes provisioning did not make, to keep the learner's work;
    ``past`` whether the lab was already past the point asked for; ``in_place`` how many of
    the step's resources needed nothing; ``removed`` what a reset removed or put back;
    ``would_remove`` what an unconfirmed reset would have removed.
    """

    step: str | None
    report: ExecutionReport | None
    left_alone: tuple[str, ...] = ()
    past: bool = False
    in_place: int = 0
    removed: tuple[str, ...] = ()
    would_remove: tuple[str, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        return self.report is None

    @property
    def outcomes(self) -> list[Any]:
        return list(self.report.outcomes) if self.report is not None else []

    @property
    def plan(self) -> Plan:
        return self.report.plan if self.report is not None else Plan("nothing done")

    @property
    def dry_run(self) -> bool:
        return self.report is not None and self.report.dry_run

    @property
    def calls_made(self) -> int:
        return self.report.calls_made if self.report is not None else 0

    @property
    def changes(self) -> int:
        return sum(1 for o in self.outcomes if o.status == "done")


@dataclass(frozen=True)
class ScoreArchive:
    """The score item of one lab (``lab_key``), kept in ``path`` while its table is gone."""

    client: Callable[[str], Any]
    table: str
    path: Path
    lab_key: str

    def keep_if_deleted(self, plan: Plan) -> None:
        """Before ``plan`` deletes the table, keep its score item."""
        deleting = any(
            c.operation == "delete_table" and c.params.get("TableName") == self.table
            for c in plan.calls
        )
        item = self._item() if deleting else None
        if item is not None:
            document = load_json(self.path)
            document[self.lab_key] = item
            write_json(self.path, document)

    def _item(self) -> dict[str, Any] | None:
        try:
            found = self.client("dynamodb").get_item(
                TableName=self.table,
                Key={"parameter": {"S": Parameter.SCORE.value}},
                ConsistentRead=True,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        item: dict[str, Any] | None = found.get("Item")
        return item

    def restore(self) -> None:
        """Put a kept score back once the table exists again (unless it has one already)."""
        document = load_json(self.path)
        archived = document.get(self.lab_key)
        if not archived:
            return
        try:
            self.client("dynamodb").put_item(
                TableName=self.table,
                Item=archived,
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "parameter"},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":
                return  # no table yet: keep the archive
            if code != "ConditionalCheckFailedException":
                raise
        document.pop(self.lab_key, None)
        write_json(self.path, document)
