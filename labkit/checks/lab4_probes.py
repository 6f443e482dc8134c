"""What lab 4's checks use to look at the lab and to try it: names, waits, events and probes.

Probe data never touches the worked example: probes upload under the date ``2000-01-01``, as
instances called ``i-labkit+…`` (the ``+`` proves the key is decoded), with counters called
``LABKIT_PROBE_…``. Probe objects are deleted afterwards, every version of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from labkit.iam.resource_policy import ServiceCall, allows
from labkit.lab.counters.names import CounterNames, upload_key

from .context import CheckContext, error_code
from .probes import nonce

PROBE_DATE = "2000-01-01"
#: How long a probe waits for S3 → SNS → Lambda (→ stream → Lambda) on AWS.
AWS_PATIENCE = 90.0


@dataclass(frozen=True)
class Where:
    """Lab 4's names and ARNs in the checked account."""

    names: CounterNames
    bucket: str
    topic_arn: str
    region: str
    account: str
    partition: str

    @classmethod
    def of(cls, ctx: CheckContext) -> Where:
        names = CounterNames.of(ctx.settings)
        topic = f"arn:{ctx.partition}:sns:{ctx.region}:{ctx.account}:{names.topic}"
        return cls(
            names,
            names.bucket(ctx.account),
            topic,
            ctx.region,
            ctx.account,
            ctx.partition,
        )

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.bucket}"

    def function_arn(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"


def missing(error: BaseException, *codes: str) -> bool:
    return error_code(error) in {*codes, "ResourceNotFoundException", "NotFound", "404"}


def wait_until(ctx: CheckContext, done: Callable[[], bool], timeout: float = AWS_PATIENCE) -> bool:
    """Locally: let the cloud go idle, then look once. On AWS: look until ``done`` or timeout."""
    if ctx.wait_idle is not None:
        ctx.settle(timeout)
        return done()
    deadline = ctx.clock() + timeout
    while True:
        if done():
            return True
        if ctx.clock() >= deadline:
            return False
        ctx.sleep(2.0)


# ----- events as AWS shapes them ------------------------------------------------------------
def s3_record(
    where: Where, key: str, version: str | None, sequencer: str, size: int = 0
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "eTag": "0" * 32,
        "sequencer": sequencer,
    }
    if version:
        obj["versionId"] = version
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": where.region,
        "eventTime": "2000-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:labkit-check"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "LABKITCHECK", "x-amz-id-2": "labkit"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "labkit-check",
            "bucket": {
                "name": where.bucket,
                "ownerIdentity": {"principalId": "LABKIT"},
                "arn": where.bucket_arn,
            },
            "object": obj,
        },
    }


def sns_event(where: Where, message: dict[str, Any] | str) -> dict[str, Any]:
    """What the topic delivers to a subscribed function for ``message``."""
    text = message if isinstance(message, str) else json.dumps(message)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{where.topic_arn}:labkit-check",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": nonce(),
                    "TopicArn": where.topic_arn,
                    "Subject": "Amazon S3 Notification",
                    "Message": text,
                    "Timestamp": "2000-01-01T00:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def test_event(where: Where) -> dict[str, Any]:
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2000-01-01T00:00:00.000Z",
        "Bucket": where.bucket,
        "RequestId": "LABKITCHECK",
        "HostId": "labkit",
    }


