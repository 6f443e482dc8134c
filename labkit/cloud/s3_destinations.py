"""Where S3 may send its notifications, checked as AWS checks it.

When a notification configuration is put, S3 makes sure it may use every destination and
refuses the whole configuration otherwise, with ``InvalidArgument`` "Unable to validate the
following destination configurations" and, per destination, an ``ArgumentNameN`` /
``ArgumentValueN`` pair saying why:

* a topic whose policy does not let this bucket publish, or a queue whose policy does not let
  it send: "Permissions on the destination topic (queue) do not allow S3 to publish
  notifications from this bucket";
* a function without a permission (``lambda add-permission``) for S3:
  "Not authorized to invoke function [ARN]";
* a destination that does not exist: "The destination topic does not exist" (queue, Lambda).

``SkipDestinationValidation`` skips the check, as on AWS. S3 checks the permission again for
every event: an event for a destination that no longer allows it is dropped, and counted.
Filter rule names are accepted in any case (``Prefix`` or ``prefix``), as S3 accepts them.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from . import resource_policies, s3_events
from .awsrequest import AwsRequest
from .front import Forward, Route
from .mutex import MOTO_LOCK
from .replies import Reply
from .resource_policies import S3_SERVICE, ServiceCall
from .settings import ACCOUNT_ID

log = logging.getLogger("labkit.cloud.s3")

VALIDATION_MESSAGE = "Unable to validate the following destination configurations"
_BUCKET_PATH = re.compile(r"/[^/]+/?")
#: (XML element of a configuration, element holding its ARN, kind of destination)
_KINDS = (
    ("TopicConfiguration", "Topic", "topic"),
    ("QueueConfiguration", "Queue", "queue"),
    ("CloudFunctionConfiguration", "CloudFunction", "function"),
)

Count = Callable[[str], None]


@dataclass(frozen=True)
class Refusal:
    argument_name: str
    argument_value: str


def s3_error(code: str, message: str, pairs: list[Refusal], status: int = 400) -> Reply:
    """An S3 REST error with ``ArgumentNameN``/``ArgumentValueN`` pairs."""
    parts = [f"<Code>{code}</Code><Message>{escape(message)}</Message>"]
    for number, pair in enumerate(pairs, start=1):
        parts.append(
            f"<ArgumentName{number}>{escape(pair.argument_name)}</ArgumentName{number}>"
            f"<ArgumentValue{number}>{escape(pair.argument_value)}</ArgumentValue{number}>"
        )
    ids = s3_events.test_event("")
    parts.append(f"<RequestId>{ids['RequestId']}</RequestId><HostId>{ids['HostId']}</HostId>")
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
    return Reply(status, body.encode(), {"Content-Type": "application/xml"})


# ----- permission of one destination (caller holds the moto lock) -----------------------------
def _call(bucket: str, action: str, resource: str) -> ServiceCall:
    return ServiceCall(S3_SERVICE, action, resource, f"arn:aws:s3:::{bucket}", ACCOUNT_ID)


def topic_refusal(bucket: str, topic_arn: str) -> Refusal | None:
    policy = resource_policies.topic_policy(ACCOUNT_ID, topic_arn)
    if policy is None:
        return Refusal(topic_arn, "The destination topic does not exist")
    if not resource_policies.allows(policy, _call(bucket, "SNS:Publish", topic_arn)):
        return Refusal(
            topic_arn,
            "Permissions on the destination topic do not allow S3 to publish notifications "
            "from this bucket",
        )
    return None


def queue_refusal(bucket: str, queue_arn: str) -> Refusal | None:
    exists, policy = resource_policies.queue_policy(ACCOUNT_ID, queue_arn)
    if not exists:
        return Refusal(queue_arn, "The destination queue does not exist")
    if not resource_policies.allows(policy, _call(bucket, "SQS:SendMessage", queue_arn)):
        return Refusal(
            queue_arn,
            "Permissions on the destination queue do not allow S3 to publish notifications "
            "from this bucket",
        )
    return None


def function_refusal(bucket: str, function_arn: str) -> Refusal | None:
    fn = resource_policies.find_function(ACCOUNT_ID, function_arn)
    if fn is None:
        return Refusal(f"{function_arn}, null", "The destination Lambda does not exist")
    policy = resource_policies.function_policy(fn)
    call = _call(bucket, "lambda:InvokeFunction", fn.function_arn)
    if not resource_policies.allows(policy, call):
        return Refusal(
            f"{function_arn}, null", f"Not authorized to invoke function [{function_arn}]"
        )
    return None


_CHECKS = {"topic": topic_refusal, "queue": queue_refusal, "function": function_refusal}


# ----- the PutBucketNotificationConfiguration request ---------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ElementTree.Element, name: str) -> str:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else ""


def _lowercase_rule_names(body: bytes) -> bytes:
    return re.sub(
        rb"<Name>\s*(Prefix|Suffix)\s*</Name>",
        lambda m: b"<Name>" + m.group(1).lower() + b"</Name>",
        body,
    )


def validate(bucket: str, body: bytes) -> Reply | None:
    """The refusal S3 gives this configuration, or None when S3 accepts it."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None  # moto answers MalformedXML
    refusals: list[Refusal] = []
    for element_name, arn_name, kind in _KINDS:
        for configuration in _children(root, element_name):
            for rule in configuration.iter():
                if _local(rule.tag) != "FilterRule":
                    continue
                name, value = _text(rule, "Name"), _text(rule, "Value")
                if name.lower() not in {"prefix", "suffix"}:
                    return s3_error(
                        "InvalidArgument",
                        "filter rule name must be either prefix or suffix",
                        [Refusal(name, value)],
                    )
            arn = _text(configuration, arn_name)
            with MOTO_LOCK:
                refusal = _CHECKS[kind](bucket, arn)
            if refusal is not None:
                refusals.append(refusal)
    if refusals:
        return s3_error("InvalidArgument", VALIDATION_MESSAGE, refusals)
    return None


