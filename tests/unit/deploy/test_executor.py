"""The executor makes a plan's calls, waits, retries IAM propagation and explains failures."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from labkit.deploy.executor import Boto3Executor, DeployError, DisplayExecutor, hint_for
from labkit.deploy.plan import Call, Capture, Plan, Ref, RetryOn, Wait
from labkit.deploy.planner import plan_stack
from labkit.lab.progress import TextProgress

from .conftest import FakeClients, FakeReader, client_error, small_stack


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def executor(clients: FakeClients, time: FakeTime, propagation: float = 60.0) -> Boto3Executor:
    return Boto3Executor(
        clients, propagation_timeout=propagation, sleep=time.sleep, clock=time.clock
    )


def test_calls_are_made_in_order_with_their_parameters(fake_clients: FakeClients) -> None:
    """Each call becomes one client method call with exactly the plan's parameters."""
    plan = Plan("t", (Call("dynamodb", "delete_table", {"TableName": "A"}, "Delete A", "table A"),))
    report = executor(fake_clients, FakeTime()).run(plan)
    assert fake_clients.calls == [("dynamodb", "delete_table", {"TableName": "A"})]
    assert [o.status for o in report.outcomes] == ["done"]


STREAM_PATH = ("TableDescription", "LatestStreamArn")


def test_captured_values_fill_later_references() -> None:
    """A value captured from one response replaces a Ref in a later call (and its wait)."""
    clients = FakeClients(
        {
            ("dynamodb", "create_table"): [{"TableDescription": {"LatestStreamArn": "arn:s"}}],
            ("lambda", "create_event_source_mapping"): [{"UUID": "u-1"}],
            ("lambda", "get_event_source_mapping"): [{"State": "Enabled"}],
        }
    )
    plan = Plan(
        "t",
        (
            Call("dynamodb", "create_table", {}, "c", "t", capture=(Capture("s", STREAM_PATH),)),
            Call(
                "lambda",
                "create_event_source_mapping",
                {"EventSourceArn": Ref("s")},
                "m",
                "m",
                capture=(Capture("u", ("UUID",)),),
                wait=Wait("get_event_source_mapping", {"UUID": Ref("u")}, ("State",), ("Enabled",)),
            ),
        ),
    )
    report = executor(clients, FakeTime()).run(plan)
    assert clients.calls[1][2] == {"EventSourceArn": "arn:s"}
    assert clients.calls[2] == ("lambda", "get_event_source_mapping", {"UUID": "u-1"})
    assert report.values == {"s": "arn:s", "u": "u-1"}


def test_waits_poll_with_growing_pauses_until_ready() -> None:
    """A wait polls the describe call, sleeping a little longer each time, until ready."""
    clients = FakeClients(
        {
            ("dynamodb", "describe_table"): [
                {"Table": {"TableStatus": "CREATING"}},
                {"Table": {"TableStatus": "CREATING"}},
                {"Table": {"TableStatus": "ACTIVE"}},
            ]
        }
    )
    time = FakeTime()
    wait = Wait("describe_table", {"TableName": "A"}, ("Table", "TableStatus"), ("ACTIVE",))
    plan = Plan("t", (Call("dynamodb", "create_table", {}, "c", "t", wait=wait),))
    executor(clients, time).run(plan)
    assert [op for _, op, _ in clients.calls] == ["create_table"] + ["describe_table"] * 3
    assert time.sleeps == [0.05, 0.1]


def test_wait_for_deletion_ends_when_the_resource_is_gone() -> None:
    """A wait with ``gone`` ends successfully on the not-found error."""
    clients = FakeClients(
        {
            ("dynamodb", "describe_table"): [
                {"Table": {"TableStatus": "DELETING"}},
                client_error("ResourceNotFoundException"),
            ]
        }
    )
    wait = Wait("describe_table", {}, ("Table", "TableStatus"), gone="ResourceNotFoundException")
    plan = Plan("t", (Call("dynamodb", "delete_table", {}, "d", "t", wait=wait),))
    executor(clients, FakeTime()).run(plan)
    assert len(clients.calls) == 3


def test_wait_that_never_ends_is_a_deploy_error() -> None:
    """A resource that never gets ready ends in a DeployError after the wait's timeout."""
    clients = FakeClients(
        {("dynamodb", "describe_table"): [{"Table": {"TableStatus": "CREATING"}}]}
    )
    wait = Wait("describe_table", {}, ("Table", "TableStatus"), ("ACTIVE",), timeout=10)
    plan = Plan("t", (Call("dynamodb", "create_table", {}, "Create A", "table A", wait=wait),))
    with pytest.raises(DeployError) as raised:
        executor(clients, FakeTime()).run(plan)
    assert "not ready after 10 s" in raised.value.what
    assert raised.value.code == "WaitTimeout"


