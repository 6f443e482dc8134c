"""lab2 mistakes in StateLambda and ReduceLambda, deployed as a learner deploys them.

Each variant is the reference code with one realistic change; the checks judge the deployed
function by its behaviour (synthetic stream events), with lab 2's random failures switched on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.checks import Report, Status
from labkit.lab.names import CodeVersion, FunctionId
from labkit.lab.packages import source
from labkit.testing import RunningCloud

from .conftest import LabUnderTest, make_lab

STATE_FIX = source(FunctionId.STATE, CodeVersion.SOLUTION)
STATE_START = source(FunctionId.STATE, CodeVersion.STARTER)
REDUCE_FIX = source(FunctionId.REDUCE, CodeVersion.SOLUTION)
REDUCE_START = source(FunctionId.REDUCE, CodeVersion.STARTER)
CONDITION = 'ConditionExpression="attribute_not_exists(id) OR #version < :version",'


def changed(code: str, old: str, new: str) -> str:
    """``code`` with ``old`` replaced by ``new`` (which must be there)."""
    assert old in code, f"the reference code no longer contains {old!r}"
    return code.replace(old, new)


@pytest.fixture(scope="module")
def lab(cloud: RunningCloud) -> Iterator[LabUnderTest]:
    """One lab at the start of lab 2 (failures and special trades on) for the module."""
    lab = make_lab(cloud)
    lab.provision("lab2.step1")
    yield lab
    lab.workshop.teardown()


def check_state(lab: LabUnderTest, code: str) -> Report:
    lab.deploy(FunctionId.STATE, code)
    return lab.check("lab2.step1")


def check_reduce(lab: LabUnderTest, code: str) -> Report:
    lab.deploy(FunctionId.REDUCE, code)
    return lab.check("lab2.step2")


# ----- lab2.step1: StateLambda ---------------------------------------------------------------


def test_state_reference_fix_passes(lab: LabUnderTest) -> None:
    """The reference StateLambda passes every behaviour probe."""
    report = check_state(lab, STATE_FIX)
    assert report.passed, str(report)
    assert len(report.items) == 6


def test_state_fix_not_deployed(lab: LabUnderTest) -> None:
    """The starter code still deployed: the hint says to deploy, and nothing is probed."""
    report = check_state(lab, STATE_START)
    item = report.item("state-not-deployed")
    assert 'lab.deploy("StateLambda"' in item.hint and "unchanged" in item.detail
    assert report.items[-1].status is Status.SKIP


def test_state_without_condition(lab: LabUnderTest) -> None:
    """Without a condition a late older version overwrites the newer one."""
    code = changed(STATE_FIX, f"                {CONDITION}\n", "")
    item = check_state(lab, code).item("no-version-condition")
    assert "overwrote" in item.detail and "ConditionExpression" in item.hint
    assert "attribute_not_exists(id) OR" not in item.hint  # the answer is for lab.hint


def test_state_condition_forgets_new_trades(lab: LabUnderTest) -> None:
    """'#version < :version' alone rejects every trade seen for the first time."""
    code = changed(STATE_FIX, "attribute_not_exists(id) OR #version", "#version")
    item = check_state(lab, code).item("condition-rejects-new")
    assert "attribute_not_exists(id)" in item.hint


def test_state_condition_backwards(lab: LabUnderTest) -> None:
    """'#version > :version' keeps the oldest version instead of the newest."""
    code = changed(STATE_FIX, "#version < :version", "#version > :version")
    item = check_state(lab, code).item("condition-rejects-newer")
    assert "#version < :version" in item.hint


def test_state_conditional_failure_not_caught(lab: LabUnderTest) -> None:
    """A condition without try/except fails the batch on every duplicate."""
    code = changed(
        STATE_START,
        "            ExpressionAttributeNames={",
        f"            {CONDITION}\n            ExpressionAttributeNames={{",
    )
    item = check_state(lab, code).item("condition-not-handled")
    assert "ConditionalCheckFailedException" in item.detail and "re-raise" in item.hint


def test_state_catches_every_exception(lab: LabUnderTest) -> None:
    """'except Exception' swallows real errors: a rejected write is reported as success."""
    code = changed(STATE_FIX, "except ClientError as error:", "except Exception as error:")
    code = changed(
        code,
        'if error.response["Error"]["Code"] != "ConditionalCheckFailedException":\n'
        "                raise\n",
        'print("skipping", error)\n',
    )
    item = check_state(lab, code).item("catch-all")
    assert "swallowed" in item.detail and "Re-raise" in item.hint


def test_state_catches_every_client_error(lab: LabUnderTest) -> None:
    """Catching every ClientError (without looking at its code) is the same mistake."""
    code = changed(
        STATE_FIX,
        'if error.response["Error"]["Code"] != "ConditionalCheckFailedException":\n'
        "                raise\n",
        "del error\n",
    )
    assert check_state(lab, code).item("catch-all").status is Status.FAIL


def test_state_typo_in_new_code(lab: LabUnderTest) -> None:
    """A KeyError in the new code is reported with the error and a pointer to the logs."""
    code = changed(
        STATE_FIX, 'Key={"id": {"S": trade["TradeID"]}}', 'Key={"id": {"S": trade["TradeId"]}}'
    )
    item = check_state(lab, code).item("probe-error")
    assert "KeyError" in item.hint and "lab.logs('" in item.hint


# ----- lab2.step2: ReduceLambda --------------------------------------------------------------

TOKEN_LINE = '    token = pipeline.batch_hash(records, "md5")\n'


def test_reduce_reference_fix_passes(lab: LabUnderTest) -> None:
    """The reference ReduceLambda passes: retries, fresh environments, new batches."""
    report = check_reduce(lab, REDUCE_FIX)
    assert report.passed, str(report)
    assert len(report.items) == 5


def test_reduce_fix_not_deployed(lab: LabUnderTest) -> None:
    """The starter code still deployed: the hint says to deploy."""
    item = check_reduce(lab, REDUCE_START).item("reduce-not-deployed")
    assert 'lab.deploy("ReduceLambda"' in item.hint and "unchanged" in item.detail


def test_reduce_without_token(lab: LabUnderTest) -> None:
    """No ClientRequestToken: a retried batch is added twice."""
    code = changed(REDUCE_FIX, "                ClientRequestToken=token,\n", "")
    item = check_reduce(lab, code).item("counted-twice")
    assert "2 times" in item.detail


def test_reduce_token_from_uuid4(lab: LabUnderTest) -> None:
    """A uuid4() token differs on every attempt, so a retry is added again."""
    code = changed(REDUCE_FIX, TOKEN_LINE, "    token = str(__import__('uuid').uuid4())\n")
    item = check_reduce(lab, code).item("counted-twice")
    assert "uuid4()" in item.hint


def test_reduce_token_from_request_id(lab: LabUnderTest) -> None:
    """context.aws_request_id is new for every invocation: the same mistake."""
    code = changed(REDUCE_FIX, TOKEN_LINE, "    token = context.aws_request_id\n")
    item = check_reduce(lab, code).item("counted-twice")
    assert "aws_request_id" in item.hint


def test_reduce_token_over_a_set(lab: LabUnderTest) -> None:
    """A token over a set of event IDs changes between processes: caught in a new version."""
    code = changed(
        REDUCE_FIX,
        TOKEN_LINE,
        "    import hashlib\n"
        "    ids = {record['eventID'] for record in records}\n"
        "    token = hashlib.md5(str(ids).encode()).hexdigest()\n",
    )
    report = check_reduce(lab, code)
    item = report.item("token-unstable")
    assert "set" in item.hint and "hash()" in item.hint
    assert report.items[2].status is Status.PASS  # a plain retry in the same process is fine


def test_reduce_token_from_builtin_hash(lab: LabUnderTest) -> None:
    """Python's hash() of the records is salted per process: caught in a new version."""
    code = changed(REDUCE_FIX, TOKEN_LINE, "    token = str(abs(hash(str(records))))\n")
    assert check_reduce(lab, code).item("token-unstable").status is Status.FAIL


