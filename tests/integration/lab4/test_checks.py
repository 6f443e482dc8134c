"""Lab 4's checks pass on the reference and name each catalogued mistake, on a live cloud."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from labkit.checks.context import CheckContext
from labkit.checks.lab4 import CHECKS
from labkit.checks.report import Report
from labkit.cloud import control
from labkit.lab.counters import example
from labkit.lab.counters.names import CounterFunction
from labkit.lab.counters.packages import source
from labkit.lab.names import LabSettings

from .conftest import CounterLab, MakeLab


def check(lab: CounterLab, step: str) -> Report:
    ctx = CheckContext(
        backend="local",
        settings=LabSettings(prefix=lab.names.prefix),
        client_factory=lab.client,
        wait_idle=functools.partial(control.wait_idle, lab.cloud.endpoint),
    )
    return CHECKS[step](ctx)


def codes(report: Report) -> tuple[str, ...]:
    return report.codes


def solved(make_lab: MakeLab, upto: int, **step2: object) -> CounterLab:
    lab = make_lab()
    lab.step1()
    if upto >= 2:
        lab.step2(**step2)  # type: ignore[arg-type]
    if upto >= 3:
        lab.step3()
    return lab


# ----- the reference passes -----------------------------------------------------------------
def test_every_step_passes_on_the_reference(make_lab: MakeLab) -> None:
    """With the reference built, steps 1–4 pass; step 5 passes once the ordered processor is in."""
    lab = solved(make_lab, 3)
    for step in ("lab4.step1", "lab4.step2", "lab4.step3"):
        report = check(lab, step)
        assert report.passed, str(report)
    assert codes(check(lab, "lab4.step4")) == ("lab4-example-missing",)
    for instance, text in example.UPLOADS:
        lab.upload(instance, text, example.DATE)
        lab.cloud.wait_idle()
    assert check(lab, "lab4.step4").passed
    assert codes(check(lab, "lab4.step5")) == ("lab4-lost-update",)
    lab.deploy(CounterFunction.PROCESSOR, "ordered")
    report = check(lab, "lab4.step5")
    assert report.passed, str(report)
    assert lab.totals(example.DATE) == example.EXPECTED_TOTALS


# ----- lab4.step1 ---------------------------------------------------------------------------
def test_nothing_built_names_the_missing_bucket(make_lab: MakeLab) -> None:
    """Before anything exists the check asks for the bucket."""
    assert codes(check(make_lab(), "lab4.step1")) == ("lab4-bucket-missing",)


def test_an_unversioned_bucket_and_a_missing_topic(make_lab: MakeLab) -> None:
    """A bucket without versioning is named, and so is the missing topic."""
    lab = make_lab()
    lab.client("s3").create_bucket(Bucket=lab.bucket)
    assert codes(check(lab, "lab4.step1")) == ("lab4-bucket-not-versioned", "lab4-topic-missing")


def test_the_default_topic_policy_does_not_let_s3_publish(make_lab: MakeLab) -> None:
    """A topic policy without the S3 statement is named."""
    lab = make_lab()
    lab.step1(policy={"Version": "2012-10-17", "Statement": []})
    assert "lab4-topic-policy-bucket" in codes(check(lab, "lab4.step1"))


def test_a_topic_policy_open_to_every_bucket(make_lab: MakeLab) -> None:
    """An S3 statement without a SourceArn condition is too open."""
    lab = make_lab()
    lab.step1()
    policy = lab.topic_policy()
    del policy["Statement"][0]["Condition"]
    lab.client("sns").set_topic_attributes(
        TopicArn=lab.topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    assert codes(check(lab, "lab4.step1")) == ("lab4-topic-policy-open",)


def test_a_missing_notification_and_a_missing_prefix(make_lab: MakeLab) -> None:
    """No notification, then one without the prefix filter, are each named."""
    lab = make_lab()
    lab.step1()
    s3 = lab.client("s3")
    s3.put_bucket_notification_configuration(Bucket=lab.bucket, NotificationConfiguration={})
    assert codes(check(lab, "lab4.step1")) == ("lab4-notification-missing",)
    s3.put_bucket_notification_configuration(
        Bucket=lab.bucket, NotificationConfiguration=lab.notification(prefix="")
    )
    assert codes(check(lab, "lab4.step1")) == ("lab4-notification-prefix",)


def test_events_of_another_kind_reach_nobody(make_lab: MakeLab) -> None:
    """A notification for deletions only looks missing, and a probe hears nothing."""
    lab = make_lab()
    lab.step1()
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.bucket,
        NotificationConfiguration=lab.notification(events=("s3:ObjectRemoved:*",)),
    )
    assert codes(check(lab, "lab4.step1")) == ("lab4-notification-missing",)


def test_a_probe_that_hears_nothing(make_lab: MakeLab) -> None:
    """A notification that looks right but also filters on a suffix no upload has lets the
    probe hear nothing."""
    lab = make_lab()
    lab.step1()
    config = lab.notification()
    rules = config["TopicConfigurations"][0]["Filter"]["Key"]["FilterRules"]
    rules.append({"Name": "suffix", "Value": ".csv"})
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.bucket, NotificationConfiguration=config
    )
    assert codes(check(lab, "lab4.step1")) == ("lab4-probe-no-message",)


# ----- lab4.step2 ---------------------------------------------------------------------------
def test_step2_before_anything_names_table_and_function(make_lab: MakeLab) -> None:
    """Without the state table and the function, both are named."""
    lab = make_lab()
    lab.step1()
    assert codes(check(lab, "lab4.step2")) == ("lab4-state-table", "lab4-function-missing")


def test_a_processor_without_permission_or_subscription(make_lab: MakeLab) -> None:
    """The missing Lambda permission and subscription are named; the real upload never
    arrives (the topic's failure log has it)."""
    lab = solved(make_lab, 2, permission=False, subscribe=False)
    assert codes(check(lab, "lab4.step2")) == (
        "lab4-sns-permission",
        "lab4-subscription-missing",
        "lab4-upload-not-processed",
    )


def test_a_processor_role_without_s3_access(make_lab: MakeLab) -> None:
    """A role that cannot read the uploads is named (and the probe's AccessDenied too)."""
    lab = make_lab()
    lab.step1()
    document = lab.policy(CounterFunction.PROCESSOR)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "ReadUploads"]
    lab.step2(document=document)
    found = codes(check(lab, "lab4.step2"))
    assert found[0] == "lab4-processor-policy" and "lab4-processor-error" in found


