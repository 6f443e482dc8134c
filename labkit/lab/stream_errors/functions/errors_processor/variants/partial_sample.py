"""ErrorsProcessor reporting partial batch failures, as the Lambda guide's sample does it.

It has the sample's mistake: DynamoDB stream records spell the key ``SequenceNumber``; the
sample reads ``sequenceNumber``, which does not exist. The KeyError is caught like a failed
record, so every batch reports the empty identifier of the record before the first one: a
failure of the whole batch, every time.
"""

from typing import Any

from probe import log_invocation, process


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current = ""
    for record in event["Records"]:
        try:
            current = record["dynamodb"]["sequenceNumber"]
            process(record)
        except Exception as problem:
            log_invocation(event, context, "partial", repr(problem), reported=[current])
            return {"batchItemFailures": [{"itemIdentifier": current}]}
    log_invocation(event, context, "ok")
    return {"batchItemFailures": []}
