"""ErrorsProcessor with aws-lambda-powertools' BatchProcessor (needs ReportBatchItemFailures).

The way AWS recommends it: BatchProcessor calls ``record_handler`` for every record and builds
``batchItemFailures`` from the ones that raised. It carries on after a failure, so records
after a failed one are processed now and again when Lambda redelivers from the failure; when
every record fails, it raises and the whole batch fails.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from probe import log_invocation, process

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: Any) -> None:
    process(record.raw_event)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    except BatchProcessingError as everything_failed:
        log_invocation(event, context, "failed", str(everything_failed)[:200])
        raise
    reported = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
    log_invocation(event, context, "partial" if reported else "ok", reported=reported)
    return dict(response)