REFERENCE = source(CounterFunction.PROCESSOR, "solution")
FIRST_LINE = '    for record in event["Records"]:\n'


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda s: s.replace(FIRST_LINE, "    print 'got', event\n" + FIRST_LINE, 1),
            "lab4-python2",
        ),
        (
            lambda s: s.replace("unquote_plus(record", "urllib.unquote(record").replace(
                "from urllib.parse import unquote_plus", "import urllib"
            ),
            "lab4-python2",
        ),
        (lambda s: s.replace('.read().decode("utf-8")', ".read()"), "lab4-body-bytes"),
        (
            lambda s: s.replace(
                'unquote_plus(record["s3"]["object"]["key"])', 'record["s3"]["object"]["key"]'
            ),
            "lab4-key-encoded",
        ),
        (
            lambda s: s.replace('message.get("Records", [])', 'message["Records"]'),
            "lab4-test-event",
        ),
        (
            lambda s: s.replace(
                "            store(date, instance, fields[0], int(fields[1]))", "            pass"
            ),
            "lab4-values-not-stored",
        ),
        (
            lambda s: s.replace(
                '        ConditionExpression="attribute_not_exists(#values)",\n', ""
            ),
            "lab4-map-overwritten",
        ),
        (lambda s: s.replace("int(fields[1])", "int(fields[1]) // 0"), "lab4-processor-error"),
    ],
    ids=["print", "urllib", "bytes", "key", "test-event", "not-stored", "map", "error"],
)
def test_processor_code_mistakes(
    make_lab: MakeLab, change: Callable[[str], str], code: str
) -> None:
    """Each mistake in the processor's code is named by its catalogue code."""
    mistaken = change(REFERENCE)
    assert mistaken != REFERENCE
    lab = solved(make_lab, 2, source=mistaken)
    assert code in codes(check(lab, "lab4.step2"))


