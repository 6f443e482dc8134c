"""``Lab``: the learner's handle on the workshop, on the local cloud or on AWS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .backends import Backend, connect


class IdleTimeout(TimeoutError):
    """Work was still in flight when the wait ran out; the message says what is behind."""


class Lab:
    """Connects to a backend; ``Lab()`` starts the local cloud if it is not running.

    After ``Lab()``, plain ``boto3.client("dynamodb")`` talks to the chosen backend.
    """

    def __init__(
        self,
        backend: str = "local",
        *,
        region: str | None = None,
        port: int | None = None,
        data_dir: Path | str | None = None,
    ) -> None:
        self.backend: Backend = connect(backend, region=region, port=port, data_dir=data_dir)

    @property
    def endpoint(self) -> str | None:
        return self.backend.endpoint

    @property
    def region(self) -> str:
        return self.backend.region

    def status(self) -> dict[str, Any]:
        """The local cloud's figures: functions, and per mapping its counters, iterator age
        and recent invocations (batch size, duration, error, retries)."""
        if not self.backend.is_local:
            return {}
        url = f"{self.backend.endpoint}/_labkit/status"
        with urllib.request.urlopen(url, timeout=10) as response:
            document: dict[str, Any] = json.loads(response.read())
            return document

    def invocations(self, function_name: str | None = None) -> list[dict[str, Any]]:
        """Recent invocations by event source mappings, oldest first (optionally one function)."""
        found: list[dict[str, Any]] = []
        for mapping in self.status().get("event_source_mappings", {}).values():
            if function_name and not str(mapping["function_arn"]).endswith(f":{function_name}"):
                continue
            found.extend(mapping.get("recent", []))
        return found

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Return once every invocation and event source mapping has caught up."""
        if not self.backend.is_local:
            return
        url = f"{self.backend.endpoint}/_labkit/wait-idle?timeout={timeout}"
        try:
            with urllib.request.urlopen(url, timeout=timeout + 10) as response:
                json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}")
            raise IdleTimeout(
                detail.get("message") or f"Still busy after {timeout:.0f} s."
            ) from None

    def __repr__(self) -> str:
        where = self.backend.endpoint or f"AWS {self.backend.region}"
        return f"Lab(backend={self.backend.name!r}, at {where})"
