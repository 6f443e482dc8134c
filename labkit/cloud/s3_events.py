"""S3 event notifications in the shape AWS sends them.

moto's records lack most of what a handler reads on AWS; the record built here has it all:

* ``eventVersion`` 2.1, ``eventTime`` (ISO 8601 with milliseconds), ``userIdentity``,
  ``requestParameters.sourceIPAddress`` and ``responseElements`` (request ids);
* ``s3.bucket.ownerIdentity`` and ``s3.object`` with ``eTag``, ``size``, ``sequencer`` and,
  on a bucket with versioning enabled, ``versionId`` (absent otherwise, as on AWS);
* the key **URL-encoded the way S3 encodes it**: form encoding, so a space becomes ``+`` and
  ``+`` becomes ``%2B``, while ``/`` stays as it is. A handler must ``unquote_plus`` it.

``sequencer`` is a hexadecimal string that grows with every event, so of two events on one
key the later has the greater value (compare them left-padded to one length, as AWS advises).

The test event (``s3:TestEvent``) that S3 sends when a notification configuration is put
carries ``RequestId`` and ``HostId`` as on AWS.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from .awsrequest import AwsRequest
from .settings import ACCOUNT_ID

EVENT_VERSION = "2.1"
SEQUENCER_DIGITS = 18
SNS_SUBJECT = "Amazon S3 Notification"


@dataclass(frozen=True)
class Requester:
    """Who sent the request that caused an event, and from where."""

    principal_id: str
    source_ip: str = "127.0.0.1"


_current = threading.local()


def set_requester(requester: Requester | None) -> None:
    """Remember who is making the request this thread serves (the front calls this)."""
    _current.requester = requester


def current_requester() -> Requester:
    found = getattr(_current, "requester", None)
    return found if isinstance(found, Requester) else Requester(f"AWS:{ACCOUNT_ID}")


def principal_for(access_key: str | None, role: tuple[str, str] | None) -> str:
    """An IAM-style principal id: ``AWS:AROA…:session`` for a role, ``AWS:AIDA…`` for a user."""
    digest = hashlib.sha256((access_key or "anonymous").encode()).hexdigest().upper()
    if role is not None:
        return f"AWS:AROA{digest[:17]}:{role[1]}"
    return f"AWS:AIDA{digest[:17]}"


def owner_principal(account: str) -> str:
    """The bucket owner's id as S3 shows it in events (stable per account)."""
    return "A" + hashlib.sha256(account.encode()).hexdigest().upper()[:13]


class Sequencer:
    """Increasing hexadecimal sequencer values (based on the clock, so they keep growing
    across restarts of the cloud)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:0{SEQUENCER_DIGITS}X}"


SEQUENCER = Sequencer()


def encode_key(key: str) -> str:
    """The object key as S3 writes it into an event."""
    return quote_plus(key, safe="/")


def iso_now() -> str:
    """Now, as AWS writes event times: ``2015-11-16T22:08:36.682Z``."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _request_ids() -> dict[str, str]:
    return {
        "x-amz-request-id": secrets.token_hex(8).upper(),
        "x-amz-id-2": base64.b64encode(secrets.token_bytes(48)).decode(),
    }


def object_event(event_name: str, bucket: Any, key: Any, configuration_id: str) -> dict[str, Any]:
    """The notification for ``event_name`` (``s3:ObjectCreated:Put``…) on moto's bucket/key."""
    requester = current_requester()
    obj: dict[str, Any] = {"key": encode_key(key.name)}
    if not event_name.startswith("s3:ObjectRemoved"):
        obj["size"] = key.size
        obj["eTag"] = key.etag.replace('"', "")
    version = getattr(key, "version_id", None)
    if bucket.is_versioned and version and version != "null":
        obj["versionId"] = version
    obj["sequencer"] = SEQUENCER.next()
    record = {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": iso_now(),
        "eventName": event_name.removeprefix("s3:"),
        "userIdentity": {"principalId": requester.principal_id},
        "requestParameters": {"sourceIPAddress": requester.source_ip},
        "responseElements": _request_ids(),
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": owner_principal(bucket.account_id)},
                "arn": bucket.arn,
            },
            "object": obj,
        },
    }
    return {"Records": [record]}


def test_event(bucket_name: str) -> dict[str, Any]:
    """What S3 sends each destination when a notification configuration is put."""
    ids = _request_ids()
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_now(),
        "Bucket": bucket_name,
        "RequestId": ids["x-amz-request-id"],
        "HostId": ids["x-amz-id-2"],
    }


class RequesterGate:
    """A front gate that remembers who sent each request, for the events it causes."""

    def __init__(self, role_of_key: Callable[[str | None], tuple[str, str] | None]) -> None:
        self.role_of_key = role_of_key

    def __call__(self, request: AwsRequest) -> None:
        role = self.role_of_key(request.access_key)
        set_requester(Requester(principal_for(request.access_key, role)))
