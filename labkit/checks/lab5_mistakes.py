"""Lab 5's catalogued mistakes (when stream processing fails), each with its hint.

``tests/integration/lab5/test_mistakes.py`` makes every one of them against a live local cloud
and asserts that the step's check names it by its code.
"""

from __future__ import annotations

from .mistake import Mistake

ENTRIES: tuple[Mistake, ...] = (
    # ---- lab5.step1: bound the retries --------------------------------------------------------
    Mistake(
        "lab5-mapping-missing",
        "lab5.step1",
        "A mapping of the lab (ErrorsSource -> ErrorsProcessor, or lab5.step6's "
        "errors-logfile -> errors-ddbreplica_lambda) was deleted, or its table re-created, "
        "which gives it a new stream.",
        "lab.reset('{step}') puts the lab back to the start of the step, mapping included.",
    ),
    Mistake(
        "lab5-mapping-disabled",
        "lab5.step1",
        "The mapping was disabled (Enabled=False) to stop the retries, and left that way.",
        "A disabled mapping processes nothing. Enable it again: "
        "lam.update_event_source_mapping(UUID='{uuid}', Enabled=True).",
    ),
    Mistake(
        "lab5-retries-unbounded",
        "lab5.step1",
        "MaximumRetryAttempts is still -1 (AWS's default), so a poison record blocks the shard "
        "until it expires, a day later.",
        "Give the mapping a small retry limit: lam.update_event_source_mapping(UUID='{uuid}', "
        "MaximumRetryAttempts=2).",
    ),
    Mistake(
        "lab5-retries-too-many",
        "lab5.step1",
        "MaximumRetryAttempts is bounded, but so high that the shard still waits behind a "
        "poison record for a long time (the material suggests numbers up to 604800).",
        "MaximumRetryAttempts is {retries}. The real maximum is 10000 (not the material's "
        "604800); for this lab use a small number such as 2: every retry holds up the whole "
        "shard.",
    ),
    # ---- lab5.step2: keep what is discarded ---------------------------------------------------
    Mistake(
        "lab5-destination-missing",
        "lab5.step2",
        "The mapping has no on-failure destination, so a discarded batch leaves no trace.",
        "Set DestinationConfig={{'OnFailure': {{'Destination': '{queue_arn}'}}}} on the "
        "mapping. If Lambda answers 'does not have permissions to call SendMessage on SQS', "
        "first add sqs:SendMessage on that queue to {policy}.",
    ),
    Mistake(
        "lab5-destination-wrong",
        "lab5.step2",
        "The on-failure destination is another queue or topic than ErrorsFailures.",
        "The destination is {found}; the quarantiner reads {queue_arn}. Update the mapping's "
        "DestinationConfig to that queue.",
    ),
    Mistake(
        "lab5-quarantiner-error",
        "lab5.step2",
        "ErrorsQuarantiner fails when it runs.",
        "ErrorsQuarantiner raised {error}. Look at lab.logs('ErrorsQuarantiner'); a "
        "TrimmedDataAccessException or a wrong ShardId usually means the iterator was not "
        "built from the failure record's DDBStreamBatchInfo.",
    ),
    Mistake(
        "lab5-quarantine-empty",
        "lab5.step2",
        "ErrorsQuarantiner runs but copies nothing (the starter only counts the messages).",
        "For each failure record, call get_shard_iterator with ShardIteratorType="
        "'AT_SEQUENCE_NUMBER' and SequenceNumber=info['startSequenceNumber'], then "
        "get_records and put each record into {table}.",
    ),
    Mistake(
        "lab5-quarantine-incomplete",
        "lab5.step2",
        "ErrorsQuarantiner copies only the first record of a discarded batch.",
        "{copied} of the {expected} discarded records reached {table}. Keep reading records "
        "(and NextShardIterator pages) until you pass endSequenceNumber.",
    ),
    Mistake(
        "lab5-quarantine-wrong-records",
        "lab5.step2",
        "ErrorsQuarantiner copies records that were not discarded (read from TRIM_HORIZON or "
        "LATEST instead of AT_SEQUENCE_NUMBER, or past the batch's end).",
        "{table} holds {extra}, which Lambda did not discard. Start AT_SEQUENCE_NUMBER the "
        "batch's startSequenceNumber and stop after its endSequenceNumber.",
    ),
    Mistake(
        "lab5-quarantine-keeps-message",
        "lab5.step2",
        "ErrorsQuarantiner copies the records but never deletes the failure record from the "
        "queue, so the next run copies them again.",
        "After copying a batch, delete its message: sqs.delete_message(QueueUrl=..., "
        "ReceiptHandle=message['ReceiptHandle']).",
        warning_only=True,
    ),
    # ---- lab5.step3: bisect -------------------------------------------------------------------
    Mistake(
        "lab5-bisect-off",
        "lab5.step3",
        "BisectBatchOnFunctionError is off, so the poison record's healthy neighbours are "
        "discarded with it.",
        "{lost} were discarded with the poison record. Turn on splitting: "
        "lam.update_event_source_mapping(UUID='{uuid}', BisectBatchOnFunctionError=True).",
    ),
    # ---- lab5.step4: partial batch responses --------------------------------------------------
    Mistake(
        "lab5-partial-raises",
        "lab5.step4",
        "ErrorsProcessor still raises when a record fails, so the whole batch is retried and "
        "records before the failure are processed again.",
        "{duplicates} were processed more than once. Instead of raising, return "
        "{{'batchItemFailures': [{{'itemIdentifier': record['dynamodb']['SequenceNumber']}}]}} "
        "for the record that failed (lab.source('ErrorsProcessor', 'partial') shows one way).",
    ),
    Mistake(
        "lab5-partial-sample-key",
        "lab5.step4",
        "The handler copies the Lambda guide's sample, which reads record['dynamodb']"
        "['sequenceNumber']: that key does not exist, so every batch reports an empty "
        "identifier and fails as a whole.",
        "DynamoDB stream records spell it SequenceNumber (capital S). The sample's KeyError is "
        'caught and reported as the empty identifier "", which fails the whole batch.',
    ),
    Mistake(
        "lab5-partial-not-enabled",
        "lab5.step4",
        "The handler returns batchItemFailures, but the mapping's FunctionResponseTypes does "
        "not include ReportBatchItemFailures, so Lambda ignores the response.",
        "{lost} failed and were never retried: without ReportBatchItemFailures the response "
        "is ignored and the batch counts as a success. Set "
        "FunctionResponseTypes=['ReportBatchItemFailures'] on the mapping.",
    ),
    Mistake(
        "lab5-partial-wrong-identifier",
        "lab5.step4",
        "The handler reports another identifier (the eventID, the item's key) instead of the "
        "record's SequenceNumber, which fails the whole batch.",
        "It reported {reported}, which is not a SequenceNumber of the batch: Lambda then fails "
        "the whole batch. Report record['dynamodb']['SequenceNumber'].",
    ),
    Mistake(
        "lab5-partial-last-only",
        "lab5.step4",
        "The handler reports only the last failed record, so Lambda checkpoints past the "
        "earlier failures and they are lost.",
        "{lost} failed but only a later record was reported: Lambda checkpoints before the "
        "lowest reported record, so earlier failures are skipped. Report the first failure "
        "(or every failure).",
    ),
    # ---- lab5.step5: tumbling windows ---------------------------------------------------------
    Mistake(
        "lab5-window-missing",
        "lab5.step5",
        "The mapping has no tumbling window (or one too long to watch in the lab).",
        "TumblingWindowInSeconds is {window}. Set it to 5: lam.update_event_source_mapping("
        "UUID='{uuid}', TumblingWindowInSeconds=5).",
    ),
    Mistake(
        "lab5-window-no-state",
        "lab5.step5",
        "The window handler does not return the state, so Lambda counts every invocation as "
        "failed and retries it.",
        "With a tumbling window the response must be an object with a 'state' object: "
        "return {{'state': totals}} from every invocation.",
    ),
    Mistake(
        "lab5-window-not-written",
        "lab5.step5",
        "The window's totals are never written to ErrorsWindows (nothing happens at the final "
        "invoke), or they are wrong.",
        "{found}. When event['isFinalInvokeForWindow'] is true, the state holds the window's "
        "totals: write them to {table} with the window's start as key.",
    ),
    # ---- lab5.step6: harden the replicator ----------------------------------------------------
    Mistake(
        "lab5-replicator-bisect-off",
        "lab5.step6",
        "The replicator's retries are bounded but BisectBatchOnFunctionError is off, so the "
        "rows after the poison row in its batch are discarded with it and never replicated.",
        "{lost} never reached the replica: the whole batch was discarded. Turn on splitting: "
        "lam.update_event_source_mapping(UUID='{uuid}', BisectBatchOnFunctionError=True).",
    ),
    Mistake(
        "lab5-replicator-destination-missing",
        "lab5.step6",
        "The replicator's mapping has no on-failure destination: the poison row is discarded "
        "and leaves no trace.",
        "Add sqs:SendMessage on {queue_arn} to {policy}, then set "
        "DestinationConfig={{'OnFailure': {{'Destination': '{queue_arn}'}}}} on the mapping.",
    ),
    Mistake(
        "lab5-replicator-destination-wrong",
        "lab5.step6",
        "The replicator's failures go to another queue (ErrorsFailures, lab5.step2's) than "
        "ErrorsReplicaFailures.",
        "The destination is {found}. The replicator's failures belong in {queue_arn}: grant "
        "sqs:SendMessage on it in {policy} and point the mapping's OnFailure there.",
    ),
    Mistake(
        "lab5-replicator-cannot-send",
        "lab5.step6",
        "The destination is right, but the replicator's role may no longer send to it (the "
        "policy lost sqs:SendMessage), so Lambda cannot deliver the failure record.",
        "Lambda sends the failure record with the function's role. Put sqs:SendMessage on "
        "{queue_arn} back into {policy}.",
    ),
    Mistake(
        "lab5-replicator-swallows",
        "lab5.step6",
        "The replicator was changed to catch its errors (as lab 05's starter does), so the "
        "poison row counts as replicated: it is lost, and nothing reaches the queue.",
        "{function} returned normally for a row the replica refuses, so Lambda saw a success "
        "and discarded nothing. Let the error out (lab 05's solution raises) and let the "
        "mapping's retries, bisect and destination deal with it.",
    ),
)
