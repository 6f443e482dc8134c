"""Lab 5's hints: a nudge, more, and the answer, for each step."""

from __future__ import annotations

HINTS: dict[str, tuple[str, str, str]] = {
    "lab5.step1": (
        "By default a stream mapping retries a failing batch until its records expire. Which "
        "mapping setting limits the number of retries?",
        "MaximumRetryAttempts: with N, a failing batch is invoked N + 1 times, then discarded "
        "(healthy records included) and the shard moves on. Change it with "
        "update_event_source_mapping; errors.uuid is the mapping's UUID.",
        "# two retries: the poison batch is invoked three times, then discarded\n"
        "lam = boto3.client('lambda')\n"
        "lam.update_event_source_mapping(UUID=errors.uuid, MaximumRetryAttempts=2)\n"
        "errors.put('a', 'poison:fail', 'b'); errors.put('after'); errors.settle()",
    ),
    "lab5.step2": (
        "Lambda can send a description of every discarded batch to an SQS queue, but only if "
        "the function's role may send to it. The description has no records: you read them "
        "back from the stream.",
        "Add sqs:SendMessage on the ErrorsFailures queue to ErrorsProcessorPolicy, then set "
        "DestinationConfig={'OnFailure': {'Destination': queue_arn}} on the mapping. In "
        "ErrorsQuarantiner, open a shard iterator with ShardIteratorType='AT_SEQUENCE_NUMBER' "
        "at DDBStreamBatchInfo's startSequenceNumber and copy records up to "
        "endSequenceNumber.",
        "iam.create_policy_version(PolicyArn=policy_arn, SetAsDefault=True,\n"
        "    PolicyDocument=json.dumps(document_with_send_message))\n"
        "lam.update_event_source_mapping(UUID=errors.uuid,\n"
        "    DestinationConfig={'OnFailure': {'Destination': queue_arn}})\n"
        "lab.deploy('ErrorsQuarantiner', lab.source('ErrorsQuarantiner', 'solution'))",
    ),
    "lab5.step3": (
        "One poison record makes its whole batch fail. Lambda can cut a failing batch into "
        "smaller ones until the poison record stands alone.",
        "BisectBatchOnFunctionError=True splits a failed batch in two instead of retrying it; "
        "a split does not use up a retry, so the healthy halves go through.",
        "# split failing batches; the poison record ends up alone and is discarded alone\n"
        "lam.update_event_source_mapping(UUID=errors.uuid, BisectBatchOnFunctionError=True)\n"
        "errors.put('a', 'b', 'c', 'poison:fail', 'd', 'e'); errors.settle()",
    ),
    "lab5.step4": (
        "Instead of failing the whole invocation, the handler can tell Lambda which record "
        "failed. Two things are needed: the response, and a mapping setting that makes Lambda "
        "read it.",
        "Return {'batchItemFailures': [{'itemIdentifier': record['dynamodb']"
        "['SequenceNumber']}]} for the first record that failed (SequenceNumber with a capital "
        "S; the Lambda guide's sample spells it wrong), and set "
        "FunctionResponseTypes=['ReportBatchItemFailures'] on the mapping.",
        "lab.deploy('ErrorsProcessor', lab.source('ErrorsProcessor', 'partial'))\n"
        "lam.update_event_source_mapping(UUID=errors.uuid,\n"
        "    FunctionResponseTypes=['ReportBatchItemFailures'])",
    ),
    "lab5.step5": (
        "A tumbling window gives your function a state that Lambda keeps between its "
        "invocations until the window ends.",
        "Set TumblingWindowInSeconds=5 on the mapping. Each invocation must return "
        "{'state': ...}; the final invoke of a window has isFinalInvokeForWindow true and no "
        "records: write the totals to ErrorsWindows then.",
        "# a 5-second window; the handler returns {'state': totals} and writes them at the end\n"
        "lam.update_event_source_mapping(UUID=errors.uuid, TumblingWindowInSeconds=5)\n"
        "lab.deploy('ErrorsProcessor', lab.source('ErrorsProcessor', 'window'))",
    ),
    "lab5.step6": (
        "The replicator is right to fail on a row the replica refuses; what it lacks is the "
        "mapping settings of this lab. Which three settings keep one bad row from stopping "
        "replication, without losing it?",
        "On errors-logfile's mapping: a small MaximumRetryAttempts, "
        "BisectBatchOnFunctionError=True, and DestinationConfig OnFailure -> "
        "ErrorsReplicaFailures. The destination needs sqs:SendMessage on that queue in "
        "errors-DDBReplicationPolicy first, or Lambda refuses it.",
        "replicator = errors.replicator\n"
        "# first: sqs:SendMessage on replicator.queue_arn() in errors-DDBReplicationPolicy\n"
        "lam.update_event_source_mapping(UUID=replicator.uuid, MaximumRetryAttempts=2,\n"
        "    BisectBatchOnFunctionError=True,\n"
        "    DestinationConfig={'OnFailure': {'Destination': replicator.queue_arn()}})",
    ),
}
