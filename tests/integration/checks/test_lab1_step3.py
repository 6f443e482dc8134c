"""lab1.step3 mistakes when connecting ReduceLambda, made with plain boto3 Lambda calls."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.checks import Status
from labkit.lab.functions.pipeline import encode_totals
from labkit.lab.names import FunctionId
from labkit.testing import RunningCloud

from .conftest import LabUnderTest, invocations, make_lab, reduce_policy, wait_idle

STEP = "lab1.step3"


@pytest.fixture(scope="module")
def module_lab(cloud: RunningCloud) -> Iterator[LabUnderTest]:
    """One lab at the start of lab1.step3 for the whole module."""
    lab = make_lab(cloud)
    lab.provision(STEP)
    yield lab
    lab.workshop.teardown()


@pytest.fixture
def lab(module_lab: LabUnderTest) -> Iterator[LabUnderTest]:
    """The module's lab, back at the start of the step (and with empty tables) after a test."""
    yield module_lab
    lam = module_lab.client("lambda")
    function = module_lab.names.function(FunctionId.REDUCE)
    for mapping in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    module_lab.provision(STEP)
    for table, key in (
        (module_lab.names.reduce_table, "MessageId"),
        (module_lab.names.aggregate_table, "Identifier"),
    ):
        ddb = module_lab.client("dynamodb")
        for item in ddb.scan(TableName=table)["Items"]:
            ddb.delete_item(TableName=table, Key={key: item[key]})


def reduce_lambda(lab: LabUnderTest) -> str:
    return str(lab.names.function(FunctionId.REDUCE))


def set_concurrency(lab: LabUnderTest, value: int = 1) -> None:
    lab.client("lambda").put_function_concurrency(
        FunctionName=reduce_lambda(lab), ReservedConcurrentExecutions=value
    )


def connect(lab: LabUnderTest, **changes: Any) -> dict[str, Any]:
    """The learner's create_event_source_mapping call, with ``changes``."""
    options: dict[str, Any] = {
        "FunctionName": reduce_lambda(lab),
        "EventSourceArn": lab.stream_arn(lab.names.reduce_table),
        "BatchSize": 1000,
        "StartingPosition": "TRIM_HORIZON",
    }
    options.update(changes)
    options = {k: v for k, v in options.items() if v is not None}
    mapping: dict[str, Any] = lab.client("lambda").create_event_source_mapping(**options)
    return mapping


def put_totals(lab: LabUnderTest, **totals: str) -> None:
    """An item as MapLambda writes it to ReduceTable."""
    lab.client("dynamodb").put_item(
        TableName=lab.names.reduce_table,
        Item={
            "MessageId": {"S": uuid.uuid4().hex},
            "Message": {"S": encode_totals({k: Decimal(v) for k, v in totals.items()})},
        },
    )


