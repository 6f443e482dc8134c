"""The speed-ups change nothing moto answers: the same requests, with and without them.

Every update below runs twice in a row (the second time through the remembered parse), on new
and existing items, and with the errors moto reports for bad expressions.
"""

from __future__ import annotations

import pickle
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from labkit.cloud import moto_slots, moto_speedups

# moto in-process, whatever endpoint or credentials other tests left in the environment.
pytestmark = pytest.mark.usefixtures("aws_env")

TABLE = "Speedups"

N = {"N": "1"}
UPDATES: list[dict[str, Any]] = [
    {"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
    {
        "UpdateExpression": "SET #value = :value, #version = :version, #h = :h",
        "ExpressionAttributeNames": {"#value": "Value", "#version": "Version", "#h": "H"},
        "ExpressionAttributeValues": {
            ":value": {"N": "12.5"},
            ":version": {"N": "3"},
            ":h": {"M": {"Desk": {"S": "FX"}, "Region": {"S": "EMEA"}}},
        },
        "ConditionExpression": "attribute_not_exists(id) OR #version < :version",
    },
    {
        "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": N},
    },
    {"UpdateExpression": "SET n = n - :one", "ExpressionAttributeValues": {":one": N}},
    {
        "UpdateExpression": "SET l = list_append(if_not_exists(l, :empty), :more)",
        "ExpressionAttributeValues": {":empty": {"L": []}, ":more": {"L": [{"S": "p"}]}},
    },
    {
        "UpdateExpression": "SET l = list_append(:more, l)",
        "ExpressionAttributeValues": {":more": {"L": [{"S": "q"}]}},
    },
    {"UpdateExpression": "SET l[0] = :v", "ExpressionAttributeValues": {":v": {"S": "r"}}},
    {"UpdateExpression": "SET m = :m", "ExpressionAttributeValues": {":m": {"M": {}}}},
    {
        "UpdateExpression": "SET m.#k = :v, m.other = :w",
        "ExpressionAttributeNames": {"#k": "key"},
        "ExpressionAttributeValues": {":v": {"S": "k"}, ":w": {"BOOL": True}},
    },
    {
        "UpdateExpression": "ADD c :one, tags :tags",
        "ExpressionAttributeValues": {":one": N, ":tags": {"SS": ["a", "b", "c"]}},
    },
    {
        "UpdateExpression": "DELETE tags :gone",
        "ExpressionAttributeValues": {":gone": {"SS": ["b"]}},
    },
    {
        "UpdateExpression": "SET z = :v REMOVE a ADD c :one",
        "ExpressionAttributeValues": {":v": {"NULL": True}, ":one": N},
    },
    {"UpdateExpression": "REMOVE l[0], m.other"},
    {
        "UpdateExpression": "SET n = n + :one",
        "ConditionExpression": "n > :big",
        "ExpressionAttributeValues": {":one": N, ":big": {"N": "100"}},
    },
    {
        "UpdateExpression": "SET b = :v",
        "ConditionExpression": "(attribute_exists(n) AND n BETWEEN :lo AND :hi) OR NOT "
        "begins_with(id, :p) OR size(l) IN (:lo, :hi)",
        "ExpressionAttributeValues": {
            ":v": N,
            ":lo": {"N": "0"},
            ":hi": {"N": "5"},
            ":p": {"S": "sh"},
        },
    },
    {
        "UpdateExpression": "SET b = :v",
        "ConditionExpression": "n >> :v",
        "ExpressionAttributeValues": {":v": N},
    },
    {
        "UpdateExpression": "SET b = :v",
        "ConditionExpression": "#missing = :v",
        "ExpressionAttributeValues": {":v": N},
    },
    # Expressions that read nothing from the item (validated once for a new item), and their
    # near neighbours that do.
    {"UpdateExpression": "SET a = :v + :w", "ExpressionAttributeValues": {":v": N, ":w": N}},
    {"UpdateExpression": "SET a = :v, b = a", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "SET a.b = :v", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "SET e = :e", "ExpressionAttributeValues": {":e": {"S": ""}}},
    # Errors moto reports, which must stay the same errors.
    {
        "UpdateExpression": "SET a = :v + :s",
        "ExpressionAttributeValues": {":v": N, ":s": {"S": "x"}},
    },
    {
        "UpdateExpression": "SET #k = :v",
        "ExpressionAttributeNames": {"#k": "id"},
        "ExpressionAttributeValues": {":v": {"S": "other"}},
    },
    {"UpdateExpression": "SET id = :e", "ExpressionAttributeValues": {":e": {"S": ""}}},
    {"UpdateExpression": "SET a = :v SET b = :v", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "ADD c :one ADD d :one", "ExpressionAttributeValues": {":one": N}},
    {"UpdateExpression": "SET a = :v, a = :w", "ExpressionAttributeValues": {":v": N, ":w": N}},
    {"UpdateExpression": "SET id = :v", "ExpressionAttributeValues": {":v": {"S": "other"}}},
    {"UpdateExpression": "SET a = missing + :v", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "SET a = :undefined", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "SET a = = :v", "ExpressionAttributeValues": {":v": N}},
    {"UpdateExpression": "SET n = n + :s", "ExpressionAttributeValues": {":s": {"S": "text"}}},
    {"UpdateExpression": "ADD tags :one", "ExpressionAttributeValues": {":one": N}},
]


def _outcome(call: Any, **kwargs: Any) -> Any:
    try:
        answer = call(**kwargs)
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"])
    except Exception as failure:  # moto's own failures (an assert) must stay the same too
        return ("failure", type(failure).__name__, str(failure))
    answer.pop("ResponseMetadata", None)
    return ("ok", answer)


