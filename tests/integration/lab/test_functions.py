"""The deployed functions, invoked directly with canonical events, under their own roles."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud
from tests.unit.lab.canonical import event


def invoke(cloud: RunningCloud, name: str, payload: dict[str, Any]) -> tuple[str | None, Any]:
    answer = cloud.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload))
    return answer.get("FunctionError"), json.loads(answer["Payload"].read() or b"null")


def test_state_lambda_stores_exact_values_with_its_role(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """StateLambda, running with StateLambdaRole, writes each trade to StateTable exactly."""
    workshop.reset("lab1.step2", confirm=True)
    error, body = invoke(lab_cloud, "StateLambda", event("kinesis_trades"))
    assert error is None, body
    item = lab_cloud.client("dynamodb").get_item(
        TableName="StateTable", Key={"id": {"S": "0b6c1c1e-6c1d-4f5e-9a53-4a0cf1f8c002"}}
    )["Item"]
    assert Decimal(item["Value"]["N"]) == Decimal("0.10")
    assert item["Hierarchy"]["M"]["TradeDesk"] == {"S": "FXOptions"}


def test_map_lambda_fails_loudly_when_it_cannot_write(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """With ReduceTable gone, MapLambda's write fails and so does the invocation (the
    mapping would retry it), instead of answering 500 and losing the batch."""
    workshop.reset("lab1.step2", confirm=True)
    lab_cloud.client("dynamodb").delete_table(TableName="ReduceTable")
    error, body = invoke(lab_cloud, "MapLambda", event("statetable_stream"))
    assert error == "Unhandled"
    assert body["errorType"] == "ResourceNotFoundException"
    workshop.reset("lab1.step2", confirm=True)


def test_reduce_lambda_cannot_write_before_its_policy_is_complete(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """At the start of lab1.step2, ReduceLambdaRole may not update AggregateTable; with the
    step's solution it may."""
    workshop.reset("lab1.step2", confirm=True)
    error, body = invoke(lab_cloud, "ReduceLambda", event("reducetable_stream"))
    assert error == "Unhandled"
    assert "AccessDeniedException" in body["errorMessage"]
    assert "dynamodb:UpdateItem" in body["errorMessage"]
    workshop.reset("lab1.step2", solved=True, confirm=True)
    error, body = invoke(lab_cloud, "ReduceLambda", event("reducetable_stream"))
    assert error is None, body
