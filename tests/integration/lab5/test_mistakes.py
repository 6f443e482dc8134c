"""Each catalogued lab-5 mistake, made against a live local cloud, is named by its check."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from labkit.lab.replication import functions as replication_code
from labkit.lab.stream_errors import code

from .conftest import Lab5

pytestmark = pytest.mark.slow

QUARANTINER = code.source("ErrorsQuarantiner", "solution")
PARTIAL = code.source("ErrorsProcessor", "partial")
WINDOW = code.source("ErrorsProcessor", "window")

#: Processes every record, collects the failures, and reports only the last one.
LAST_ONLY = """
from probe import PoisonRecord, log_invocation, process

def lambda_handler(event, context):
    failed = []
    for record in event["Records"]:
        try:
            process(record)
        except PoisonRecord:
            failed.append(record["dynamodb"]["SequenceNumber"])
    log_invocation(event, context, "partial" if failed else "ok", reported=failed[-1:])
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failed[-1:]]}
"""


def changed(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new)


def codes_of(lab: Lab5, step: str) -> tuple[str, ...]:
    report = lab.check(step)
    assert not report.passed, str(report)
    return report.codes


# ---- lab5.step1 ------------------------------------------------------------------------------
def test_mapping_missing(lab5: Lab5) -> None:
    """Deleting the mapping is named lab5-mapping-missing."""
    lab5.provision("lab5.step1")
    lab5.client("lambda").delete_event_source_mapping(UUID=lab5.experiments.uuid)
    assert "lab5-mapping-missing" in codes_of(lab5, "lab5.step1")


def test_mapping_disabled(lab5: Lab5) -> None:
    """A mapping left disabled is named lab5-mapping-disabled."""
    lab5.provision("lab5.step1", solved=True)
    lab5.update_mapping(Enabled=False)
    assert "lab5-mapping-disabled" in codes_of(lab5, "lab5.step1")


def test_retries_unbounded(lab5: Lab5) -> None:
    """AWS's default of retrying forever is named lab5-retries-unbounded."""
    lab5.provision("lab5.step1")
    assert "lab5-retries-unbounded" in codes_of(lab5, "lab5.step1")


def test_retries_too_many(lab5: Lab5) -> None:
    """The material's 604800 is refused; 10000, the real maximum, is named too many."""
    lab5.provision("lab5.step1")
    with pytest.raises(ClientError):
        lab5.update_mapping(MaximumRetryAttempts=604800)
    lab5.update_mapping(MaximumRetryAttempts=10000)
    assert "lab5-retries-too-many" in codes_of(lab5, "lab5.step1")


# ---- lab5.step2 ------------------------------------------------------------------------------
def test_destination_missing(lab5: Lab5) -> None:
    """No on-failure destination is named lab5-destination-missing."""
    lab5.provision("lab5.step2")
    assert "lab5-destination-missing" in codes_of(lab5, "lab5.step2")


def test_destination_wrong(lab5: Lab5) -> None:
    """A destination other than ErrorsFailures is named lab5-destination-wrong."""
    lab5.provision("lab5.step2")
    sqs = lab5.client("sqs")
    url = sqs.create_queue(QueueName=f"{lab5.names.prefix}Elsewhere")["QueueUrl"]
    other = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lab5.allow_send()
    lab5.client("iam").put_role_policy(
        RoleName=lab5.names.role("ErrorsProcessor"),
        PolicyName="send-anywhere",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "sqs:SendMessage", "Resource": "*"}]}',
    )
    lab5.update_mapping(DestinationConfig={"OnFailure": {"Destination": other}})
    assert "lab5-destination-wrong" in codes_of(lab5, "lab5.step2")


def test_quarantiner_error(lab5: Lab5) -> None:
    """A quarantiner that raises is named lab5-quarantiner-error."""
    lab5.provision("lab5.step2")
    lab5.keep_discarded()
    broken = changed(QUARANTINER, 'info = failure["DDBStreamBatchInfo"]', 'info = failure["Info"]')
    lab5.deploy("ErrorsQuarantiner", broken)
    assert "lab5-quarantiner-error" in codes_of(lab5, "lab5.step2")


def test_quarantine_empty(lab5: Lab5) -> None:
    """The starter quarantiner, which copies nothing, is named lab5-quarantine-empty."""
    lab5.provision("lab5.step2")
    lab5.keep_discarded()
    assert "lab5-quarantine-empty" in codes_of(lab5, "lab5.step2")


