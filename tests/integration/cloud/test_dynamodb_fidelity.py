"""DynamoDB behaviours where the local cloud matches AWS rather than stock moto."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.testing import RunningCloud


def make_table(ddb: Any, view: str = "NEW_AND_OLD_IMAGES", stream: bool = True) -> tuple[str, str]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kwargs: dict[str, Any] = {}
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    described = ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        **kwargs,
    )["TableDescription"]
    return name, described.get("LatestStreamArn", "")


def read_stream(cloud: RunningCloud, stream_arn: str) -> list[dict[str, Any]]:
    streams = cloud.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator)["Records"]
    return records


def add_one(table: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"id": {"S": "total"}},
            "UpdateExpression": "ADD #v :one",
            "ExpressionAttributeNames": {"#v": "Value"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def total(ddb: Any, table: str) -> int:
    item = ddb.get_item(TableName=table, Key={"id": {"S": "total"}}).get("Item")
    return int(item["Value"]["N"]) if item else 0


def test_transaction_token_repeat_has_no_effect(cloud: RunningCloud) -> None:
    """A TransactWriteItems repeated with the same ClientRequestToken applies once."""
    ddb = cloud.client("dynamodb")
    table, _ = make_table(ddb, stream=False)
    for _ in range(3):
        ddb.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken="batch-1")
    assert total(ddb, table) == 1
    ddb.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken="batch-2")
    ddb.transact_write_items(TransactItems=[add_one(table)])
    assert total(ddb, table) == 3


def test_transaction_token_with_other_payload_is_a_mismatch(cloud: RunningCloud) -> None:
    """The same token with a different request raises IdempotentParameterMismatchException."""
    ddb = cloud.client("dynamodb")
    table, _ = make_table(ddb, stream=False)
    ddb.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken="tok")
    other = add_one(table)
    other["Update"]["ExpressionAttributeValues"][":one"] = {"N": "5"}
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=[other], ClientRequestToken="tok")
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert total(ddb, table) == 1


def test_failed_transaction_leaves_no_token_and_no_change(cloud: RunningCloud) -> None:
    """A cancelled transaction changes nothing, and its token can be used again."""
    ddb = cloud.client("dynamodb")
    table, stream = make_table(ddb)
    failing = add_one(table)
    failing["Update"]["ConditionExpression"] = "attribute_exists(id)"
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=[failing], ClientRequestToken="again")
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert total(ddb, table) == 0 and read_stream(cloud, stream) == []
    ddb.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken="again")
    assert total(ddb, table) == 1


def test_upsert_through_update_item_emits_one_insert(cloud: RunningCloud) -> None:
    """update_item on a missing item writes exactly one INSERT record with the new image."""
    ddb = cloud.client("dynamodb")
    table, stream = make_table(ddb)
    ddb.update_item(
        TableName=table,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    records = read_stream(cloud, stream)
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    assert "OldImage" not in records[0]["dynamodb"]


def test_write_that_changes_nothing_emits_no_record(cloud: RunningCloud) -> None:
    """Putting an identical item, or setting a value to itself, emits no MODIFY."""
    ddb = cloud.client("dynamodb")
    table, stream = make_table(ddb)
    item = {"id": {"S": "a"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item=item)
    ddb.update_item(
        TableName=table,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert [r["eventName"] for r in read_stream(cloud, stream)] == ["INSERT"]


def test_writes_keep_working_after_the_stream_is_disabled(cloud: RunningCloud) -> None:
    """Disabling a stream stops records but later writes still succeed."""
    ddb = cloud.client("dynamodb")
    table, stream = make_table(ddb)
    ddb.put_item(TableName=table, Item={"id": {"S": "before"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=table, Item={"id": {"S": "after"}})
    ddb.delete_item(TableName=table, Key={"id": {"S": "before"}})
    assert ddb.scan(TableName=table)["Count"] == 1
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in read_stream(cloud, stream)] == ["before"]


def test_records_carry_the_table_region(cloud: RunningCloud) -> None:
    """Stream records name the table's region, not always us-east-1."""
    ddb = cloud.client("dynamodb", region_name="eu-west-1")
    table, stream = make_table(ddb)
    ddb.put_item(TableName=table, Item={"id": {"S": "x"}})
    streams = cloud.client("dynamodbstreams", region_name="eu-west-1")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert records[0]["awsRegion"] == "eu-west-1"


def test_iterator_survives_a_cancelled_transaction(cloud: RunningCloud) -> None:
    """An iterator opened before a cancelled transaction still sees later records."""
    ddb = cloud.client("dynamodb")
    table, stream = make_table(ddb)
    streams = cloud.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    failing = add_one(table)
    failing["Update"]["ConditionExpression"] = "attribute_exists(id)"
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[failing])
    ddb.put_item(TableName=table, Item={"id": {"S": "later"}})
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in records] == ["later"]


def test_concurrent_updates_are_not_lost(cloud: RunningCloud) -> None:
    """Eight threads adding to one counter at once lose no update."""
    table, _ = make_table(cloud.client("dynamodb"), stream=False)

    def worker() -> None:
        ddb = cloud.client("dynamodb")
        for _ in range(25):
            ddb.update_item(
                TableName=table,
                Key={"id": {"S": "total"}},
                UpdateExpression="ADD #v :one",
                ExpressionAttributeNames={"#v": "Value"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert total(cloud.client("dynamodb"), table) == 200


def test_stream_can_be_enabled_again_with_a_new_label(cloud: RunningCloud) -> None:
    """Disabling and re-enabling a stream gives a new stream ARN whose records flow."""
    ddb = cloud.client("dynamodb")
    table, first = make_table(ddb)
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    second = ddb.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    assert second != first
    ddb.put_item(TableName=table, Item={"id": {"S": "again"}})
    assert [r["eventName"] for r in read_stream(cloud, second)] == ["INSERT"]
    with pytest.raises(ClientError) as raised:
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert raised.value.response["Error"]["Code"] == "ResourceInUseException"
