"""lab3.step4 against a live local cloud: the stream, the mapping, and the handler's behaviour
(inserts, changes, deletions, and a write the replica refuses)."""

from __future__ import annotations

import pytest

from labkit.lab.names import CodeVersion
from labkit.lab.replication import functions

from .conftest import Lab3

STARTER = functions.source(CodeVersion.STARTER)
SOLUTION = functions.source(CodeVersion.SOLUTION)


@pytest.fixture
def at_step4(lab3: Lab3) -> Lab3:
    """The learner's tables, then the start of lab3.step4 (policy, function with the starter)."""
    lab3.create_logfile()
    lab3.create_replica()
    lab3.provision("lab3.step4")
    return lab3


@pytest.fixture
def connected(at_step4: Lab3) -> Lab3:
    """The start of lab3.step4 with a NEW_IMAGE stream mapped as the step asks."""
    at_step4.enable_stream()
    at_step4.map_stream()
    return at_step4


def test_solution_handler_passes(connected: Lab3) -> None:
    """The fixed handler replicates inserts, changes and deletions and fails on a refusal."""
    connected.deploy(SOLUTION)
    report = connected.check("lab3.step4")
    assert report.passed, str(report)
    assert "fails the batch" in str(report)
    replica = connected.client("dynamodb").scan(TableName=connected.names.replica)["Items"]
    assert not [i for i in replica if "labkit-check" in i["PK"]["S"]], "probes are cleaned up"


def test_starter_ignores_removes_and_swallows_errors(connected: Lab3) -> None:
    """The material's handler: lab3-remove-ignored and lab3-errors-swallowed."""
    report = connected.check("lab3.step4")
    assert {"lab3-remove-ignored", "lab3-errors-swallowed"} <= set(report.codes), str(report)
    replica = connected.client("dynamodb").scan(TableName=connected.names.replica)["Items"]
    assert not [i for i in replica if "labkit-check" in i["PK"]["S"]], "probes are cleaned up"


def test_change_missed(connected: Lab3) -> None:
    """A handler that only copies INSERT records is lab3-change-missed."""
    connected.deploy(
        SOLUTION.replace(
            'if record["eventName"] == "REMOVE":',
            'if record["eventName"] == "MODIFY":\n            continue\n'
            '        if record["eventName"] == "REMOVE":',
        )
    )
    assert "lab3-change-missed" in connected.check("lab3.step4").codes


def test_hard_coded_table_name(connected: Lab3) -> None:
    """A handler writing to a typed-in 'logfile_replica' (no prefix) is lab3-hard-coded-name."""
    source = SOLUTION.replace('os.environ["REPLICA_TABLE"]', '"logfile_replica"')
    connected.deploy(source)
    report = connected.check("lab3.step4")
    assert "lab3-hard-coded-name" in report.codes, str(report)
    connected.deploy(SOLUTION)  # lets the stuck probe batch through before teardown
    connected.wait_idle()


def test_handler_failing(connected: Lab3) -> None:
    """A handler that raises on every batch is lab3-handler-failing, with the error."""
    connected.deploy(SOLUTION.replace("puts = deletes = 0", "puts = deletes = undefined_name"))
    item = connected.check("lab3.step4").item("lab3-handler-failing")
    assert "NameError" in item.hint
    connected.deploy(SOLUTION)
    connected.wait_idle()


def test_not_replicating(connected: Lab3) -> None:
    """A handler that writes nothing and reports no error is lab3-not-replicating."""
    connected.deploy("def lambda_handler(event, context):\n    return None\n")
    assert "lab3-not-replicating" in connected.check("lab3.step4").codes


def test_stream_off(at_step4: Lab3) -> None:
    """No stream on logfile is lab3-stream-off."""
    assert "lab3-stream-off" in at_step4.check("lab3.step4").codes


def test_keys_only_stream(at_step4: Lab3) -> None:
    """A KEYS_ONLY stream is lab3-stream-view."""
    at_step4.enable_stream("KEYS_ONLY")
    item = at_step4.check("lab3.step4").item("lab3-stream-view")
    assert "KEYS_ONLY" in item.hint


def test_mapping_missing(at_step4: Lab3) -> None:
    """A stream without a mapping is lab3-mapping-missing, with the stream's ARN."""
    stream = at_step4.enable_stream()
    item = at_step4.check("lab3.step4").item("lab3-mapping-missing")
    assert stream in item.hint


def test_mapping_latest(at_step4: Lab3) -> None:
    """A mapping at LATEST is lab3-mapping-latest."""
    at_step4.enable_stream()
    uuid = at_step4.map_stream("LATEST")
    item = at_step4.check("lab3.step4").item("lab3-mapping-latest")
    assert uuid in item.hint


def test_mapping_disabled(at_step4: Lab3) -> None:
    """A disabled mapping is lab3-mapping-disabled."""
    at_step4.enable_stream()
    uuid = at_step4.map_stream()
    at_step4.client("lambda").update_event_source_mapping(UUID=uuid, Enabled=False)
    item = at_step4.check("lab3.step4").item("lab3-mapping-disabled")
    assert uuid in item.hint