def test_quarantine_incomplete(lab5: Lab5) -> None:
    """Copying only a batch's first record is named lab5-quarantine-incomplete."""
    lab5.provision("lab5.step2")
    lab5.keep_discarded()
    first_only = changed(QUARANTINER, "            copied += 1\n", "            return 1\n")
    lab5.deploy("ErrorsQuarantiner", first_only)
    assert "lab5-quarantine-incomplete" in codes_of(lab5, "lab5.step2")


def test_quarantine_wrong_records(lab5: Lab5) -> None:
    """Re-reading from TRIM_HORIZON copies records that were never discarded:
    lab5-quarantine-wrong-records."""
    lab5.provision("lab5.step2")
    lab5.keep_discarded()
    lab5.experiments.put("healthy")
    lab5.experiments.settle()
    from_start = changed(
        QUARANTINER,
        'ShardIteratorType="AT_SEQUENCE_NUMBER",\n'
        '        SequenceNumber=info["startSequenceNumber"],',
        'ShardIteratorType="TRIM_HORIZON",',
    )
    lab5.deploy("ErrorsQuarantiner", from_start)
    assert "lab5-quarantine-wrong-records" in codes_of(lab5, "lab5.step2")


def test_quarantine_keeps_message(lab5: Lab5) -> None:
    """Never deleting the failure record is a warning: lab5-quarantine-keeps-message."""
    lab5.provision("lab5.step2")
    lab5.keep_discarded()
    keeps = changed(
        QUARANTINER,
        "            sqs.delete_message(QueueUrl=QUEUE_URL, "
        'ReceiptHandle=message["ReceiptHandle"])\n',
        "",
    )
    keeps = changed(
        keeps, "MaxNumberOfMessages=10)", "MaxNumberOfMessages=10, VisibilityTimeout=0)"
    )
    keeps = changed(
        keeps, "            messages += 1\n", "            messages += 1\n        return {}\n"
    )
    lab5.deploy("ErrorsQuarantiner", keeps)
    report = lab5.check("lab5.step2")
    assert report.passed and "lab5-quarantine-keeps-message" in report.codes


# ---- lab5.step3 ------------------------------------------------------------------------------
def test_bisect_off(lab5: Lab5) -> None:
    """Healthy records discarded with the poison record: lab5-bisect-off."""
    lab5.provision("lab5.step3")
    assert "lab5-bisect-off" in codes_of(lab5, "lab5.step3")


# ---- lab5.step4 ------------------------------------------------------------------------------
def test_partial_raises(lab5: Lab5) -> None:
    """A handler that still raises (records before the failure run twice): lab5-partial-raises."""
    lab5.provision("lab5.step4")
    lab5.update_mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    assert "lab5-partial-raises" in codes_of(lab5, "lab5.step4")


def test_partial_sample_key(lab5: Lab5) -> None:
    """The Lambda guide's sample (sequenceNumber) fails every batch: lab5-partial-sample-key."""
    lab5.provision("lab5.step4")
    lab5.update_mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    lab5.deploy("ErrorsProcessor", code.source("ErrorsProcessor", "partial-sample"))
    assert "lab5-partial-sample-key" in codes_of(lab5, "lab5.step4")


def test_partial_not_enabled(lab5: Lab5) -> None:
    """Without ReportBatchItemFailures the response is ignored: lab5-partial-not-enabled."""
    lab5.provision("lab5.step4")
    lab5.deploy("ErrorsProcessor", PARTIAL)
    assert "lab5-partial-not-enabled" in codes_of(lab5, "lab5.step4")


def test_partial_wrong_identifier(lab5: Lab5) -> None:
    """Reporting the eventID instead of the SequenceNumber: lab5-partial-wrong-identifier."""
    lab5.provision("lab5.step4")
    lab5.update_mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    by_event_id = changed(
        PARTIAL, 'failed = record["dynamodb"]["SequenceNumber"]', 'failed = record["eventID"]'
    )
    lab5.deploy("ErrorsProcessor", by_event_id)
    assert "lab5-partial-wrong-identifier" in codes_of(lab5, "lab5.step4")


