"""Lab 4's reference functions, run through S3 → SNS → Lambda → stream → Lambda locally."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labkit.cloud import control
from labkit.lab.counters import example
from labkit.lab.counters.names import CounterFunction
from labkit.lab.counters.packages import source

from .conftest import CounterLab, MakeLab


def run_example(lab: CounterLab) -> None:
    for instance, text in example.UPLOADS:
        lab.upload(instance, text, example.DATE)
        lab.cloud.wait_idle()


def stats(lab: CounterLab, name: str) -> dict[str, Any]:
    found = control.status(lab.cloud.data_dir)
    assert found is not None
    return dict(found["functions"].get(name, {}))


@pytest.mark.parametrize("aggregator", ["solution", "batch"])
def test_the_worked_example_gives_the_materials_totals(make_lab: MakeLab, aggregator: str) -> None:
    """The five uploads give COUNTER1 = 191122 and COUNTER2 = 54321 in a ByDate query, with
    either aggregator, and the state table holds each instance's latest value."""
    lab = make_lab()
    lab.step1()
    lab.step2()
    lab.step3(aggregator)
    run_example(lab)
    assert (
        lab.totals(example.DATE)
        == example.EXPECTED_TOTALS
        == {"COUNTER1": 191122, "COUNTER2": 54321}
    )
    assert lab.state("COUNTER1") == {
        "i-deadbeef": 123456,
        "i-beefdead": 12345,
        "i-foobazzled": 54321,
        "i-flub": 1000,
    }
    assert stats(lab, lab.names.processor)["errors"] == 0


def test_the_processor_ignores_the_s3_test_event(make_lab: MakeLab) -> None:
    """Setting the notification again sends s3:TestEvent to the subscribed processor, which
    handles it without error and stores nothing."""
    lab = make_lab()
    lab.step1()
    lab.step2()
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.bucket, NotificationConfiguration=lab.notification()
    )
    lab.cloud.wait_idle()
    figures = stats(lab, lab.names.processor)
    assert figures["invocations"] == 1 and figures["errors"] == 0
    assert lab.client("dynamodb").scan(TableName=lab.names.state_table)["Items"] == []


def capture_queue(lab: CounterLab) -> str:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=f"{lab.names.prefix}capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lab.client("sns").subscribe(TopicArn=lab.topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def captured(lab: CounterLab, url: str) -> list[str]:
    messages = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"])["Message"] for m in messages]


def redeliver(lab: CounterLab, message: str) -> dict[str, Any]:
    """Invoke the processor again with an earlier message, as a retried delivery would."""
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {"Type": "Notification", "TopicArn": lab.topic_arn, "Message": message},
            }
        ]
    }
    answer = lab.client("lambda").invoke(
        FunctionName=lab.names.processor, Payload=json.dumps(event)
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    return dict(answer)


@pytest.mark.parametrize(("version", "kept"), [("solution", 1), ("ordered", 2)])
def test_an_old_delivery_after_a_new_one(make_lab: MakeLab, version: str, kept: int) -> None:
    """Replaying the first upload's event after the second: the material's processor goes back
    to the old value (the lost update); the ordered one keeps the newer value."""
    lab = make_lab()
    lab.step1()
    lab.step2(version)
    url = capture_queue(lab)
    lab.upload("i-probe", "COUNTER9 1\n")
    lab.upload("i-probe", "COUNTER9 2\n")
    lab.cloud.wait_idle()
    old, new = captured(lab, url)
    assert lab.state("COUNTER9") == {"i-probe": 2}
    redeliver(lab, old)
    assert lab.state("COUNTER9") == {"i-probe": kept}
    redeliver(lab, new)
    assert lab.state("COUNTER9") == {"i-probe": 2}


PYTHON2_LINE = "    print 'got event: {}'.format(event)\n"


def test_the_materials_python_2_and_bytes_slips_fail_as_on_aws(make_lab: MakeLab) -> None:
    """A Python 2 print statement fails at import; reading the body as bytes makes DynamoDB
    refuse the key type."""
    lab = make_lab()
    lab.step1()
    reference = source(CounterFunction.PROCESSOR, "solution")
    as_bytes = reference.replace('.read().decode("utf-8")', ".read()")
    lab.step2(source=as_bytes)
    lab.upload("i-probe", "COUNTER9 1\n")
    lab.cloud.wait_idle()
    logs = lab.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{lab.names.processor}")
    text = "\n".join(e["message"] for e in logs["events"])
    assert "ValidationException" in text and "Type mismatch" in text
    first_line = '    for record in event["Records"]:\n'
    python2 = reference.replace(first_line, PYTHON2_LINE + first_line, 1)
    assert python2 != reference
    lab.deploy(CounterFunction.PROCESSOR, source=python2)
    answer = lab.client("lambda").invoke(FunctionName=lab.names.processor, Payload=b"{}")
    error = json.loads(answer["Payload"].read())
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