def test_reduce_token_too_long(lab: LabUnderTest) -> None:
    """A sha256 hex digest (64 characters) is refused by DynamoDB on every call."""
    code = changed(REDUCE_FIX, TOKEN_LINE, "    token = pipeline.batch_hash(records)\n")
    item = check_reduce(lab, code).item("token-too-long")
    assert "36" in item.hint and "ValidationException" in item.detail


def test_reduce_constant_token(lab: LabUnderTest) -> None:
    """One token for every batch: the second batch is taken for a repeat and skipped."""
    code = changed(REDUCE_FIX, TOKEN_LINE, '    token = "reduce-lambda-batch"\n')
    item = check_reduce(lab, code).item("token-constant")
    assert "skipped" in item.hint


def test_reduce_constant_token_without_mismatch_handling(lab: LabUnderTest) -> None:
    """A constant token without the mismatch handler makes the second batch fail."""
    code = changed(REDUCE_FIX, TOKEN_LINE, '    token = "my-reduce-token"\n')
    code = changed(code, '!= "IdempotentParameterMismatchException"', '!= "NoSuchCode"')
    item = check_reduce(lab, code).item("token-constant")
    assert "IdempotentParameterMismatchException" in item.hint


def test_reduce_overwrites_instead_of_adding(lab: LabUnderTest) -> None:
    """SET instead of ADD replaces each total with the last batch's."""
    code = changed(REDUCE_FIX, '"ADD #value :value"', '"SET #value = :value"')
    item = check_reduce(lab, code).item("put-overwrites")
    assert "ADD #value :value" in item.hint


