"""ErrorsProcessor reporting partial batch failures (needs ReportBatchItemFailures).

Records are processed in order. At the first one that fails, the handler stops and reports
that record's SequenceNumber: Lambda checkpoints everything before it and delivers it, and
every record after it, again. Stopping there keeps the shard's order: nothing after a failed
record is processed before it.
"""

from typing import Any

from probe import PoisonRecord, log_invocation, process


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    for record in event["Records"]:
        try:
            process(record)
        except PoisonRecord as poison:
            failed = record["dynamodb"]["SequenceNumber"]
            log_invocation(event, context, "partial", str(poison), reported=[failed])
            return {"batchItemFailures": [{"itemIdentifier": failed}]}
    log_invocation(event, context, "ok")
    return {"batchItemFailures": []}