def test_the_starter_processor_stores_nothing(make_lab: MakeLab) -> None:
    """The shipped starter ignores the test event, then trips on its first TODO: the key
    still URL-encoded."""
    lab = solved(make_lab, 2, version="starter")
    assert codes(check(lab, "lab4.step2")) == ("lab4-key-encoded",)


# ----- lab4.step3 ---------------------------------------------------------------------------
def test_step3_before_anything(make_lab: MakeLab) -> None:
    """Without stream, table and function, the check names each."""
    lab = solved(make_lab, 2)
    assert codes(check(lab, "lab4.step3")) == (
        "lab4-stream-missing",
        "lab4-aggregate-table",
        "lab4-function-missing",
    )


def test_a_keys_only_stream_and_no_index(make_lab: MakeLab) -> None:
    """A KEYS_ONLY stream and a table without ByDate are named."""
    lab = solved(make_lab, 2)
    lab.step3(view="KEYS_ONLY", gsi=False, mapping=False)
    found = codes(check(lab, "lab4.step3"))
    assert found[:2] == ("lab4-stream-view", "lab4-aggregate-table")


def test_the_materials_describe_streams_action(make_lab: MakeLab) -> None:
    """dynamodb:DescribeStreams in the aggregator's policy is named."""
    lab = solved(make_lab, 2)
    document = lab.policy(CounterFunction.AGGREGATOR)
    document["Statement"].append(
        {"Effect": "Allow", "Action": ["dynamodb:DescribeStreams"], "Resource": "*"}
    )
    lab.step3(document=document)
    assert "lab4-describe-streams" in codes(check(lab, "lab4.step3"))


def test_an_aggregator_role_that_cannot_write_totals(make_lab: MakeLab) -> None:
    """Without UpdateItem on aggregate-counters the policy item and the probe fail."""
    lab = solved(make_lab, 2)
    document = lab.policy(CounterFunction.AGGREGATOR)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "UpdateTotals"]
    lab.step3(document=document)
    found = codes(check(lab, "lab4.step3"))
    assert found[0] == "lab4-aggregator-policy" and "lab4-aggregator-error" in found


def test_no_mapping_and_the_starter_aggregator(make_lab: MakeLab) -> None:
    """Without a mapping it is named; the starter aggregator stores no total."""
    lab = solved(make_lab, 2)
    lab.step3("starter", mapping=False)
    found = codes(check(lab, "lab4.step3"))
    assert "lab4-mapping-missing" in found and "lab4-totals-wrong" in found


# ----- lab4.step4 ---------------------------------------------------------------------------
def test_summing_every_upload_gives_wrong_totals(make_lab: MakeLab) -> None:
    """Adding i-deadbeef's two uploads instead of replacing gives totals the check names."""
    lab = solved(make_lab, 3)
    for instance, text in example.UPLOADS:
        lab.upload(instance, text, example.DATE)
        lab.cloud.wait_idle()
    lab.client("dynamodb").put_item(
        TableName=lab.names.aggregate_table,
        Item={"Counter": {"S": "COUNTER1"}, "Date": {"S": example.DATE}, "Value": {"N": "203467"}},
    )
    report = check(lab, "lab4.step4")
    assert codes(report) == ("lab4-example-totals",)
    assert "203467" in report.items[0].hint