def test_reduce_typo_in_new_code(lab: LabUnderTest) -> None:
    """An AttributeError in the new code is reported with the error."""
    code = changed(REDUCE_FIX, "pipeline.sum_reduce_records(", "pipeline.sum_reduce_record(")
    item = check_reduce(lab, code).item("reduce-error")
    assert "AttributeError" in item.hint


def test_probe_data_is_removed(lab: LabUnderTest) -> None:
    """After a check, no probe item is left in StateTable or AggregateTable."""
    check_state(lab, STATE_FIX)
    check_reduce(lab, REDUCE_FIX)
    ddb = lab.client("dynamodb")
    for table in (lab.names.state_table, lab.names.aggregate_table):
        items = ddb.scan(TableName=table)["Items"]
        keys = [str(next(iter(item.values()))) for item in items]
        assert not [k for k in keys if "labkit-check" in k]


def test_reduce_reads_the_wrong_events(lab: LabUnderTest) -> None:
    """Keeping only MODIFY records (new totals are INSERTs) adds nothing at all."""
    code = changed(
        REDUCE_FIX,
        "pipeline.sum_reduce_records(records)",
        'pipeline.sum_reduce_records([r for r in records if r["eventName"] == "MODIFY"])',
    )
    item = check_reduce(lab, code).item("reduce-not-adding")
    assert "nothing arrived" in item.detail


SOLVED_NOTEBOOK = Path(__file__).resolve().parents[3] / "solutions" / "04-exactly-once.ipynb"


def _written_file(name: str) -> str:
    """The text a solved notebook's ``%%writefile .../name`` cell writes."""
    notebook = json.loads(SOLVED_NOTEBOOK.read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        first, _, rest = text.partition("\n")
        if cell["cell_type"] == "code" and first.startswith("%%writefile") and first.endswith(name):
            return rest
    raise AssertionError(f"no cell writes {name}")


def test_the_solved_notebook_passes_both_lab2_checks(lab: LabUnderTest) -> None:
    """What the solved notebook writes and deploys passes both lab 2 checks."""
    assert check_state(lab, _written_file("state_lambda.py")).passed
    assert check_reduce(lab, _written_file("reduce_lambda.py")).passed
