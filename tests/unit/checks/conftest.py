"""Fakes for check tests that need no cloud: boto3-like clients and a lab."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.checks import CheckContext
from labkit.lab.names import LabSettings


class ClientError(Exception):
    """Looks like botocore's ClientError to ``error_code``."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"An error occurred ({code}): {message}")
        self.response = {"Error": {"Code": code, "Message": message}}


class FakeClients:
    """A client factory: service name -> object with the methods a test needs."""

    def __init__(self, **services: Any) -> None:
        self.services = services

    def __call__(self, service: str) -> Any:
        if service not in self.services:
            raise AssertionError(f"the check used an unexpected service: {service}")
        return self.services[service]


def context(clients: Callable[[str], Any], **options: Any) -> CheckContext:
    """A check context on fake clients; no sleeping."""
    options.setdefault("sleep", lambda _s: None)
    return CheckContext(settings=LabSettings(), client_factory=clients, **options)