ROLE = RetryOn("InvalidParameterValueException", "cannot be assumed")
NOT_YET = client_error(
    "InvalidParameterValueException",
    "The role defined for the function cannot be assumed by Lambda.",
)


def test_iam_propagation_is_retried_with_backoff_through_the_injected_sleep() -> None:
    """An error marked as IAM propagation is retried after 1, 2, 4 … seconds of (fake) sleep,
    then the call succeeds."""
    clients = FakeClients({("lambda", "create_function"): [NOT_YET, NOT_YET, NOT_YET, {}]})
    time = FakeTime()
    plan = Plan(
        "t", (Call("lambda", "create_function", {}, "Create F", "function F", retry=(ROLE,)),)
    )
    report = executor(clients, time).run(plan)
    assert time.sleeps == [1.0, 2.0, 4.0]
    assert report.outcomes[0].attempts == 4


def test_iam_propagation_gives_up_after_the_timeout() -> None:
    """After the propagation timeout the last error becomes a DeployError that names the
    attempts and keeps the code."""
    clients = FakeClients({("lambda", "create_function"): [NOT_YET]})
    time = FakeTime()
    plan = Plan(
        "t", (Call("lambda", "create_function", {}, "Create F", "function F", retry=(ROLE,)),)
    )
    with pytest.raises(DeployError) as raised:
        executor(clients, time, propagation=20).run(plan)
    assert time.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert sum(time.sleeps) <= 20
    assert raised.value.code == "InvalidParameterValueException"
    assert "after 5 attempts" in raised.value.what


def test_no_retries_without_a_propagation_timeout() -> None:
    """With a timeout of 0 (the local cloud, where IAM is immediate) nothing is retried."""
    clients = FakeClients({("lambda", "create_function"): [NOT_YET, {}]})
    time = FakeTime()
    plan = Plan(
        "t", (Call("lambda", "create_function", {}, "Create F", "function F", retry=(ROLE,)),)
    )
    with pytest.raises(DeployError):
        executor(clients, time, propagation=0).run(plan)
    assert time.sleeps == []


def test_errors_that_do_not_match_a_rule_are_not_retried() -> None:
    """Another error code fails at once, without sleeping."""
    clients = FakeClients(
        {("lambda", "create_function"): [client_error("AccessDeniedException", "no")]}
    )
    time = FakeTime()
    plan = Plan(
        "t", (Call("lambda", "create_function", {}, "Create F", "function F", retry=(ROLE,)),)
    )
    with pytest.raises(DeployError) as raised:
        executor(clients, time).run(plan)
    assert time.sleeps == []
    assert "administrator" in raised.value.todo


def test_tolerated_errors_count_as_already_done() -> None:
    """Deleting what is already gone is not a failure."""
    clients = FakeClients(
        {("lambda", "delete_function"): [client_error("ResourceNotFoundException")]}
    )
    gone = ("ResourceNotFoundException",)
    plan = Plan("t", (Call("lambda", "delete_function", {}, "Delete F", "f", tolerate=gone),))
    report = executor(clients, FakeTime()).run(plan)
    assert report.outcomes[0].status == "already done"


def test_deploy_error_says_where_what_and_what_to_do() -> None:
    """A ClientError becomes one DeployError naming the resource, the failed step with AWS's
    message and code, and what the learner can do."""
    clients = FakeClients(
        {("dynamodb", "create_table"): [client_error("LimitExceededException", "Too many tables")]}
    )
    plan = Plan("t", (Call("dynamodb", "create_table", {}, "Create table A", "table A"),))
    with pytest.raises(DeployError) as raised:
        executor(clients, FakeTime()).run(plan)
    error = raised.value
    assert error.where == "table A"
    assert error.what == "Create table A failed: Too many tables [LimitExceededException]"
    assert "limit" in error.todo
    assert str(error).startswith("table A: Create table A failed")


