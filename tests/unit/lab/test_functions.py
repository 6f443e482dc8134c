"""The four lab functions, run from their real packages on canonical events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.lab.functions import pipeline
from labkit.lab.names import CodeVersion, FunctionId

from .canonical import event
from .conftest import FakeDynamoDB, conditional_failure

Load = Callable[..., ModuleType]


def test_starter_state_lambda_writes_every_message(load: Load, dynamodb: FakeDynamoDB) -> None:
    """Starter StateLambda upserts each Kinesis message into StateTable, exactly, with no
    condition, and the hierarchy as a map."""
    handler = load(FunctionId.STATE)
    answer = handler.lambda_handler(event("kinesis_trades"), None)
    writes = dynamodb.writes()
    assert answer == {"written": 3}
    assert [op for op, _ in writes] == ["update_item"] * 3
    first = writes[0][1]
    assert first["TableName"] == "StateTable"
    assert first["Key"] == {"id": {"S": "0b6c1c1e-6c1d-4f5e-9a53-4a0cf1f8c001"}}
    assert "ConditionExpression" not in first
    values = first["ExpressionAttributeValues"]
    assert values[":value"] == {"N": "34624.51"}
    assert values[":version"] == {"N": "0"}
    assert values[":hierarchy"]["M"]["RiskType"] == {"S": "Delta"}


def test_solution_state_lambda_writes_only_newer_versions(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """The lab 2 StateLambda writes with a version condition and skips messages whose
    condition fails (duplicates and stale versions)."""
    handler = load(FunctionId.STATE, CodeVersion.SOLUTION)
    dynamodb.fail = lambda op, p: (
        conditional_failure() if p["ExpressionAttributeValues"][":version"] == {"N": "1"} else None
    )
    answer = handler.lambda_handler(event("kinesis_trades"), None)
    assert answer == {"written": 2, "skipped": 1}
    condition = dynamodb.writes()[0][1]["ConditionExpression"]
    assert condition == "attribute_not_exists(id) OR #version < :version"


def test_solution_state_lambda_raises_other_errors(load: Load, dynamodb: FakeDynamoDB) -> None:
    """Only ConditionalCheckFailedException is swallowed; a throttle fails the batch."""
    handler = load(FunctionId.STATE, CodeVersion.SOLUTION)
    throttled = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "U"
    )
    dynamodb.fail = lambda op, p: throttled
    with pytest.raises(ClientError):
        handler.lambda_handler(event("kinesis_trades"), None)


def test_state_lambda_uses_the_table_name_from_its_environment(
    load: Load, dynamodb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS the tables are prefixed: the function reads the name from STATE_TABLE."""
    monkeypatch.setenv("STATE_TABLE", "labkit-StateTable")
    handler = load(FunctionId.STATE)
    handler.lambda_handler(event("kinesis_trades"), None)
    assert dynamodb.writes()[0][1]["TableName"] == "labkit-StateTable"


