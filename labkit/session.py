"""``Lab``: the learner's handle on the workshop, on the local cloud or on AWS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

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