def test_unreachable_endpoint_suggests_starting_the_cloud() -> None:
    """A connection failure asks the learner to start the local cloud."""
    clients = FakeClients(
        {("dynamodb", "create_table"): [EndpointConnectionError(endpoint_url="http://127.0.0.1:1")]}
    )
    plan = Plan("t", (Call("dynamodb", "create_table", {}, "Create table A", "table A"),))
    with pytest.raises(DeployError) as raised:
        executor(clients, FakeTime()).run(plan)
    assert "labkit up" in raised.value.todo


def test_mapping_permission_errors_point_at_the_role_policy() -> None:
    """A mapping that cannot read its stream gets a hint about the role's policy."""
    call = Call("lambda", "create_event_source_mapping", {}, "m", "m")
    assert "GetShardIterator" in hint_for("InvalidParameterValueException", call)


def test_concurrency_errors_point_at_the_account_limit() -> None:
    """Reserving concurrency on an account with a low limit explains the quota."""
    call = Call("lambda", "put_function_concurrency", {}, "c", "f")
    assert "quota" in hint_for("InvalidParameterValueException", call)


def test_display_executor_writes_the_plan_and_calls_nothing(fake_clients: FakeClients) -> None:
    """A dry run lists every call and never touches a client."""
    lines: list[str] = []
    plan = plan_stack(small_stack(), FakeReader(), title="demo")
    report = DisplayExecutor(lines.append, with_params=True).run(plan)
    assert lines[0] == f"demo: {len(plan.calls)} call(s)"
    assert any("Create table Items" in line for line in lines)
    assert any("<" in line and "bytes>" in line for line in lines)
    assert report.dry_run and fake_clients.calls == []


def test_progress_is_reported_for_every_call(fake_clients: FakeClients) -> None:
    """The executor reports each call to the progress reporter, from its own thread."""
    lines: list[str] = []
    plan = Plan(
        "t",
        (
            Call("dynamodb", "delete_table", {}, "Delete A", "table A"),
            Call("dynamodb", "delete_table", {}, "Delete B", "table B"),
        ),
    )
    executor(fake_clients, FakeTime()).run(plan, TextProgress(lines.append))
    assert lines == ["t: 2 call(s)", "[1/2] Delete A", "[2/2] Delete B"]


def test_wait_picks_a_list_element_by_key() -> None:
    """A wait path part ``List[Key=value]`` follows the element whose key matches (an index
    of a table), polling until it is ready."""
    describe = {"Table": {"GlobalSecondaryIndexes": [{"IndexName": "A", "IndexStatus": "ACTIVE"}]}}
    creating = {
        "Table": {
            "GlobalSecondaryIndexes": [
                {"IndexName": "A", "IndexStatus": "ACTIVE"},
                {"IndexName": "B", "IndexStatus": "CREATING"},
            ]
        }
    }
    active = {
        "Table": {
            "GlobalSecondaryIndexes": [
                {"IndexName": "A", "IndexStatus": "ACTIVE"},
                {"IndexName": "B", "IndexStatus": "ACTIVE"},
            ]
        }
    }
    clients = FakeClients({("dynamodb", "describe_table"): [creating, active]})
    path = ("Table", "GlobalSecondaryIndexes[IndexName=B]", "IndexStatus")
    wait = Wait("describe_table", {"TableName": "T"}, path, ("ACTIVE",))
    call = Call("dynamodb", "update_table", {}, "Create index B", "table T", wait=wait)
    time = FakeTime()
    executor(clients, time).run(Plan("t", (call,)))
    assert clients.operations().count("dynamodb.describe_table") == 2
    gone = Wait("describe_table", {"TableName": "T"}, path, absent=True, what="deleted")
    clients = FakeClients({("dynamodb", "describe_table"): [active, describe]})
    executor(clients, time).run(
        Plan("t", (Call("dynamodb", "update_table", {}, "Delete B", "t", wait=gone),))
    )
    assert clients.operations().count("dynamodb.describe_table") == 2


def test_new_kinds_get_specific_hints() -> None:
    """A mapping with a destination, a refused notification configuration, a taken bucket
    name and a recently deleted queue each get a hint saying what to do."""
    mapping = Call(
        "lambda",
        "update_event_source_mapping",
        {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:r:a:q"}}},
        "m",
        "m",
    )
    assert "sqs:SendMessage" in hint_for("InvalidParameterValueException", mapping)
    notification = Call("s3", "put_bucket_notification_configuration", {}, "n", "b")
    assert "add_permission" in hint_for("InvalidArgument", notification)
    assert "prefix" in hint_for("BucketAlreadyExists")
    assert "60" in hint_for("AWS.SimpleQueueService.QueueDeletedRecently")