def wait_for_error(lab: LabUnderTest, timeout: float = 30.0) -> dict[str, Any]:
    """The first failed invocation of ReduceLambda by its mapping."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        failed = [
            i for i in invocations(lab.cloud, reduce_lambda(lab)) if i.get("outcome") == "error"
        ]
        if failed:
            return failed[-1]
        time.sleep(0.05)
    raise AssertionError("ReduceLambda never failed")


def test_start_of_step_is_not_done(lab: LabUnderTest) -> None:
    """At the start: no reserved concurrency and no mapping, each saying where to look."""
    report = lab.check(STEP)
    assert report.codes == ("concurrency-not-set", "mapping-missing")
    hint = report.item("concurrency-not-set").hint
    assert "reserve its concurrency" in hint and 'lab.hint("lab1.step3")' in hint
    assert "put_function_concurrency" not in hint  # the call is the last hint tier
    assert "create_event_source_mapping" in report.item("mapping-missing").hint


def test_correct_connection_passes_and_aggregates_fill(lab: LabUnderTest) -> None:
    """Concurrency 1 and a 1000-record mapping pass; after a round the totals are counted."""
    set_concurrency(lab)
    connect(lab)
    report = lab.check(STEP)
    assert report.passed, str(report)
    assert report.items[-1].status is Status.WARN  # no trades yet
    result = lab.workshop.play_round(messages=40)
    assert result.exact
    report = lab.check(STEP)
    assert report.passed and "40 messages counted" in report.items[-1].detail


def test_concurrency_zero(lab: LabUnderTest) -> None:
    """Reserved concurrency 0 throttles everything; the hint says so."""
    set_concurrency(lab, 0)
    connect(lab)
    item = lab.check(STEP).item("concurrency-zero")
    assert "throttle" in item.hint


def test_concurrency_too_high(lab: LabUnderTest) -> None:
    """Reserved concurrency 5 lets transactions conflict; the hint asks for 1."""
    set_concurrency(lab, 5)
    connect(lab)
    item = lab.check(STEP).item("concurrency-wrong")
    assert "5" in item.detail and "ReservedConcurrentExecutions=1" in item.hint


def test_batch_size_left_at_default(lab: LabUnderTest) -> None:
    """Leaving BatchSize out gives 100; the hint updates the mapping in place."""
    set_concurrency(lab)
    mapping = connect(lab, BatchSize=None)
    item = lab.check(STEP).item("batch-size")
    assert "100, the default" in item.detail
    assert mapping["UUID"] in item.hint and "BatchSize=1000" in item.hint


def test_mapping_disabled(lab: LabUnderTest) -> None:
    """A mapping created with Enabled=False is found and the hint enables it."""
    set_concurrency(lab)
    connect(lab, Enabled=False)
    item = lab.check(STEP).item("mapping-disabled")
    assert "Enabled=True" in item.hint


def test_mapping_created_before_the_policy(lab: LabUnderTest) -> None:
    """Connecting before lab1.step2 fails as on AWS; the check points back to the policy."""
    lab.provision("lab1.step2")  # ReduceLambdaPolicy without the stream permissions
    set_concurrency(lab)
    with pytest.raises(ClientError) as refused:
        connect(lab)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Cannot access stream" in str(refused.value)
    item = lab.check(STEP).item("mapping-missing")
    assert "Cannot access stream" in item.hint and "lab1.step2" in item.hint


def test_mapping_to_an_old_stream(lab: LabUnderTest) -> None:
    """Re-creating ReduceTable gives it a new stream; the mapping still reads the old one."""
    set_concurrency(lab)
    mapping = connect(lab)
    ddb = lab.client("dynamodb")
    table = lab.names.reduce_table
    ddb.delete_table(TableName=table)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "MessageId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "MessageId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    item = lab.check(STEP).item("mapping-old-stream")
    assert mapping["UUID"] in item.hint and lab.stream_arn(table) in item.hint


def test_mapping_from_the_wrong_stream(lab: LabUnderTest) -> None:
    """With a broad policy, mapping StateTable's stream to ReduceLambda is accepted but wrong."""
    broad = f"arn:aws:dynamodb:*:*:table/{lab.names.prefix}*/stream/*"
    lab.attach_policy_version(reduce_policy(lab, stream={"Resource": broad}))
    set_concurrency(lab)
    connect(lab, EventSourceArn=lab.stream_arn(lab.names.state_table))
    item = lab.check(STEP).item("mapping-wrong-source")
    assert lab.names.state_table in item.detail and "delete_event_source_mapping" in item.hint


def test_update_item_denied_at_run_time(lab: LabUnderTest) -> None:
    """Stream access but no UpdateItem: the mapping works, the function's writes are denied."""
    lab.attach_policy_version(reduce_policy(lab, drop=["write"]))
    set_concurrency(lab)
    connect(lab)
    put_totals(lab, **{"PV": "1.00", "message_count": "1"})
    wait_for_error(lab)
    item = lab.check(STEP).item("runtime-access-denied")
    assert "AccessDenied" in item.hint and "lab1.step2" in item.hint


def test_function_failing(lab: LabUnderTest) -> None:
    """A ReduceLambda that raises is reported with its error and a pointer to its logs."""
    lab.deploy(
        FunctionId.REDUCE,
        "def lambda_handler(event, context):\n    raise KeyError('Message')\n",
    )
    set_concurrency(lab)
    connect(lab)
    put_totals(lab, **{"PV": "1.00"})
    wait_for_error(lab)
    item = lab.check(STEP).item("function-failing")
    assert "KeyError" in item.hint and "lab.logs(" in item.hint


def test_latest_skips_stored_totals(lab: LabUnderTest) -> None:
    """With LATEST, totals stored before the mapping never arrive: flagged twice."""
    put_totals(lab, **{"PV": "2.50", "message_count": "1"})
    set_concurrency(lab)
    connect(lab, StartingPosition="LATEST")
    wait_idle(lab.cloud)
    report = lab.check(STEP)
    assert report.item("starting-latest").status is Status.WARN
    assert report.item("aggregates-empty").status is Status.FAIL


def test_no_lab_yet(fresh_lab: LabUnderTest) -> None:
    """Without the lab the check says how to set the step up, and does not raise."""
    item = fresh_lab.check(STEP).item("function-missing")
    assert 'lab.reset("lab1.step3")' in item.hint
