"""lab3.step1 and lab3.step2 against a live local cloud: each mistake named by its code."""

from __future__ import annotations

from labkit.lab.replication import logdata
from labkit.lab.replication.names import CLEANUP_TAG
from labkit.lab.replication.tables import LOGFILE_DESIGN, REPLICA_DESIGN

from .conftest import Lab3, table_request


def _index(projection: dict[str, object]) -> list[dict[str, object]]:
    return [
        {
            "IndexName": "GSI_1",
            "KeySchema": [{"AttributeName": "GSI_1_PK", "KeyType": "HASH"}],
            "Projection": projection,
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        }
    ]


def test_tables_done_the_learners_way_pass(lab3: Lab3) -> None:
    """logfile with its 500 rows and the replica as the material makes it pass both steps."""
    lab3.tables()
    first, second = lab3.check("lab3.step1"), lab3.check("lab3.step2")
    assert first.passed, str(first)
    assert second.passed, str(second)
    assert "differs" in str(second) and "requestid, host" in str(second)


def test_missing_table_and_misspelt_name(lab3: Lab3) -> None:
    """No logfile is lab3-table-missing, and a close name is suggested."""
    lab3.client("dynamodb").create_table(
        **table_request(f"{lab3.names.prefix}LogFile", LOGFILE_DESIGN)
    )
    report = lab3.check("lab3.step1")
    item = report.item("lab3-table-missing")
    assert "LogFile" in item.detail


def test_unprefixed_name_on_a_prefixed_backend(lab3: Lab3) -> None:
    """With a prefix (as on aws), a hand-typed 'logfile' is lab3-unprefixed-name."""
    bare = "logfile"
    ddb = lab3.client("dynamodb")
    if bare not in ddb.list_tables()["TableNames"]:
        ddb.create_table(**table_request(bare, LOGFILE_DESIGN))
    try:
        report = lab3.check("lab3.step1")
        assert "lab3-unprefixed-name" in report.codes, str(report)
        assert lab3.names.logfile in report.item("lab3-unprefixed-name").hint
    finally:
        ddb.delete_table(TableName=bare)


def test_on_demand_logfile(lab3: Lab3) -> None:
    """A PAY_PER_REQUEST logfile is lab3-on-demand, with the update_table to fix it."""
    index = _index(LOGFILE_DESIGN.index_projection())
    del index[0]["ProvisionedThroughput"]
    lab3.create_logfile(
        BillingMode="PAY_PER_REQUEST", ProvisionedThroughput=None, GlobalSecondaryIndexes=index
    )
    item = lab3.check("lab3.step1").item("lab3-on-demand")
    assert item.failed and "BillingMode='PROVISIONED'" in item.hint


def test_index_missing(lab3: Lab3) -> None:
    """A logfile without GSI_1 is lab3-index-missing."""
    lab3.create_logfile(
        GlobalSecondaryIndexes=None,
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
    )
    assert "lab3-index-missing" in lab3.check("lab3.step1").codes


def test_wrong_projection_on_logfile(lab3: Lab3) -> None:
    """GSI_1 projecting ALL on logfile is lab3-wrong-projection."""
    lab3.create_logfile(GlobalSecondaryIndexes=_index({"ProjectionType": "ALL"}))
    item = lab3.check("lab3.step1").item("lab3-wrong-projection")
    assert "ALL" in item.detail and "bytessent" in item.hint


def test_stream_before_the_first_load(lab3: Lab3) -> None:
    """A stream on logfile before the replica exists is lab3-stream-too-early."""
    lab3.create_logfile(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    lab3.load(logdata.SMALL)
    assert "lab3-stream-too-early" in lab3.check("lab3.step1").codes


def test_rows_missing_then_loaded(lab3: Lab3) -> None:
    """An empty logfile is lab3-rows-missing; after the load the item passes with the count."""
    lab3.create_logfile()
    report = lab3.check("lab3.step1")
    assert "lab3-rows-missing" in report.codes
    lab3.load(logdata.SMALL)
    report = lab3.check("lab3.step1")
    errors = logdata.facts(logdata.rows(logdata.SMALL)).server_errors
    assert report.passed and f"{errors} of them marked servererror" in str(report)


def test_numbers_as_text(lab3: Lab3) -> None:
    """Rows whose numeric columns were written as strings are lab3-numbers-as-text."""
    lab3.create_logfile()
    ddb = lab3.client("dynamodb")
    for row in logdata.rows(logdata.SMALL)[:3]:
        item = {k: {"S": str(v)} for k, v in row.as_item().items()}
        ddb.put_item(TableName=lab3.names.logfile, Item=item)
    item = lab3.check("lab3.step1").item("lab3-numbers-as-text")
    assert "requestid" in item.detail


def test_replica_projection_copied_from_logfile(lab3: Lab3) -> None:
    """The replica with logfile's projection is lab3-projection-copied."""
    lab3.create_logfile()
    index = _index(LOGFILE_DESIGN.index_projection())
    index[0]["ProvisionedThroughput"] = {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}
    lab3.create_replica(GlobalSecondaryIndexes=index)
    item = lab3.check("lab3.step2").item("lab3-projection-copied")
    assert "requestid" in item.hint


def test_replica_capacity_copied(lab3: Lab3) -> None:
    """The replica with logfile's 5 reads is lab3-capacity-copied."""
    lab3.create_logfile()
    lab3.create_replica(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    item = lab3.check("lab3.step2").item("lab3-capacity-copied")
    assert f"'ReadCapacityUnits': {REPLICA_DESIGN.read}" in item.hint


def test_replica_without_cleanup_tag(lab3: Lab3) -> None:
    """The replica without the material's tag is lab3-cleanup-tag."""
    lab3.create_logfile()
    lab3.create_replica(Tags=None)
    item = lab3.check("lab3.step2").item("lab3-cleanup-tag")
    assert CLEANUP_TAG[0] in item.hint
