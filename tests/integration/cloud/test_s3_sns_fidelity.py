"""S3 notifications, topic and function permissions, and SNS delivery behave as on AWS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.cloud import control
from labkit.testing import RunningCloud

from .conftest import MakeFunction

ACCOUNT = "123456789012"
CREATED = ["s3:ObjectCreated:*"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def bucket_allowed_statement(resource: str, bucket: str, action: str) -> dict[str, Any]:
    return {
        "Sid": "s3-may-send",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
    }


def make_queue(cloud: RunningCloud, allow_bucket: str | None = None) -> tuple[str, str]:
    """A queue (URL, ARN); with ``allow_bucket``, its policy lets that bucket send to it."""
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    if allow_bucket:
        policy = {
            "Version": "2012-10-17",
            "Statement": [bucket_allowed_statement(arn, allow_bucket, "sqs:SendMessage")],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url, arn


def make_topic(cloud: RunningCloud, allow_bucket: str | None = None) -> str:
    """A topic; with ``allow_bucket``, its policy also lets that bucket publish."""
    sns = cloud.client("sns")
    arn: str = sns.create_topic(Name=unique("t"))["TopicArn"]
    if allow_bucket:
        policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
        policy["Statement"].append(bucket_allowed_statement(arn, allow_bucket, "SNS:Publish"))
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
        )
    return arn


def make_bucket(cloud: RunningCloud, versioned: bool = False) -> str:
    s3 = cloud.client("s3")
    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def receive_all(cloud: RunningCloud, url: str) -> list[dict[str, Any]]:
    """Every message waiting in the queue, parsed (deliveries happen within the upload)."""
    sqs = cloud.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def queue_notifications(cloud: RunningCloud, bucket: str, prefix: str = "") -> str:
    """Send the bucket's ObjectCreated events to a new queue; returns its URL (emptied)."""
    url, arn = make_queue(cloud, allow_bucket=bucket)
    config: dict[str, Any] = {"QueueArn": arn, "Events": CREATED}
    if prefix:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": "Prefix", "Value": prefix}]}}
    cloud.client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [config]}
    )
    receive_all(cloud, url)  # the s3:TestEvent
    return url


def refusal(error: ClientError) -> tuple[str, str, str, str]:
    details = error.response["Error"]
    return (
        details["Code"],
        details["Message"],
        details.get("ArgumentName1", ""),
        details.get("ArgumentValue1", ""),
    )


