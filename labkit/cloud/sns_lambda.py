"""SNS delivering to Lambda functions as AWS does.

* A message reaches a function only if the function's resource policy allows the topic
  (``lambda add-permission --principal sns.amazonaws.com --source-arn TOPIC``). Otherwise
  nothing runs, and the failed delivery is written, in the shape of SNS's delivery status
  logs, to the log group ``sns/REGION/ACCOUNT/TOPIC/Failure``. (On AWS, SNS writes there once
  the topic has a ``LambdaFailureFeedbackRoleArn``; locally it always does, so a learner can
  find out why nothing happened.) SNS does not retry such a client-side failure.
* The function gets the event AWS sends: the real ``EventSubscriptionArn``, ``TopicArn``,
  ``MessageId``, ``Subject`` (``null`` when the message had none), ``Timestamp`` and
  ``MessageAttributes``, and it runs asynchronously, like every SNS delivery.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import resource_policies
from .lambda_service import LambdaService, append_log_events
from .resource_policies import SNS_SERVICE, ServiceCall
from .s3_events import iso_now

log = logging.getLogger("labkit.cloud.sns")

Count = Callable[[str], None]


def failure_log_group(topic_arn: str) -> str:
    """Where SNS writes failed deliveries of a topic."""
    _, _, _, region, account, name = topic_arn.split(":", 5)
    return f"sns/{region}/{account}/{name}/Failure"


def lambda_event(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """The event a function subscribed to a topic receives for one message."""
    topic_arn = subscription.topic.arn
    region = topic_arn.split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": iso_now(),
                    "SignatureVersion": "1",
                    "Signature": base64.b64encode(secrets.token_bytes(64)).decode(),
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/"
                    f"SimpleNotificationService-{uuid.uuid4().hex}.pem",
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/"
                    f"?Action=Unsubscribe&SubscriptionArn={subscription.arn}",
                    "MessageAttributes": {
                        name: {"Type": value.get("Type"), "Value": value.get("Value")}
                        for name, value in (attributes or {}).items()
                    },
                },
            }
        ]
    }


def _write_failure(
    topic_arn: str, message: str, message_id: str, destination: str, status: int, error: str
) -> None:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"
    code, text = error.split(": ", 1)
    record = {
        "notification": {
            "messageMD5Sum": hashlib.md5(message.encode()).hexdigest(),
            "messageId": message_id,
            "topicArn": topic_arn,
            "timestamp": stamp,
        },
        "delivery": {
            "deliveryId": str(uuid.uuid4()),
            "destination": destination,
            "providerResponse": json.dumps(
                {"ErrorCode": code, "ErrorMessage": text, "lambdaRequestId": "Unrecoverable"}
            ),
            "dwellTimeMs": 1,
            "attempts": 1,
            "statusCode": status,
        },
        "status": "FAILURE",
    }
    append_log_events(
        topic_arn.split(":")[3],
        failure_log_group(topic_arn),
        str(uuid.uuid4()),
        [{"timestamp": int(time.time() * 1000), "message": json.dumps(record)}],
    )


def deliver(
    lambdas: LambdaService,
    count: Count,
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    attributes: dict[str, Any] | None,
) -> None:
    """Deliver one message to a ``lambda`` subscription (moto holds its lock)."""
    topic_arn = subscription.topic.arn
    account = topic_arn.split(":")[4]
    endpoint = subscription.endpoint
    fn = resource_policies.find_function(account, endpoint)
    if fn is None:
        count("sns.lambda_delivery_failures")
        _write_failure(
            topic_arn,
            message,
            message_id,
            endpoint,
            404,
            f"ResourceNotFoundException: Function not found: {endpoint}",
        )
        return
    call = ServiceCall(SNS_SERVICE, "lambda:InvokeFunction", fn.function_arn, topic_arn, account)
    if not resource_policies.allows(resource_policies.function_policy(fn), call):
        count("sns.lambda_delivery_failures")
        log.info("topic %s may not invoke %s: delivery failed", topic_arn, fn.function_name)
        _write_failure(
            topic_arn,
            message,
            message_id,
            endpoint,
            403,
            "AccessDeniedException: User: sns.amazonaws.com is not authorized to perform: "
            f"lambda:InvokeFunction on resource: {fn.function_arn} because no resource-based "
            "policy allows the lambda:InvokeFunction action",
        )
        return
    payload = json.dumps(lambda_event(subscription, message, message_id, subject, attributes))
    count("sns.lambda_deliveries")
    lambdas.invoke_from_moto(fn, payload.encode())


def install(lambdas: LambdaService, count: Count) -> None:
    """Route moto's deliveries to ``lambda`` subscriptions through :func:`deliver`."""
    from moto.sns.models import Subscription

    original = Subscription.publish

    def publish(
        self: Any,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        if self.protocol != "lambda":
            original(
                self,
                message,
                message_id,
                subject=subject,
                message_attributes=message_attributes,
                group_id=group_id,
                deduplication_id=deduplication_id,
                message_structure=message_structure,
            )
            return
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        deliver(lambdas, count, self, message, message_id, subject, message_attributes)

    Subscription.publish = publish