def test_map_lambda_stores_the_batch_totals_once_under_the_batch_hash(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """MapLambda puts one ReduceTable item keyed by the batch's hash, only if absent, with
    new values added, old values taken from their old leaf and removals subtracted."""
    handler = load(FunctionId.MAP)
    records = event("statetable_stream")
    handler.lambda_handler(records, None)
    [(operation, params)] = dynamodb.writes()
    assert operation == "put_item"
    assert params["ConditionExpression"] == "attribute_not_exists(MessageId)"
    assert params["Item"]["MessageId"]["S"] == pipeline.batch_hash(records["Records"])
    totals = {k: Decimal(v) for k, v in json.loads(params["Item"]["Message"]["S"]).items()}
    assert totals["PV:FXSpot:APAC"] == Decimal("100.25")
    assert totals["Delta:FXSpot:AMER"] == Decimal("0.00")
    assert totals["PV:FXOptions:EMEA"] == Decimal("0.1")
    assert totals["Delta:FXOptions:EMEA"] == Decimal("-7.05")
    assert totals["Delta"] == Decimal("-7.05")
    assert totals["PV"] == Decimal("100.35")
    assert totals["message_count"] == 3


def test_map_lambda_accepts_an_existing_item_as_a_retry(load: Load, dynamodb: FakeDynamoDB) -> None:
    """If the batch's item exists, the batch was stored by an earlier attempt: no error."""
    handler = load(FunctionId.MAP)
    dynamodb.fail = lambda op, p: conditional_failure("PutItem")
    handler.lambda_handler(event("statetable_stream"), None)


def test_map_lambda_raises_when_the_write_fails(load: Load, dynamodb: FakeDynamoDB) -> None:
    """Any other write error fails the invocation so the batch is retried (the reference
    lab returned a 500 here, which counted as success and dropped the batch)."""
    handler = load(FunctionId.MAP)
    missing = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "PutItem"
    )
    dynamodb.fail = lambda op, p: missing
    with pytest.raises(ClientError):
        handler.lambda_handler(event("statetable_stream"), None)


def test_starter_reduce_lambda_adds_totals_in_one_transaction(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """Starter ReduceLambda sums the batch's totals and ADDs them in one transaction, one
    Update per key, without a token."""
    handler = load(FunctionId.REDUCE)
    handler.lambda_handler(event("reducetable_stream"), None)
    [(operation, params)] = dynamodb.writes()
    assert operation == "transact_write_items"
    assert "ClientRequestToken" not in params
    updates = {
        u["Update"]["Key"]["Identifier"]["S"]: u["Update"]["ExpressionAttributeValues"][":value"]
        for u in params["TransactItems"]
    }
    assert updates["Delta"] == {"N": "10.25"}
    assert updates["PV:FXOptions:APAC"] == {"N": "3.00"}
    assert updates["message_count"] == {"N": "3"}
    assert params["TransactItems"][0]["Update"]["UpdateExpression"] == "ADD #value :value"


def test_solution_reduce_lambda_uses_the_batch_md5_as_token(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """The fixed ReduceLambda passes md5 of the canonical batch as ClientRequestToken, the
    same for a retry of the same batch."""
    handler = load(FunctionId.REDUCE, CodeVersion.SOLUTION)
    records = event("reducetable_stream")
    handler.lambda_handler(records, None)
    handler.lambda_handler(event("reducetable_stream"), None)
    tokens = [p["ClientRequestToken"] for _, p in dynamodb.writes()]
    canonical = pipeline.canonical_json(records["Records"]).encode()
    assert tokens == [hashlib.md5(canonical).hexdigest()] * 2
    assert len(tokens[0]) == 32


def test_solution_reduce_lambda_treats_a_token_mismatch_as_done(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """IdempotentParameterMismatchException means this batch was committed before: the
    handler succeeds without adding it again; other errors still raise."""
    handler = load(FunctionId.REDUCE, CodeVersion.SOLUTION)
    mismatch = ClientError(
        {"Error": {"Code": "IdempotentParameterMismatchException", "Message": "x"}}, "T"
    )
    dynamodb.fail = lambda op, p: mismatch
    assert handler.lambda_handler(event("reducetable_stream"), None)["keys"] > 0
    cancelled = ClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "x"}}, "T"
    )
    dynamodb.fail = lambda op, p: cancelled
    with pytest.raises(ClientError):
        handler.lambda_handler(event("reducetable_stream"), None)