# ----- the record's shape ---------------------------------------------------------------------
def test_an_object_created_record_has_aws_shape(cloud: RunningCloud) -> None:
    """The record carries AWS's fields, the key form-encoded with / kept, and no versionId."""
    bucket = make_bucket(cloud)
    url = queue_notifications(cloud, bucket)
    key = "path/to/data/2015-11-16/values a+b:c"
    put = cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=b"COUNTER1 1\n")
    (event,) = receive_all(cloud, url)
    (record,) = event["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 24
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["bucket"]["name"] == bucket
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    obj = s3["object"]
    assert obj["key"] == "path/to/data/2015-11-16/values+a%2Bb%3Ac"
    assert obj["size"] == len(b"COUNTER1 1\n")
    assert obj["eTag"] == put["ETag"].strip('"')
    assert int(obj["sequencer"], 16) > 0
    assert "versionId" not in obj


def test_a_versioned_bucket_names_the_version_and_sequencers_grow(cloud: RunningCloud) -> None:
    """On a versioned bucket each record names its object version; a later put of the same
    key has a greater sequencer."""
    bucket = make_bucket(cloud, versioned=True)
    url = queue_notifications(cloud, bucket)
    s3 = cloud.client("s3")
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    records = [event["Records"][0]["s3"]["object"] for event in receive_all(cloud, url)]
    assert [r["versionId"] for r in records] == [first["VersionId"], second["VersionId"]]
    width = max(len(r["sequencer"]) for r in records)
    older, newer = (r["sequencer"].rjust(width, "0") for r in records)
    assert newer > older


def test_the_prefix_filter_works_in_either_case(cloud: RunningCloud) -> None:
    """A filter rule named "Prefix" filters like "prefix": only keys under it notify."""
    bucket = make_bucket(cloud)
    url = queue_notifications(cloud, bucket, prefix="path/to/data/")
    s3 = cloud.client("s3")
    s3.put_object(Bucket=bucket, Key="elsewhere/values_i-1", Body=b"x")
    s3.put_object(Bucket=bucket, Key="path/to/data/values_i-1", Body=b"x")
    keys = [event["Records"][0]["s3"]["object"]["key"] for event in receive_all(cloud, url)]
    assert keys == ["path/to/data/values_i-1"]


# ----- which destinations S3 may use ---------------------------------------------------------
def test_a_topic_whose_policy_does_not_allow_the_bucket_is_refused(cloud: RunningCloud) -> None:
    """The default topic policy, or one allowing another bucket, makes S3 refuse the topic."""
    bucket = make_bucket(cloud)
    s3 = cloud.client("s3")
    for topic in (make_topic(cloud), make_topic(cloud, allow_bucket="someone-elses-bucket")):
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={
                    "TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]
                },
            )
        assert refusal(refused.value) == (
            "InvalidArgument",
            "Unable to validate the following destination configurations",
            topic,
            "Permissions on the destination topic do not allow S3 to publish notifications "
            "from this bucket",
        )
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_a_queue_whose_policy_does_not_allow_the_bucket_is_refused(cloud: RunningCloud) -> None:
    """A queue without a policy for the bucket is refused with AWS's reason."""
    bucket = make_bucket(cloud)
    _, arn = make_queue(cloud)
    with pytest.raises(ClientError) as refused:
        cloud.client("s3").put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": CREATED}]
            },
        )
    assert refusal(refused.value)[2:] == (
        arn,
        "Permissions on the destination queue do not allow S3 to publish notifications from "
        "this bucket",
    )


def test_a_function_needs_a_permission_for_s3(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """A function is refused until add-permission lets this bucket invoke it."""
    bucket = make_bucket(cloud)
    name = make_function("def lambda_handler(event, context):\n    return None\n")
    awslambda = cloud.client("lambda")
    arn = awslambda.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": CREATED}]}
    s3 = cloud.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert refusal(refused.value)[2:] == (
        f"{arn}, null",
        f"Not authorized to invoke function [{arn}]",
    )
    awslambda.add_permission(
        FunctionName=name,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=ACCOUNT,
    )
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]


def test_a_missing_destination_is_refused(cloud: RunningCloud) -> None:
    """A topic that does not exist is refused, saying so."""
    bucket = make_bucket(cloud)
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:{unique('absent')}"
    with pytest.raises(ClientError) as refused:
        cloud.client("s3").put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]
            },
        )
    assert refusal(refused.value)[2:] == (topic, "The destination topic does not exist")


def test_skip_destination_validation_accepts_any_destination(cloud: RunningCloud) -> None:
    """SkipDestinationValidation stores the configuration unchecked, as on AWS."""
    bucket = make_bucket(cloud)
    topic = make_topic(cloud)
    s3 = cloud.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]},
        SkipDestinationValidation=True,
    )
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]


# ----- through a topic ------------------------------------------------------------------------
def topic_with_queue(cloud: RunningCloud, bucket: str) -> tuple[str, str]:
    """A topic that lets ``bucket`` publish, with a queue subscribed: (topic ARN, queue URL)."""
    topic = make_topic(cloud, allow_bucket=bucket)
    url, arn = make_queue(cloud)
    cloud.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def test_the_test_event_and_the_events_reach_the_topics_subscribers(cloud: RunningCloud) -> None:
    """Putting the configuration sends s3:TestEvent through the topic, then each upload sends
    its event, both with the subject "Amazon S3 Notification"."""
    bucket = make_bucket(cloud)
    topic, url = topic_with_queue(cloud, bucket)
    s3 = cloud.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]},
    )
    s3.put_object(Bucket=bucket, Key="path/to/data/x", Body=b"1")
    envelopes = receive_all(cloud, url)
    assert [e["Subject"] for e in envelopes] == ["Amazon S3 Notification"] * 2
    assert all(e["TopicArn"] == topic for e in envelopes)
    test, upload = (json.loads(e["Message"]) for e in envelopes)
    assert test["Service"] == "Amazon S3" and test["Event"] == "s3:TestEvent"
    assert test["Bucket"] == bucket and test["RequestId"] and test["HostId"]
    assert upload["Records"][0]["s3"]["object"]["key"] == "path/to/data/x"


