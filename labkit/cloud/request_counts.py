"""How many requests the cloud served, by caller, service and operation, and what services did
for each other (S3 notifications, SNS deliveries).

``labkit status --json`` and ``/_labkit/status`` show the counts under ``requests`` and
``events``; a client takes two readings and subtracts them to see what some work cost, much
as it would read CloudWatch metrics on AWS. The caller is ``learner`` for the learner's own
session, or the name of the function whose role signed the request.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from .awsrequest import AwsRequest
from .iam_actions import needed_permissions
from .replies import Reply

RoleLookup = Callable[[str | None], tuple[str, str] | None]
LEARNER = "learner"


def operation_of(request: AwsRequest) -> str:
    """The API operation of a request (for REST services, the IAM action it needs)."""
    if request.target:
        return request.target
    action = request.form.get("Action")
    if action:
        return action
    needed = needed_permissions(request)
    if needed:
        return needed[0].action.split(":", 1)[-1]
    return request.method


class RequestCounts:
    """A front gate that counts every request it sees and lets it through."""

    def __init__(self, role_of_key: RoleLookup) -> None:
        self.role_of_key = role_of_key
        self._requests: Counter[tuple[str, str, str]] = Counter()
        self._events: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: AwsRequest) -> Reply | None:
        if request.path.startswith("/_labkit/") or not request.service:
            return None
        role = self.role_of_key(request.access_key)
        caller = role[1] if role else LEARNER
        key = (caller, request.service, operation_of(request))
        with self._lock:
            self._requests[key] += 1
        return None

    def count_event(self, name: str) -> None:
        """Count something one service did for another (``s3.notifications_sent``…)."""
        with self._lock:
            self._events[name] += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"requests": {caller: {service: {operation: n}}}, "events": {name: n}}``."""
        with self._lock:
            requests: dict[str, dict[str, dict[str, int]]] = {}
            for (caller, service, operation), n in sorted(self._requests.items()):
                requests.setdefault(caller, {}).setdefault(service, {})[operation] = n
            return {"requests": requests, "events": dict(sorted(self._events.items()))}