def notification_routes() -> list[Route]:
    def put_notification(request: AwsRequest, forward: Forward) -> Reply:
        if "notification" not in request.query:
            return forward(None)
        skip = (request.header("x-amz-skip-destination-validation") or "").lower() == "true"
        bucket = request.path.strip("/")
        if not skip:
            refused = validate(bucket, request.body)
            if refused is not None:
                return refused
        return forward(_lowercase_rule_names(request.body))

    return [Route("s3", put_notification, "PUT", _BUCKET_PATH)]


# ----- delivery of events, replacing moto's helpers ------------------------------------------
def install(count: Count) -> None:
    """Send S3 events in AWS's shape, only to destinations that allow this bucket."""
    from moto.s3 import notifications

    original_sqs = notifications._send_sqs_message
    original_lambda = notifications._invoke_awslambda

    def send_sns(account_id: str, event_body: Any, topic_arn: str, region_name: str) -> None:
        bucket = _bucket_of(event_body)
        if topic_refusal(bucket, topic_arn) is not None:
            count("s3.notifications_refused")
            log.info("S3 may not publish to %s for bucket %s: event dropped", topic_arn, bucket)
            return
        from moto.sns.models import sns_backends

        count("s3.notifications_sent")
        try:
            sns_backends[account_id][region_name].publish(
                json.dumps(event_body), arn=topic_arn, subject=s3_events.SNS_SUBJECT
            )
        except Exception:  # delivery is asynchronous on AWS: never fail the upload
            log.exception("could not publish an S3 event to %s", topic_arn)

    def send_sqs(account_id: str, event_body: Any, queue_name: str, region_name: str) -> None:
        queue_arn = f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}"
        if queue_refusal(_bucket_of(event_body), queue_arn) is not None:
            count("s3.notifications_refused")
            return
        count("s3.notifications_sent")
        original_sqs(account_id, event_body, queue_name, region_name)

    def invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        if function_refusal(_bucket_of(event_body), fn_arn) is not None:
            count("s3.notifications_refused")
            return
        count("s3.notifications_sent")
        original_lambda(account_id, event_body, fn_arn, region_name)

    notifications._get_s3_event = s3_events.object_event
    notifications._get_test_event = s3_events.test_event
    notifications._send_sns_message = send_sns
    notifications._send_sqs_message = send_sqs
    notifications._invoke_awslambda = invoke


def _bucket_of(event_body: Any) -> str:
    if "Records" in event_body:
        return str(event_body["Records"][0]["s3"]["bucket"]["name"])
    return str(event_body.get("Bucket", ""))
