"""The cloud's patches keep an item's attribute values small: slotted, and short ones shared."""

from __future__ import annotations

import subprocess
import sys

import pytest

# In a process of its own: the cloud's patches cannot be taken out again.
PROBE = """
import boto3
from moto import mock_aws
from labkit.cloud import patches
patches.install()
from moto.dynamodb.models import dynamo_type
with mock_aws():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="T",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key in ("a", "b"):
        client.update_item(
            TableName="T",
            Key={"id": {"S": key}},
            UpdateExpression="SET Area = :r, Desk = :d",
            ExpressionAttributeValues={
                ":r": {"S": "EM" + "EA"},
                ":d": {"M": {"Name": {"S": "FX" + "Spot"}}},
            },
        )
    from moto.dynamodb.models import dynamodb_backends
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["T"]
    a, b = (table.items[dynamo_type.DynamoType({"S": k})] for k in ("a", "b"))
    assert not hasattr(a.attrs["Area"], "__dict__")
    assert a.attrs["Area"].value is b.attrs["Area"].value
    assert a.attrs["Desk"].value["Name"].value is b.attrs["Desk"].value["Name"].value
    assert client.get_item(TableName="T", Key={"id": {"S": "b"}})["Item"]["Area"] == {"S": "EMEA"}
print("ok")
"""


@pytest.mark.usefixtures("aws_env")  # moto in-process, whatever other tests left set
def test_stored_values_are_slotted_and_short_ones_shared() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