def _client_with_table() -> Any:
    """A DynamoDB client (inside ``mock_aws``) and the table the comparisons write to."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def _run_everything() -> list[Any]:
    outcomes: list[Any] = []
    with mock_aws():
        client = _client_with_table()
        for key in ("new-each-time-{}", "shared"):
            for number, update in enumerate(UPDATES):
                for attempt in range(2):
                    outcomes.append(
                        _outcome(
                            client.update_item,
                            TableName=TABLE,
                            Key={"id": {"S": key.format(f"{number}-{attempt}")}},
                            ReturnValues="ALL_NEW" if attempt else "UPDATED_OLD",
                            **update,
                        )
                    )
        outcomes.append(
            _outcome(
                client.transact_write_items,
                TransactItems=[
                    {"Update": {"TableName": TABLE, "Key": {"id": {"S": f"t{i}"}}, **UPDATES[2]}}
                    for i in range(3)
                ],
            )
        )
        for attempt in range(2):  # conditions of puts and deletes: once met, then not
            outcomes.append(
                _outcome(
                    client.put_item,
                    TableName=TABLE,
                    Item={"id": {"S": "conditional"}, "n": N},
                    ConditionExpression="attribute_not_exists(id) OR n < :n",
                    ExpressionAttributeValues={":n": N},
                )
            )
            outcomes.append(
                _outcome(
                    client.delete_item,
                    TableName=TABLE,
                    Key={"id": {"S": f"t{attempt}"}},
                    ConditionExpression="#n >= :zero",
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={":zero": {"N": "0"}},
                    ReturnValues="ALL_OLD",
                )
            )
        items = client.scan(TableName=TABLE)["Items"]
        outcomes.append(sorted(items, key=lambda item: item["id"]["S"]))
    return outcomes


def test_every_answer_is_the_same_with_the_speedups() -> None:
    without = _run_everything()
    with moto_speedups.installed():
        faster = _run_everything()
        again = _run_everything()
        with moto_speedups.installed():  # installed twice (as over the cloud's patches)
            twice = _run_everything()
    assert faster == without
    assert again == without
    assert twice == without
    assert _run_everything() == without  # and taking them out leaves moto as it was


def test_every_answer_is_the_same_with_slotted_values() -> None:
    """moto_slots (attribute values without a dict each) changes no answer either, alone or
    under the speed-ups, and values made before it or pickled by a plain class still load."""
    from moto.dynamodb.models import dynamo_type

    without = _run_everything()
    plain = pickle.dumps(dynamo_type.DynamoType({"M": {"k": {"S": "v"}}}))
    with moto_slots.installed():
        slotted = dynamo_type.DynamoType({"S": "x"})
        assert not hasattr(slotted, "__dict__")
        assert _run_everything() == without
        with moto_speedups.installed():
            assert _run_everything() == without
        loaded = pickle.loads(plain)
        assert type(loaded) is dynamo_type.DynamoType
        assert loaded.value["k"].value == "v"
        assert pickle.loads(pickle.dumps(slotted)) == slotted
    assert _run_everything() == without


def test_the_errors_are_really_exercised() -> None:
    codes = {outcome[1] for outcome in _run_everything() if outcome[0] == "error"}
    assert {"ValidationException", "ConditionalCheckFailedException"} <= codes


def test_installing_returns_an_undo_for_each_patch() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    before = (
        UpdateExpressionParser.__dict__["make"],
        DepthFirstTraverser.__dict__["traverse_node_recursively"],
    )
    with moto_speedups.installed():
        assert UpdateExpressionParser.make("SET a = :v") is UpdateExpressionParser.make(
            "SET a = :v"
        )
    after = (
        UpdateExpressionParser.__dict__["make"],
        DepthFirstTraverser.__dict__["traverse_node_recursively"],
    )
    assert after == before


@pytest.mark.parametrize("value", [{"a": [1, {"b": 2}]}, ("x", 3.5), {1, 2}])
def test_fast_deepcopy_copies(value: Any) -> None:
    copied = moto_speedups._fast_deepcopy(value)
    assert copied == value
    assert copied is not value


@pytest.mark.parametrize(
    ("expression", "item_free"),
    [
        ("SET a = :v", True),
        ("SET #a = :v, b = :w + :x, c = :y - :z", True),
        ("SET a = b", False),
        ("SET a = :v + b", False),
        ("SET a.b = :v", False),
        ("SET a[0] = :v", False),
        ("SET a = if_not_exists(a, :v)", False),
        ("SET a = list_append(:v, :w)", False),
        ("SET a = :v REMOVE b", False),
        ("ADD a :v", False),
        ("REMOVE a", False),
    ],
)
def test_which_expressions_read_nothing_from_the_item(expression: str, item_free: bool) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make(expression)
    assert moto_speedups.reads_nothing_from_the_item(tree) is item_free


def test_a_new_item_is_validated_once_when_the_expression_reads_nothing() -> None:
    from moto.dynamodb.parsing.validators import Validator

    runs: list[str] = []
    original = Validator.validate

    def counting(self: Any) -> Any:
        runs.append(type(self.item).__name__)
        return original(self)

    Validator.validate = counting  # type: ignore[method-assign]
    try:
        with moto_speedups.installed(), mock_aws():
            client = _client_with_table()
            for key, expression in (("a", "SET x = :v"), ("b", "SET x = if_not_exists(x, :v)")):
                client.update_item(
                    TableName=TABLE,
                    Key={"id": {"S": key}},
                    UpdateExpression=expression,
                    ExpressionAttributeValues={":v": N},
                )
                runs.append("|")
    finally:
        Validator.validate = original  # type: ignore[method-assign]
    first, second = "".join(runs).split("|")[:2]
    assert first == "Item"  # validated once
    assert second == "ItemItem"  # reads x: validated before and after the item is created