def test_partial_last_only(lab5: Lab5) -> None:
    """Reporting only the last failure loses the earlier one: lab5-partial-last-only."""
    lab5.provision("lab5.step4")
    lab5.update_mapping(FunctionResponseTypes=["ReportBatchItemFailures"])
    lab5.deploy("ErrorsProcessor", LAST_ONLY)
    assert "lab5-partial-last-only" in codes_of(lab5, "lab5.step4")


# ---- lab5.step5 ------------------------------------------------------------------------------
def test_window_missing(lab5: Lab5) -> None:
    """A mapping without a tumbling window: lab5-window-missing."""
    lab5.provision("lab5.step5")
    lab5.deploy("ErrorsProcessor", WINDOW)
    assert "lab5-window-missing" in codes_of(lab5, "lab5.step5")


def test_window_no_state(lab5: Lab5) -> None:
    """A window handler that returns no state is retried: lab5-window-no-state."""
    lab5.provision("lab5.step5")
    lab5.update_mapping(TumblingWindowInSeconds=5)
    lab5.deploy("ErrorsProcessor", code.source("ErrorsProcessor", "window-starter"))
    assert "lab5-window-no-state" in codes_of(lab5, "lab5.step5")


def test_window_not_written(lab5: Lab5) -> None:
    """Totals never written at the final invoke: lab5-window-not-written."""
    lab5.provision("lab5.step5")
    lab5.update_mapping(TumblingWindowInSeconds=5)
    lab5.deploy(
        "ErrorsProcessor", changed(WINDOW, 'if event.get("isFinalInvokeForWindow"):', "if False:")
    )
    assert "lab5-window-not-written" in codes_of(lab5, "lab5.step5")


# ---- lab5.step6 ------------------------------------------------------------------------------
def test_replicator_bisect_off(lab5: Lab5) -> None:
    """Bounded retries and a destination, but no bisect: the rows after the poison are lost."""
    lab5.provision("lab5.step6", solved=True)
    lab5.update_replicator_mapping(BisectBatchOnFunctionError=False)
    assert "lab5-replicator-bisect-off" in codes_of(lab5, "lab5.step6")


def test_replicator_destination_missing(lab5: Lab5) -> None:
    """Retries and bisect without a destination: the poison row leaves no trace."""
    lab5.provision("lab5.step6")
    lab5.update_replicator_mapping(MaximumRetryAttempts=2, BisectBatchOnFunctionError=True)
    assert "lab5-replicator-destination-missing" in codes_of(lab5, "lab5.step6")


def test_replicator_destination_wrong(lab5: Lab5) -> None:
    """The replicator's failures sent to lab5.step2's queue (which its role was allowed)."""
    lab5.provision("lab5.step6", solved=True)
    policy = lab5.names.replication.policy
    document = lab5.policy_document(policy)
    document["Statement"].append(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": lab5.queue_arn()}
    )
    lab5.replace_policy(policy, document)
    lab5.update_replicator_mapping(
        DestinationConfig={"OnFailure": {"Destination": lab5.queue_arn()}}
    )
    assert "lab5-replicator-destination-wrong" in codes_of(lab5, "lab5.step6")


def test_replicator_destination_refused_without_permission(lab5: Lab5) -> None:
    """Lambda refuses an on-failure queue that the replicator's role cannot send to."""
    lab5.provision("lab5.step6")
    with pytest.raises(ClientError) as refused:
        lab5.update_replicator_mapping(
            DestinationConfig={"OnFailure": {"Destination": lab5.replicator.queue_arn()}}
        )
    assert "SendMessage" in str(refused.value)


def test_replicator_cannot_send(lab5: Lab5) -> None:
    """The destination is right but the policy lost sqs:SendMessage afterwards."""
    lab5.provision("lab5.step6", solved=True)
    policy = lab5.names.replication.policy
    document = lab5.policy_document(policy)
    document["Statement"] = [s for s in document["Statement"] if "sqs:SendMessage" not in str(s)]
    lab5.replace_policy(policy, document)
    assert "lab5-replicator-cannot-send" in codes_of(lab5, "lab5.step6")


def test_replicator_swallows(lab5: Lab5) -> None:
    """A replicator that catches its errors (lab 05's starter) loses the poison row."""
    lab5.provision("lab5.step6", solved=True)
    starter = replication_code.package()
    lab5.client("lambda").update_function_code(
        FunctionName=lab5.names.replication.function, ZipFile=starter.zip_bytes
    )
    assert "lab5-replicator-swallows" in codes_of(lab5, "lab5.step6")