def test_an_event_for_a_topic_that_no_longer_allows_the_bucket_is_dropped(
    cloud: RunningCloud,
) -> None:
    """S3 checks the topic policy for every event: after the policy is reset, uploads reach
    nobody, and the cloud counts the refused notification."""
    bucket = make_bucket(cloud)
    topic, url = topic_with_queue(cloud, bucket)
    s3 = cloud.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]},
    )
    receive_all(cloud, url)
    sns = cloud.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "s3-may-send"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    before = events(cloud).get("s3.notifications_refused", 0)
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    assert receive_all(cloud, url) == []
    assert events(cloud)["s3.notifications_refused"] == before + 1


# ----- SNS to Lambda --------------------------------------------------------------------------
ECHO = """
import json
def lambda_handler(event, context):
    print("EVENT " + json.dumps(event))
"""


def status(cloud: RunningCloud) -> dict[str, Any]:
    found = control.status(cloud.data_dir)
    assert found is not None
    return found


def events(cloud: RunningCloud) -> dict[str, int]:
    return dict(status(cloud)["events"])


def received_events(cloud: RunningCloud, name: str) -> list[dict[str, Any]]:
    logs = cloud.client("logs")
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [
        json.loads(e["message"].split("EVENT ", 1)[1]) for e in found if "EVENT " in e["message"]
    ]


def subscribed_function(cloud: RunningCloud, make_function: MakeFunction) -> tuple[str, str, str]:
    """A topic with a function subscribed (no permission yet): (topic, function, subscription)."""
    topic = make_topic(cloud)
    name = make_function(ECHO)
    arn = cloud.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    subscription = cloud.client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    return topic, name, subscription["SubscriptionArn"]


def allow_topic(cloud: RunningCloud, name: str, topic: str) -> None:
    cloud.client("lambda").add_permission(
        FunctionName=name,
        StatementId="sns-invoke",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )


def test_sns_does_not_invoke_a_function_that_does_not_allow_the_topic(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """Without a Lambda permission for the topic nothing runs, and the failed delivery is in
    the topic's delivery-failure log group."""
    topic, name, _ = subscribed_function(cloud, make_function)
    message_id = cloud.client("sns").publish(TopicArn=topic, Message="hello")["MessageId"]
    cloud.wait_idle()
    assert received_events(cloud, name) == []
    assert status(cloud)["functions"].get(name, {}).get("invocations", 0) == 0
    topic_name = topic.rsplit(":", 1)[1]
    group = f"sns/us-east-1/{ACCOUNT}/{topic_name}/Failure"
    (entry,) = cloud.client("logs").filter_log_events(logGroupName=group)["events"]
    failure = json.loads(entry["message"])
    assert failure["status"] == "FAILURE"
    assert failure["notification"]["messageId"] == message_id
    assert failure["notification"]["topicArn"] == topic
    assert failure["delivery"]["statusCode"] == 403
    assert failure["delivery"]["destination"].endswith(f":function:{name}")
    assert "lambda:InvokeFunction" in failure["delivery"]["providerResponse"]


def test_sns_invokes_a_function_that_allows_the_topic_with_aws_event(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """With the permission the function runs once, with AWS's SNS event."""
    topic, name, subscription = subscribed_function(cloud, make_function)
    allow_topic(cloud, name, topic)
    message_id = cloud.client("sns").publish(
        TopicArn=topic,
        Message="hello",
        MessageAttributes={"colour": {"DataType": "String", "StringValue": "green"}},
    )["MessageId"]
    cloud.wait_idle()
    (event,) = received_events(cloud, name)
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == subscription
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert (sns["MessageId"], sns["TopicArn"], sns["Message"]) == (message_id, topic, "hello")
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {"colour": {"Type": "String", "Value": "green"}}
    assert sns["Timestamp"].endswith("Z") and sns["Signature"] and sns["SigningCertUrl"]
    assert subscription in sns["UnsubscribeUrl"]


def test_a_permission_for_another_topic_does_not_count(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """A permission whose SourceArn names another topic lets nothing through."""
    topic, name, _ = subscribed_function(cloud, make_function)
    allow_topic(cloud, name, make_topic(cloud))
    before = events(cloud).get("sns.lambda_delivery_failures", 0)
    cloud.client("sns").publish(TopicArn=topic, Message="hello")
    cloud.wait_idle()
    assert received_events(cloud, name) == []
    assert events(cloud)["sns.lambda_delivery_failures"] == before + 1


def test_an_upload_reaches_a_function_through_the_topic_after_the_test_event(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """S3 → SNS → Lambda end to end: the function gets the test event, then the upload's."""
    bucket = make_bucket(cloud)
    topic = make_topic(cloud, allow_bucket=bucket)
    name = make_function(ECHO)
    arn = cloud.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    allow_topic(cloud, name, topic)
    cloud.client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    s3 = cloud.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"TopicConfigurations": [{"TopicArn": topic, "Events": CREATED}]},
    )
    s3.put_object(Bucket=bucket, Key="path/to/data/2015-11-16/values_i-deadbeef", Body=b"C 1\n")
    cloud.wait_idle()
    messages = [json.loads(e["Records"][0]["Sns"]["Message"]) for e in received_events(cloud, name)]
    assert len(messages) == 2
    assert {m.get("Event") for m in messages} == {"s3:TestEvent", None}
    (upload,) = [m for m in messages if "Records" in m]
    assert upload["Records"][0]["s3"]["object"]["key"].endswith("values_i-deadbeef")


# ----- what it cost -----------------------------------------------------------------------------
def test_the_status_counts_requests_by_caller_and_the_services_work(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """The status endpoint counts the learner's requests by service and operation, the
    function's own requests under its name, and S3's notifications."""
    bucket = make_bucket(cloud)
    queue_notifications(cloud, bucket)
    name = make_function(
        f"""
import boto3
def lambda_handler(event, context):
    boto3.client("s3").get_object(Bucket="{bucket}", Key="k")
"""
    )
    before = status(cloud)
    cloud.client("s3").put_object(Bucket=bucket, Key="k", Body=b"1")
    cloud.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    after = status(cloud)

    def count(snapshot: dict[str, Any], caller: str, service: str, operation: str) -> int:
        return int(snapshot["requests"].get(caller, {}).get(service, {}).get(operation, 0))

    assert (
        count(after, "learner", "s3", "PutObject")
        == count(before, "learner", "s3", "PutObject") + 1
    )
    assert count(after, name, "s3", "GetObject") == 1
    assert after["events"]["s3.notifications_sent"] == before["events"]["s3.notifications_sent"] + 1
    assert after["functions"][name]["total_duration_ms"] > 0


def test_object_keys_are_taken_literally(cloud: RunningCloud) -> None:
    """A key is decoded once, as on AWS: "a%2Bb" is another key than "a+b"."""
    bucket = make_bucket(cloud)
    s3 = cloud.client("s3")
    s3.put_object(Bucket=bucket, Key="x/a+b", Body=b"plus")
    s3.put_object(Bucket=bucket, Key="x/c%2Fd e", Body=b"percent")
    assert s3.get_object(Bucket=bucket, Key="x/c%2Fd e")["Body"].read() == b"percent"
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="x/a%2Bb")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