@pytest.mark.parametrize(
    ("function", "parameter", "records"),
    [
        (FunctionId.STATE, "FAILURE_STATE_LAMBDA_PCT", "kinesis_trades"),
        (FunctionId.MAP, "FAILURE_MAP_LAMBDA_PCT", "statetable_stream"),
        (FunctionId.REDUCE, "FAILURE_REDUCE_LAMBDA_PCT", "reducetable_stream"),
    ],
)
def test_injected_failures_happen_after_the_writes(
    load: Load, dynamodb: FakeDynamoDB, function: FunctionId, parameter: str, records: str
) -> None:
    """At a 100 % failure rate the function still makes all its writes, then raises."""
    handler = load(function)
    dynamodb.parameters[parameter] = "100"
    with pytest.raises(Exception, match="failed on purpose") as raised:
        handler.lambda_handler(event(records), None)
    assert type(raised.value).__name__ == "InjectedFailure"
    assert dynamodb.writes(), "the writes happen before the failure"


def test_failures_follow_the_failure_seed(load: Load, dynamodb: FakeDynamoDB) -> None:
    """With FAILURE_SEED set, a fresh worker fails on the same invocations every time."""

    def outcomes(handler: ModuleType) -> list[bool]:
        results = []
        for _ in range(30):
            try:
                handler.lambda_handler(event("reducetable_stream"), None)
                results.append(True)
            except Exception:
                results.append(False)
        return results

    dynamodb.parameters.update({"FAILURE_REDUCE_LAMBDA_PCT": "30", "FAILURE_SEED": "7"})
    first = outcomes(load(FunctionId.REDUCE))
    second = outcomes(load(FunctionId.REDUCE))
    assert first == second
    assert 0 < first.count(False) < 30


def test_no_failure_parameter_means_no_failures(load: Load, dynamodb: FakeDynamoDB) -> None:
    """Without failure settings (lab 1) a function never fails on purpose and reads only
    its rate."""
    handler = load(FunctionId.REDUCE)
    for _ in range(20):
        handler.lambda_handler(event("reducetable_stream"), None)
    reads = [p["Key"]["parameter"]["S"] for op, p in dynamodb.calls if op == "get_item"]
    assert set(reads) == {"FAILURE_REDUCE_LAMBDA_PCT"}


class FakeKinesis:
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def put_records(self, **params: Any) -> dict[str, Any]:
        self.batches.append(params["Records"])
        return {"FailedRecordCount": 0, "Records": [{} for _ in params["Records"]]}


def test_generator_lambda_sends_the_round_and_answers_the_expected_totals(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """GeneratorLambda sends the seeded round in PutRecords calls of at most 500 and answers
    the same expected totals as the in-process generator."""
    kinesis = FakeKinesis()
    handler = load(FunctionId.GENERATOR, kinesis=kinesis)
    answer = handler.lambda_handler({"seed": 9, "messages": 1200, "special": True}, None)
    assert [len(b) for b in kinesis.batches] == [500, 500, 200]
    local = pipeline.generate_round(9, 1200, special=True)
    assert answer["expected"] == {k: str(v) for k, v in local.expected().items()}
    assert answer["stats"] == local.stats()
    sent = [json.loads(r["Data"]) for batch in kinesis.batches for r in batch]
    assert [t["TradeID"] for t in sent] == [m.trade.trade_id for m in local.messages]


def test_generator_lambda_reads_lab_2_mode_from_parameter_table(
    load: Load, dynamodb: FakeDynamoDB
) -> None:
    """Without "special" in the event, SPECIAL_TRADES in ParameterTable decides."""
    handler = load(FunctionId.GENERATOR, kinesis=FakeKinesis())
    dynamodb.parameters["SPECIAL_TRADES"] = "1"
    assert handler.lambda_handler({"seed": 1, "messages": 80}, None)["special"] is True
    dynamodb.parameters["SPECIAL_TRADES"] = "0"
    assert handler.lambda_handler({"seed": 1, "messages": 80}, None)["special"] is False


def test_packages_hold_the_handler_and_the_shared_helpers() -> None:
    """Every package has lambda_function.py and pipeline.py and nothing else."""
    from labkit.lab.packages import package

    for function in FunctionId:
        assert package(function).names == ("lambda_function.py", "pipeline.py")
