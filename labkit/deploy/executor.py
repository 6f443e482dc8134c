"""Executors: the only code that makes a plan's calls.

* :class:`Boto3Executor` makes them with boto3, captures values for later calls, waits for
  resources to be ready, retries errors that only mean IAM is still propagating (through an
  injected ``sleep``, so tests never wait), and turns any low-level failure into one
  :class:`DeployError` that says where, what, and what to do.
* :class:`DisplayExecutor` only writes the calls down: a dry run.

Both report to an optional :class:`Progress` from the calling thread only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from .plan import Call, Plan, Ref, Wait

ClientFactory = Callable[[str], Any]

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 16.0
WAIT_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0)


class Progress(Protocol):
    """Where an executor reports how far it got (a progress bar, a log, nothing)."""

    def begin(self, total: int, title: str) -> None: ...

    def advance(self, description: str) -> None: ...

    def end(self) -> None: ...


class DeployError(RuntimeError):
    """A plan could not be carried out: where it failed, what happened, what to do now."""

    def __init__(
        self,
        where: str,
        what: str,
        todo: str,
        *,
        call: Call | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"{where}: {what}\nWhat to do: {todo}")
        self.where = where
        self.what = what
        self.todo = todo
        self.call = call
        self.code = code


@dataclass(frozen=True)
class Outcome:
    call: Call
    status: str  # "done", "already done", "dry run"
    attempts: int = 1


@dataclass
class ExecutionReport:
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def calls_made(self) -> int:
        return sum(1 for o in self.outcomes if o.status != "dry run")

    def lines(self) -> list[str]:
        verb = "would make" if self.dry_run else "made"
        head = f"{self.plan.title}: {verb} {len(self.outcomes)} call(s)"
        if not self.dry_run:
            head += f" in {self.seconds:.1f} s"
        return [head, *(f"  - {o.call.description} ({o.status})" for o in self.outcomes)]


# ----- learner-facing errors ---------------------------------------------------------------
_HINTS: dict[str, str] = {
    "AccessDenied": "Your AWS identity is not allowed to do this. The workshop needs to create "
    "DynamoDB tables, a Kinesis stream, IAM roles and policies and Lambda functions: use an "
    "administrator profile for it, or ask your instructor.",
    "UnrecognizedClientException": "Your AWS credentials are not valid. Refresh them (for "
    "example `aws sso login`) and run this again.",
    "ExpiredToken": "Your AWS credentials have expired. Refresh them (for example "
    "`aws sso login`) and run this again.",
    "LimitExceeded": "An account limit was reached. Delete resources you no longer need "
    "(`labkit` can remove the lab's own with teardown), or ask for a higher limit.",
    "ResourceInUseException": "The resource is still being created, changed or deleted. Wait a "
    "minute and run this again.",
    "ResourceConflictException": "The function is still being updated. Wait a few seconds and "
    "run this again.",
    "EntityAlreadyExists": "Something with this name already exists but does not look like the "
    "lab's. Delete or rename it, or give the lab another prefix.",
    "InvalidParameterValueException": "AWS rejected a setting. If it names a role or a stream, "
    "the function's role probably lacks a permission: check its policy and run this again "
    "(IAM changes can take a few seconds to apply).",
    "ValidationException": "AWS rejected a setting. Check the values named in the message.",
    "ThrottlingException": "AWS is throttling requests. Wait a little and run this again.",
    "BucketAlreadyExists": "S3 bucket names are shared by every AWS account, and this one is "
    "taken. Give the lab another prefix (or bucket name) and run this again.",
    "QueueDeletedRecently": "AWS lets the name of a deleted queue be used again only after 60 "
    "seconds. Wait a minute and run this again.",
    "NotFound": "The topic does not exist (any more). Run this again; the plan creates what "
    "is missing.",
}
_ALIASES = {
    "AccessDeniedException": "AccessDenied",
    "UnauthorizedOperation": "AccessDenied",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "ExpiredTokenException": "ExpiredToken",
    "LimitExceededException": "LimitExceeded",
    "EntityAlreadyExistsException": "EntityAlreadyExists",
    "ResourceAlreadyExistsException": "EntityAlreadyExists",
    "TooManyRequestsException": "ThrottlingException",
    "Throttling": "ThrottlingException",
    "AWS.SimpleQueueService.QueueDeletedRecently": "QueueDeletedRecently",
}
_DEFAULT_HINT = (
    "Run this again; the plan skips what is already done. If it keeps failing, look at the "
    "resource in the console (or `labkit status` locally) or tear the lab down and provision it "
    "again."
)


def hint_for(code: str, call: Call | None = None) -> str:
    """What a learner can do about an error code (by AWS's code, aliases folded)."""
    if (
        call is not None
        and call.operation in ("create_event_source_mapping", "update_event_source_mapping")
        and code == "InvalidParameterValueException"
    ):
        hint = (
            "The function's execution role cannot read the stream. Give its policy "
            "dynamodb:DescribeStream, GetRecords and GetShardIterator (kinesis: also "
            "ListShards) on the stream's ARN, then run this again."
        )
        if call.params.get("DestinationConfig"):
            hint += (
                " The role must also be allowed to send to the on-failure destination "
                "(sqs:SendMessage on the queue, or sns:Publish on the topic)."
            )
        return hint
    if (
        call is not None
        and call.operation == "put_function_concurrency"
        and code == "InvalidParameterValueException"
    ):
        return (
            "The account's Lambda concurrency is too low to reserve any for one function "
            "(AWS keeps 10 unreserved; new accounts often have a limit of 10). Ask for a "
            "higher 'Concurrent executions' quota in Service Quotas, or run the lab locally."
        )
    if (
        call is not None
        and call.operation == "put_bucket_notification_configuration"
        and code == "InvalidArgument"
    ):
        return (
            "S3 checks that each destination accepts the bucket's events: a topic's policy "
            "must allow sns:Publish and a queue's policy sqs:SendMessage for the principal "
            "s3.amazonaws.com with this bucket as aws:SourceArn, and a function needs a "
            "permission (add_permission) for s3.amazonaws.com. Fix that, then run this again."
        )
    return _HINTS.get(_ALIASES.get(code, code), _DEFAULT_HINT)


def _error_parts(error: ClientError) -> tuple[str, str]:
    detail = error.response.get("Error", {})
    return str(detail.get("Code", "Unknown")), str(detail.get("Message", str(error)))


def deploy_error(call: Call, error: Exception, *, attempts: int = 1) -> DeployError:
    """One learner-facing error for a failed call."""
    if isinstance(error, ClientError):
        code, message = _error_parts(error)
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        return DeployError(
            call.resource,
            f"{call.description} failed{tried}: {message} [{code}]",
            hint_for(code, call),
            call=call,
            code=code,
        )
    if isinstance(error, EndpointConnectionError):
        return DeployError(
            call.resource,
            f"{call.description} failed: cannot connect to {error.kwargs.get('endpoint_url')}",
            "Is the local cloud running? Start it with `labkit up` (or `labkit.Lab()`), then "
            "run this again.",
            call=call,
            code="EndpointConnectionError",
        )
    return DeployError(
        call.resource,
        f"{call.description} failed: {error}",
        _DEFAULT_HINT,
        call=call,
        code=type(error).__name__,
    )


# ----- executors ---------------------------------------------------------------------------
def _dig(document: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path``; ``Name[Key=value]`` picks a list element by one of its keys."""
    for part in path:
        if not isinstance(document, Mapping):
            return None
        if part.endswith("]") and "[" in part:
            name, selector = part[:-1].split("[", 1)
            key, _, wanted = selector.partition("=")
            items = document.get(name) or []
            document = next(
                (i for i in items if isinstance(i, Mapping) and i.get(key) == wanted), None
            )
        else:
            document = document.get(part)
    return document


def resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with every :class:`Ref` replaced by what was captured for it."""
    if isinstance(value, Ref):
        if value.name not in values:
            raise KeyError(value.name)
        return values[value.name]
    if isinstance(value, Mapping):
        return {k: resolve(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, values) for v in value]
    return value


class Boto3Executor:
    """Makes a plan's calls with clients from ``client(service)``.

    ``propagation_timeout`` bounds how long errors marked as "IAM still propagating" are
    retried (0 on the local cloud, where IAM changes apply at once).
    """

    def __init__(
        self,
        client: ClientFactory,
        *,
        propagation_timeout: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.propagation_timeout = propagation_timeout
        self._sleep = sleep
        self._clock = clock

    def run(self, plan: Plan, progress: Progress | None = None) -> ExecutionReport:
        report = ExecutionReport(plan)
        started = self._clock()
        if progress is not None:
            progress.begin(len(plan.calls), plan.title)
        try:
            for call in plan.calls:
                if progress is not None:
                    progress.advance(call.description)
                report.outcomes.append(self._run_call(call, report.values))
        finally:
            if progress is not None:
                progress.end()
            report.seconds = self._clock() - started
        return report

    def _run_call(self, call: Call, values: dict[str, Any]) -> Outcome:
        try:
            params = resolve(call.params, values)
        except KeyError as missing:
            raise DeployError(
                call.resource,
                f"{call.description} needs {missing.args[0]}, which no earlier call provided",
                "This is a bug in the plan; please report it.",
                call=call,
            ) from None
        method = getattr(self._client(call.service), call.operation)
        attempts = 0
        delay = FIRST_RETRY_DELAY
        deadline = self._clock() + self.propagation_timeout
        while True:
            attempts += 1
            try:
                response = method(**params)
                break
            except ClientError as error:
                code, message = _error_parts(error)
                if code in call.tolerate:
                    return Outcome(call, "already done", attempts)
                retryable = any(rule.matches(code, message) for rule in call.retry)
                if retryable and self._clock() + delay <= deadline:
                    self._sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_DELAY)
                    continue
                raise deploy_error(call, error, attempts=attempts) from error
            except (BotoCoreError, OSError) as error:
                raise deploy_error(call, error) from error
        for capture in call.capture:
            values[capture.name] = _dig(response, capture.path)
        if call.wait is not None:
            self._wait(call, call.wait, values)
        return Outcome(call, "done", attempts)

    def _wait(self, call: Call, wait: Wait, values: Mapping[str, Any]) -> None:
        client = self._client(call.service)
        method = getattr(client, wait.operation)
        params = resolve(wait.params, values)
        deadline = self._clock() + wait.timeout
        delays = iter(WAIT_DELAYS)
        last: Any = None
        while True:
            try:
                status = _dig(method(**params), wait.path)
            except ClientError as error:
                code, _ = _error_parts(error)
                if wait.gone is not None and code == wait.gone:
                    return
                raise deploy_error(call, error) from error
            except (BotoCoreError, OSError) as error:
                raise deploy_error(call, error) from error
            last = status
            if wait.absent and status is None:
                return
            if wait.gone is None and not wait.absent and (not wait.ready or status in wait.ready):
                return
            if status in wait.failed:
                raise DeployError(
                    call.resource,
                    f"{call.description}: the resource ended up {status}",
                    _DEFAULT_HINT,
                    call=call,
                    code=str(status),
                )
            if self._clock() >= deadline:
                raise DeployError(
                    call.resource,
                    f"{call.description}: not {wait.what} after {wait.timeout:.0f} s "
                    f"(last seen: {last})",
                    "AWS is slow to finish this; wait a minute and run this again.",
                    call=call,
                    code="WaitTimeout",
                )
            self._sleep(next(delays, WAIT_DELAYS[-1]))


class DisplayExecutor:
    """A dry run: writes each call (and optionally its parameters) instead of making it."""

    def __init__(
        self, write: Callable[[str], Any] | None = None, *, with_params: bool = False
    ) -> None:
        self._write = write if write is not None else (lambda line: sys.stdout.write(line + "\n"))
        self.with_params = with_params

    def run(self, plan: Plan, progress: Progress | None = None) -> ExecutionReport:
        for line in plan.lines(with_params=self.with_params):
            self._write(line)
        return ExecutionReport(
            plan, [Outcome(call, "dry run", 0) for call in plan.calls], dry_run=True
        )


class Executor(Protocol):
    def run(self, plan: Plan, progress: Progress | None = None) -> ExecutionReport: ...
