"""lab3.step5 and the loader against a live local cloud: the replica holds exactly the stream
file, a reload writes no stream records, and each load mistake is named by its code."""

from __future__ import annotations

import pytest

from labkit.lab.names import CodeVersion
from labkit.lab.replication import functions, logdata
from labkit.lab.replication.loader import load_logfile
from labkit.lab.replication.observe import LagWatch, mark_stream, records_since

from .conftest import Lab3


@pytest.fixture
def ready(lab3: Lab3) -> Lab3:
    """The learner's tables with the 500 rows, then the start of lab3.step5 (stream, mapping,
    fixed handler)."""
    lab3.tables()
    lab3.provision("lab3.step5")
    return lab3


def _stream(lab3: Lab3) -> str:
    table = lab3.client("dynamodb").describe_table(TableName=lab3.names.logfile)["Table"]
    return str(table["LatestStreamArn"])


def test_load_through_the_stream_passes_and_reload_adds_no_records(ready: Lab3) -> None:
    """After the load the replica holds exactly the 2,000 requests; loading again writes no
    new stream records; the lag watch measured the load."""
    path = logdata.write(ready.cloud.data_dir / "logs")[logdata.STREAM.name]
    ddb = ready.client("dynamodb")
    watch = LagWatch(ready.client("dynamodb"), ready.names.replica, every=200)
    result = load_logfile(ddb, ready.names.logfile, path, progress=False, on_write=watch.written)
    facts = logdata.facts(logdata.read(path))
    assert str(result).startswith(f"RowCount: {facts.rows}, Total seconds: ")
    ready.wait_idle()
    lag = watch.finish()
    assert len(lag.lags) == facts.rows // 200 and lag.worst >= lag.median >= 0
    report = ready.check("lab3.step5")
    assert report.passed, str(report)
    streams = ready.client("dynamodbstreams")
    mark = mark_stream(streams, _stream(ready))
    load_logfile(ddb, ready.names.logfile, path, progress=False)
    ready.wait_idle()
    assert records_since(streams, mark) == 0
    ddb.delete_item(TableName=ready.names.logfile, Key={"PK": {"S": "request#4001"}})
    assert records_since(streams, mark) == 1, "a real change is a record"
    load_logfile(ddb, ready.names.logfile, path, progress=False)
    ready.wait_idle()
    assert ready.check("lab3.step5").passed


def test_loader_writes_typed_items(ready: Lab3) -> None:
    """The loader's items: PK, GSI_1_PK, numbers as numbers, servererror on a 500 only."""
    ddb = ready.client("dynamodb")
    rows = logdata.rows(logdata.SMALL)
    failing = next(r for r in rows if r.responsecode == 500)
    ok = next(r for r in rows if r.responsecode == 200)
    for row in (failing, ok):
        item = ddb.get_item(TableName=ready.names.logfile, Key={"PK": {"S": row.key}})["Item"]
        assert item["GSI_1_PK"] == {"S": f"host#{row.host}"}
        assert item["bytessent"] == {"N": str(row.bytessent)}
        assert ("servererror" in item) is (row is failing)


def test_loader_refuses_a_missing_table_or_file(ready: Lab3) -> None:
    """A missing table or file is a ValueError saying what to do, and nothing is written."""
    path = logdata.write(ready.cloud.data_dir / "logs")[logdata.SMALL.name]
    with pytest.raises(ValueError, match="no table"):
        load_logfile(ready.client("dynamodb"), "nope", path, progress=False)
    with pytest.raises(ValueError, match="no file"):
        load_logfile(ready.client("dynamodb"), ready.names.logfile, "/nope.csv", progress=False)


def test_not_loaded(ready: Lab3) -> None:
    """Before the load the check is lab3-not-loaded."""
    assert "lab3-not-loaded" in ready.check("lab3.step5").codes


def test_loaded_before_a_latest_mapping(lab3: Lab3) -> None:
    """Loading first and mapping at LATEST afterwards is lab3-loaded-before-mapping."""
    lab3.create_logfile()
    lab3.create_replica()
    lab3.provision("lab3.step4")
    lab3.deploy(functions.source(CodeVersion.SOLUTION))
    lab3.enable_stream()
    lab3.load(logdata.STREAM)
    uuid = lab3.map_stream("LATEST")
    item = lab3.check("lab3.step5").item("lab3-loaded-before-mapping")
    assert uuid in item.hint


@pytest.fixture
def loaded(ready: Lab3) -> Lab3:
    ready.load(logdata.STREAM)
    ready.wait_idle()
    return ready


def test_replica_incomplete(loaded: Lab3) -> None:
    """Requests missing from the replica are lab3-replica-incomplete, with an example."""
    row = logdata.rows(logdata.STREAM)[10]
    loaded.client("dynamodb").delete_item(
        TableName=loaded.names.replica, Key={"PK": {"S": row.key}}
    )
    item = loaded.check("lab3.step5").item("lab3-replica-incomplete")
    assert row.key in item.hint


def test_old_rows_in_the_replica(loaded: Lab3) -> None:
    """Rows of the 500-row file in the replica are lab3-old-rows-replicated."""
    loaded.load(logdata.SMALL, table=loaded.names.replica)
    item = loaded.check("lab3.step5").item("lab3-old-rows-replicated")
    assert logdata.SMALL.name in item.hint


def test_items_differ(loaded: Lab3) -> None:
    """A replica item with a number turned into text is lab3-items-differ."""
    row = logdata.rows(logdata.STREAM)[3]
    loaded.client("dynamodb").update_item(
        TableName=loaded.names.replica,
        Key={"PK": {"S": row.key}},
        UpdateExpression="SET requestid = :text",
        ExpressionAttributeValues={":text": {"S": str(row.requestid)}},
    )
    item = loaded.check("lab3.step5").item("lab3-items-differ")
    assert row.key in item.hint


def test_query_differs(loaded: Lab3) -> None:
    """A request moved to another host in the replica is lab3-query-differs."""
    host = logdata.busiest_host(logdata.rows(logdata.STREAM))
    row = next(r for r in logdata.rows(logdata.STREAM) if r.host == host)
    loaded.client("dynamodb").update_item(
        TableName=loaded.names.replica,
        Key={"PK": {"S": row.key}},
        UpdateExpression="SET GSI_1_PK = :other",
        ExpressionAttributeValues={":other": {"S": "host#10.0.0.1"}},
    )
    item = loaded.check("lab3.step5").item("lab3-query-differs")
    assert row.key in item.hint
