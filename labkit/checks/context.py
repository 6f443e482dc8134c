"""What a check works with: boto3 clients for the chosen backend, the lab's names, and waits.

Checks read the real state through boto3 only, so they run unchanged on the local cloud and on
AWS. Waiting and sleeping are injected (``wait_idle``, ``sleep``), so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.lab.names import FunctionId, LabSettings, Names

if TYPE_CHECKING:
    from labkit.session import Lab

__all__ = ["CheckContext", "error_code"]

ClientFactory = Callable[[str], Any]

#: How long to wait for the pipeline before asking whether it is stuck on a failing batch.
QUICK_SETTLE = 3.0


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ("" for anything else)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _default_clients(service: str) -> Any:
    import boto3
    from botocore.config import Config

    make: Any = boto3.client
    return make(service, config=Config(retries={"max_attempts": 2, "mode": "standard"}))


@dataclass
class CheckContext:
    """Everything a step check needs to look at the lab.

    ``client`` makes boto3 clients (plain ``boto3.client`` by default, which ``Lab()`` points at
    the chosen backend). ``wait_idle`` lets the pipeline catch up before behaviour is judged
    (local cloud only; ``None`` elsewhere). ``invocations`` lists recent event source mapping
    invocations of a function (local cloud only).
    """

    backend: str = "local"
    region: str = "us-east-1"
    settings: LabSettings = field(default_factory=LabSettings)
    client_factory: ClientFactory = _default_clients
    wait_idle: Callable[[float], None] | None = None
    invocations: Callable[[str], list[dict[str, Any]]] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _account: str | None = field(default=None, repr=False)

    @classmethod
    def from_lab(cls, lab: Lab) -> CheckContext:
        """A context for the backend ``lab`` is connected to."""
        local = lab.backend.is_local
        return cls(
            backend=lab.backend.name,
            region=lab.region,
            settings=lab.settings,
            wait_idle=lab.wait_idle if local else None,
            invocations=lab.invocations if local else None,
        )

    @property
    def names(self) -> Names:
        return self.settings.names

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.client_factory(service)
        return self._clients[service]

    @property
    def account(self) -> str:
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    @property
    def partition(self) -> str:
        return "aws-cn" if self.region.startswith("cn-") else "aws"

    def table_arn(self, table: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table}"

    def function(self, function: FunctionId) -> str:
        return self.names.function(function)

    def describe_table(self, table: str) -> dict[str, Any] | None:
        """The table's description, or None if it does not exist."""
        ddb = self.client("dynamodb")
        try:
            found: dict[str, Any] = ddb.describe_table(TableName=table)["Table"]
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        return found

    def function_configuration(self, function: FunctionId) -> dict[str, Any] | None:
        """The function's configuration, or None if it does not exist."""
        try:
            found: dict[str, Any] = self.client("lambda").get_function_configuration(
                FunctionName=self.function(function)
            )
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        return found

    def settle(self, timeout: float = 30.0, functions: tuple[str, ...] | None = None) -> bool:
        """Let the pipeline catch up (local cloud); True if it did within ``timeout``.

        A mapping that keeps retrying a batch its function fails on never catches up; once the
        lab's functions are seen failing, there is no point in waiting the whole ``timeout``.
        """
        if self.wait_idle is None:
            return True
        try:
            self.wait_idle(min(timeout, QUICK_SETTLE))
            return True
        except TimeoutError:
            if self.stuck(functions):
                return False
        try:
            self.wait_idle(timeout)
        except TimeoutError:
            return False
        return True

    def stuck(self, functions: tuple[str, ...] | None = None) -> bool:
        """True if the last mapping invocation of one of ``functions`` (deployed names; by
        default the core pipeline's) failed."""
        if self.invocations is None:
            return False
        if functions is None:
            functions = tuple(
                self.function(f) for f in (FunctionId.STATE, FunctionId.MAP, FunctionId.REDUCE)
            )
        for function in functions:
            recent = self.invocations(function)
            if recent and recent[-1].get("outcome") == "error":
                return True
        return False
