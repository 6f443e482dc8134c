"""ErrorsProcessor, fixed: a record that cannot be processed is logged and skipped.

Skipping is a decision: the record is not processed, and nothing retries it. Use it when a
record can never succeed (bad data); the lab's later steps keep such records instead.
"""

from typing import Any

from probe import PoisonRecord, item_id, log_invocation, process


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    skipped = []
    for record in event["Records"]:
        try:
            process(record)
        except PoisonRecord:
            skipped.append(item_id(record))
    log_invocation(event, context, "ok", f"skipped {', '.join(skipped)}" if skipped else "")
