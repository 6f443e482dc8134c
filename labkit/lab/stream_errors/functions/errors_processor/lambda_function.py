"""ErrorsProcessor: the lab's provided handler, all or nothing.

It processes the records of a batch in order. When one fails, the whole invocation fails
(the exception propagates), so Lambda treats the whole batch as failed and retries it.
"""

from typing import Any

from probe import PoisonRecord, log_invocation, process


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    try:
        for record in event["Records"]:
            process(record)
    except PoisonRecord as poison:
        log_invocation(event, context, "failed", str(poison))
        raise
    log_invocation(event, context, "ok")