def stream_event(
    ctx: CheckContext, stream_arn: str, counter: str, date: str, values: dict[str, int]
) -> dict[str, Any]:
    """A NEW_IMAGE MODIFY record of one state item, as the mapping delivers it."""
    image = {
        "Counter": {"S": counter},
        "Date": {"S": date},
        "InstanceValues": {"M": {k: {"N": str(v)} for k, v in values.items()}},
    }
    return {
        "Records": [
            {
                "eventID": nonce(),
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": ctx.region,
                "dynamodb": {
                    "ApproximateCreationDateTime": 946684800,
                    "Keys": {"Counter": image["Counter"], "Date": image["Date"]},
                    "NewImage": image,
                    "SequenceNumber": str(time.time_ns()),
                    "SizeBytes": 100,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": stream_arn,
            }
        ]
    }


# ----- reading the lab ------------------------------------------------------------------------
def topic_policy(ctx: CheckContext, where: Where) -> dict[str, Any] | None:
    try:
        attributes = ctx.client("sns").get_topic_attributes(TopicArn=where.topic_arn)
    except Exception as error:
        if missing(error, "NotFound"):
            return None
        raise
    found: dict[str, Any] = json.loads(attributes["Attributes"].get("Policy") or "{}")
    return found


def s3_may_publish(policy: dict[str, Any], where: Where, bucket_arn: str) -> bool:
    call = ServiceCall(
        "s3.amazonaws.com", "SNS:Publish", where.topic_arn, bucket_arn, where.account
    )
    return allows(policy, call)


def function_policy(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    try:
        text = ctx.client("lambda").get_policy(FunctionName=name)["Policy"]
    except Exception as error:
        if missing(error):
            return None
        raise
    found: dict[str, Any] = json.loads(text)
    return found


def role_documents(ctx: CheckContext, role_arn: str) -> dict[str, Any]:
    """Every policy of a role: inline by name, attached by their names."""
    iam = ctx.client("iam")
    role = role_arn.rsplit("/", 1)[-1]
    documents: dict[str, Any] = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        documents[name] = json.loads(document) if isinstance(document, str) else document
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        arn = attached["PolicyArn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
            "Document"
        ]
        documents[attached["PolicyName"]] = (
            json.loads(document) if isinstance(document, str) else document
        )
    return documents


def state_values(ctx: CheckContext, table: str, counter: str, date: str) -> dict[str, int]:
    item = (
        ctx.client("dynamodb")
        .get_item(
            TableName=table,
            Key={"Counter": {"S": counter}, "Date": {"S": date}},
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    values = item.get("InstanceValues", {}).get("M", {})
    return {name: int(value["N"]) for name, value in values.items() if "N" in value}


def aggregate_value(ctx: CheckContext, table: str, counter: str, date: str) -> int | None:
    item = (
        ctx.client("dynamodb")
        .get_item(
            TableName=table,
            Key={"Counter": {"S": counter}, "Date": {"S": date}},
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    value = item.get("Value", {}).get("N")
    return int(value) if value is not None else None


# ----- probes -------------------------------------------------------------------------------
class ProbeObjects:
    """Objects a check uploads, deleted (every version) when it is done."""

    def __init__(self, ctx: CheckContext, where: Where) -> None:
        self.ctx = ctx
        self.where = where
        self.keys: set[str] = set()
        self.tag = nonce()

    def instance(self) -> str:
        return f"i-labkit+{self.tag}"

    def key(self, date: str = PROBE_DATE) -> str:
        return upload_key(date, self.instance())

    def put(self, key: str, text: str) -> dict[str, Any]:
        self.keys.add(key)
        answer: dict[str, Any] = self.ctx.client("s3").put_object(
            Bucket=self.where.bucket, Key=key, Body=text.encode()
        )
        return answer

    def clean_up(self) -> None:
        s3 = self.ctx.client("s3")
        for key in self.keys:
            try:
                versions = s3.list_object_versions(Bucket=self.where.bucket, Prefix=key)
                for entry in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]:
                    if entry["Key"] == key:
                        s3.delete_object(
                            Bucket=self.where.bucket, Key=key, VersionId=entry["VersionId"]
                        )
            except Exception as error:
                if not missing(error, "NoSuchBucket", "NoSuchKey"):
                    raise


@contextmanager
def probe_objects(ctx: CheckContext, where: Where) -> Iterator[ProbeObjects]:
    probes = ProbeObjects(ctx, where)
    try:
        yield probes
    finally:
        probes.clean_up()


class TopicListener:
    """A queue subscribed to the topic for the length of a probe: what the topic sends."""

    def __init__(self, ctx: CheckContext, where: Where) -> None:
        self.ctx = ctx
        self.where = where
        sqs = ctx.client("sqs")
        self.url = sqs.create_queue(QueueName=f"{where.names.prefix}labkit-probe-{nonce()}")[
            "QueueUrl"
        ]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": where.topic_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})
        self.subscription = ctx.client("sns").subscribe(
            TopicArn=where.topic_arn, Protocol="sqs", Endpoint=self.arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    def messages(self, wait: float) -> list[str]:
        """The S3 messages (the SNS ``Message`` texts) that arrived, waiting up to ``wait`` s for
        the first (locally the topic delivers during the upload, so nothing waits)."""
        sqs = self.ctx.client("sqs")
        found: list[str] = []
        seconds = 0 if self.ctx.wait_idle is not None else int(min(wait, 20))
        while True:
            got = sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=seconds
            ).get("Messages", [])
            if not got:
                return found
            for message in got:
                found.append(json.loads(message["Body"])["Message"])
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            seconds = 0

    def close(self) -> None:
        try:
            self.ctx.client("sns").unsubscribe(SubscriptionArn=self.subscription)
        finally:
            self.ctx.client("sqs").delete_queue(QueueUrl=self.url)


@contextmanager
def topic_listener(ctx: CheckContext, where: Where) -> Iterator[TopicListener]:
    listener = TopicListener(ctx, where)
    try:
        yield listener
    finally:
        listener.close()


def keys_in(messages: list[str]) -> list[str]:
    """The object keys of the S3 events among SNS messages (test events have none)."""
    keys = []
    for text in messages:
        for record in json.loads(text).get("Records", []):
            keys.append(unquote_plus(record["s3"]["object"]["key"]))
    return keys
