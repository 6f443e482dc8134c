"""Function roles in force: requests signed with a role's credentials are judged by its policies.

The learner's own session is an administrator and is never checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .awsrequest import AwsRequest
from .iam_actions import Needed, needed_permissions
from .replies import Reply, json_protocol_error
from .role_policies import role_policy_set
from .settings import ACCOUNT_ID

RoleLookup = Callable[[str | None], tuple[str, str] | None]


def denial_message(role_arn: str, session: str, needed: Needed) -> str:
    role_name = role_arn.rsplit("/", 1)[-1]
    who = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{session}"
    return (
        f"User: {who} is not authorized to perform: {needed.action} on resource: "
        f"{needed.resource} because no identity-based policy allows the {needed.action} action"
    )


def _xml_error(code: str, message: str, status: int) -> Reply:
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>labkit</RequestId></ErrorResponse>"
    )
    return Reply(status, body.encode(), {"Content-Type": "text/xml"})


def _s3_error(message: str) -> Reply:
    body = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    return Reply(403, body.encode(), {"Content-Type": "application/xml"})


def refusal(request: AwsRequest, message: str) -> Reply:
    """AccessDenied in the shape each protocol uses."""
    service = request.service
    if service == "dynamodb":
        return json_protocol_error(
            "AccessDeniedException", message, 400, "com.amazon.coral.service#"
        )
    if service == "s3":
        return _s3_error(message)
    if service == "sns":
        return _xml_error("AuthorizationError", message, 403)
    if service == "sqs" and request.target:
        return Reply(
            403,
            json.dumps(
                {"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}
            ).encode(),
            {
                "Content-Type": "application/x-amz-json-1.0",
                "x-amzn-query-error": "AccessDenied;Sender",
            },
        )
    return json_protocol_error("AccessDeniedException", message, 400)


class FunctionRoleGate:
    """A front gate: None lets the request through, a Reply refuses it."""

    def __init__(self, role_of_key: RoleLookup) -> None:
        self.role_of_key = role_of_key

    def __call__(self, request: AwsRequest) -> Reply | None:
        found = self.role_of_key(request.access_key)
        if found is None or request.path.startswith("/_labkit/"):
            return None
        role_arn, session = found
        policies = role_policy_set(role_arn)
        for needed in needed_permissions(request):
            if not policies.is_allowed(needed.action, needed.resource):
                return refusal(request, denial_message(role_arn, session, needed))
        return None
