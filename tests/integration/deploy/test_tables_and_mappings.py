"""Tables with indexes and capacity, and mappings with every option, on the local cloud:
created, re-planned to nothing, changed in place, removed, torn down."""

from __future__ import annotations

import dataclasses

from labkit.deploy.packaging import Package
from labkit.deploy.resources import (
    EventSourceMapping,
    Function,
    GlobalIndex,
    InlinePolicy,
    PolicyDocument,
    Queue,
    Role,
    Stack,
    Statement,
    StreamSource,
    StreamView,
    Table,
    Target,
    Throughput,
    filter_pattern,
    queue_arn_template,
    table_stream_arn_template,
)
from labkit.testing import RunningCloud

from .conftest import Deployer

GSI = GlobalIndex("GSI_1", "GSI_1_PK", projection="INCLUDE", non_key_attributes=("bytessent",))


def logfile(name: str, **changes: object) -> Table:
    table = Table(name, "PK", indexes=(GSI,), capacity=Throughput(5, 5))
    return dataclasses.replace(table, **changes)  # type: ignore[arg-type]


def test_indexed_provisioned_table_lifecycle(deployer: Deployer, cloud: RunningCloud) -> None:
    """A provisioned table with an INCLUDE index is created as described; new capacity, a
    second index and a changed projection are applied in place; teardown removes it."""
    table = logfile("logfile_a")
    deployer.apply(Stack(tables=(table,)))
    described = cloud.client("dynamodb").describe_table(TableName="logfile_a")["Table"]
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    index = described["GlobalSecondaryIndexes"][0]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["bytessent"]}

    cloud.client("dynamodb").put_item(
        TableName="logfile_a", Item={"PK": {"S": "request#1"}, "GSI_1_PK": {"S": "host#1"}}
    )
    wider = dataclasses.replace(GSI, non_key_attributes=("bytessent", "requestid", "host"))
    by_date = GlobalIndex("ByDate", "date", "PK", capacity=Throughput(1, 10))
    changed = logfile("logfile_a", capacity=Throughput(10, 5), indexes=(wider, by_date))
    plan = deployer.apply(Stack(tables=(changed,)))
    assert "dynamodb.delete_table" not in [c.api for c in plan]
    described = cloud.client("dynamodb").describe_table(TableName="logfile_a")["Table"]
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    indexes = {i["IndexName"]: i for i in described["GlobalSecondaryIndexes"]}
    assert sorted(indexes["GSI_1"]["Projection"]["NonKeyAttributes"]) == [
        "bytessent",
        "host",
        "requestid",
    ]
    assert indexes["ByDate"]["ProvisionedThroughput"]["WriteCapacityUnits"] == 10
    item = cloud.client("dynamodb").get_item(TableName="logfile_a", Key={"PK": {"S": "request#1"}})
    assert "Item" in item, "changing indexes in place keeps the items"

    on_demand = logfile("logfile_a", capacity=None, indexes=(wider,))
    deployer.apply(Stack(tables=(on_demand,)))
    described = cloud.client("dynamodb").describe_table(TableName="logfile_a")["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["GSI_1"]

    deployer.teardown(Stack(tables=(changed,)))
    assert "logfile_a" not in cloud.client("dynamodb").list_tables()["TableNames"]


HANDLER = "def lambda_handler(event, context):\n    return None\n"


def pipeline(suffix: str, mapping_changes: dict[str, object]) -> Stack:
    source = f"source_{suffix}"
    queue = f"failures_{suffix}"
    role = Role(
        f"role_{suffix}",
        (),
        inline=(
            InlinePolicy(
                "stream-and-queue",
                PolicyDocument(
                    (
                        Statement(
                            "ReadStream",
                            (
                                "dynamodb:DescribeStream",
                                "dynamodb:GetRecords",
                                "dynamodb:GetShardIterator",
                                "dynamodb:ListStreams",
                            ),
                            (table_stream_arn_template(source),),
                        ),
                        Statement(
                            "SendFailures", ("sqs:SendMessage",), (queue_arn_template(queue),)
                        ),
                    )
                ),
            ),
        ),
    )
    function = Function(
        f"fn_{suffix}",
        role.name,
        Package.build("handler", {"lambda_function.py": HANDLER}),
        timeout=10,
    )
    mapping = EventSourceMapping(
        function.name, StreamSource("dynamodb", source), 10, "TRIM_HORIZON"
    )
    return Stack(
        tables=(Table(source, "id", StreamView.NEW_AND_OLD_IMAGES),),
        queues=(Queue(queue),),
        roles=(role,),
        functions=(function,),
        mappings=(dataclasses.replace(mapping, **mapping_changes),),  # type: ignore[arg-type]
    )


def test_mapping_with_every_option_lifecycle(deployer: Deployer, cloud: RunningCloud) -> None:
    """A mapping with retries, record age, bisect, partial responses, an SQS destination,
    a tumbling window, parallelization and a filter is created as described, updated in place
    when options change (same UUID), and removed by teardown."""
    options = {
        "maximum_retry_attempts": 2,
        "maximum_record_age": 60,
        "bisect_on_error": True,
        "report_batch_item_failures": True,
        "on_failure": Target("sqs", "failures_m"),
        "tumbling_window": 30,
        "parallelization_factor": 2,
        "maximum_batching_window": 1,
        "filters": (filter_pattern({"eventName": ["INSERT"]}),),
    }
    stack = pipeline("m", options)
    deployer.apply(stack)
    lambda_ = cloud.client("lambda")
    (found,) = lambda_.list_event_source_mappings(FunctionName="fn_m")["EventSourceMappings"]
    assert found["MaximumRetryAttempts"] == 2
    assert found["MaximumRecordAgeInSeconds"] == 60
    assert found["BisectBatchOnFunctionError"] is True
    assert found["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert found["DestinationConfig"]["OnFailure"]["Destination"].endswith(":failures_m")
    assert found["TumblingWindowInSeconds"] == 30
    assert found["ParallelizationFactor"] == 2
    assert len(found["FilterCriteria"]["Filters"]) == 1

    plain = pipeline("m", {"maximum_retry_attempts": 5})
    plan = deployer.apply(plain, owned=stack)
    assert [c.api for c in plan] == ["lambda.update_event_source_mapping"]
    (updated,) = lambda_.list_event_source_mappings(FunctionName="fn_m")["EventSourceMappings"]
    assert updated["UUID"] == found["UUID"]
    assert updated["MaximumRetryAttempts"] == 5
    assert updated["MaximumRecordAgeInSeconds"] == -1
    assert updated["BisectBatchOnFunctionError"] is False
    assert updated["FunctionResponseTypes"] == []
    assert not updated["DestinationConfig"].get("OnFailure", {}).get("Destination")
    assert not updated.get("FilterCriteria", {}).get("Filters")

    latest = pipeline("m", {"maximum_retry_attempts": 5, "starting_position": "LATEST"})
    deployer.apply(latest, owned=stack)
    (replaced,) = lambda_.list_event_source_mappings(FunctionName="fn_m")["EventSourceMappings"]
    assert replaced["StartingPosition"] == "LATEST"
    assert replaced["UUID"] != found["UUID"]

    deployer.teardown(stack)
    assert lambda_.list_event_source_mappings()["EventSourceMappings"] == []
    assert cloud.client("sqs").list_queues().get("QueueUrls", []) == []
