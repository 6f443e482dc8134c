"""Steps as data, and the resources each stage consists of, with least-privilege roles."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from labkit.deploy.resources import Environment, StreamView
from labkit.iam import Requirement, check_least_privilege, is_allowed, lambda_log_requirements
from labkit.lab.names import CodeVersion, FunctionId, LabSettings, MappingId, Names, TableId
from labkit.lab.policies import policy_document
from labkit.lab.stack import lab_stack, owned_stack
from labkit.lab.steps import (
    FINISHED,
    STEP_IDS,
    STEPS,
    get_step,
    next_step,
    steps_before,
)

ENV = Environment("aws", "us-west-2", "111122223333")
NAMES = Names()


def test_step_ids_are_stable() -> None:
    """The ids other code is built on, in workshop order."""
    assert STEP_IDS == ("lab1.step1", "lab1.step2", "lab1.step3", "lab2.step1", "lab2.step2")
    assert [(s.lab, s.number) for s in STEPS] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]


def test_each_solution_leads_to_the_next_start() -> None:
    """A step's solution is the next step's start, except lab 2's failures coming on."""
    for step, following in itertools.pairwise(STEPS):
        if step.lab == following.lab:
            assert step.solution == following.start
        else:
            assert step.solution == dataclasses.replace(following.start, lab2=False)
    assert STEPS[-1].solution == FINISHED


def test_what_changes_at_each_step() -> None:
    """Step 1 adds tables, step 2 the Reduce policy, step 3 the mapping and concurrency;
    lab 2 fixes StateLambda then ReduceLambda."""
    s = {step.id: step for step in STEPS}
    assert s["lab1.step1"].start.tables == frozenset()
    assert s["lab1.step1"].solution.tables == frozenset(TableId)
    assert not s["lab1.step2"].start.reduce_policy_complete
    assert s["lab1.step2"].solution.reduce_policy_complete
    assert MappingId.REDUCE not in s["lab1.step3"].start.mappings
    assert s["lab1.step3"].solution.reduce_concurrency == 1
    assert s["lab2.step1"].start.lab2 and s["lab2.step1"].start.state_code == "starter"
    assert s["lab2.step1"].solution.state_code == CodeVersion.SOLUTION
    assert s["lab2.step2"].solution.reduce_code == CodeVersion.SOLUTION


def test_unknown_step_names_the_valid_ids() -> None:
    """A typo in a step id is a ValueError listing the steps."""
    with pytest.raises(ValueError, match=r"lab1\.step1, lab1\.step2"):
        get_step("lab1.step4")
    assert next_step("lab2.step2") is None
    assert steps_before("lab1.step3") == ("lab1.step1", "lab1.step2")


def test_every_stage_describes_itself() -> None:
    """A stage can be shown in a few plain lines."""
    assert "tables: none" in STEPS[0].start.describe()[0]


def test_names_carry_the_prefix() -> None:
    """Every name, including roles, policies and log groups, carries the prefix."""
    names = Names("labkit-")
    assert names.state_table == "labkit-StateTable"
    assert names.incoming_stream == "labkit-IncomingDataStream"
    assert names.role(FunctionId.REDUCE) == "labkit-ReduceLambdaRole"
    assert names.policy(FunctionId.REDUCE) == "labkit-ReduceLambdaPolicy"
    assert names.log_group(FunctionId.MAP) == "/aws/lambda/labkit-MapLambda"


def test_backend_defaults() -> None:
    """Locally: no prefix, few shards; on AWS: labkit- prefix, 20 shards, parallelization 10."""
    local, aws = LabSettings.for_backend("local"), LabSettings.for_backend("aws")
    assert (local.prefix, local.shard_count) == ("", 2)
    assert (aws.prefix, aws.shard_count, aws.state_parallelization) == ("labkit-", 20, 10)
    assert LabSettings.for_backend("aws", "x-").prefix == "x-"


def test_finished_stack_matches_the_reference_settings() -> None:
    """Tables, keys and streams; functions' timeouts, memory and runtime; mapping settings."""
    stack = lab_stack(FINISHED, LabSettings())
    tables = {t.name: (t.partition_key, t.stream_view) for t in stack.tables}
    assert tables == {
        "StateTable": ("id", StreamView.NEW_AND_OLD_IMAGES),
        "ReduceTable": ("MessageId", StreamView.NEW_IMAGE),
        "AggregateTable": ("Identifier", None),
        "ParameterTable": ("parameter", None),
    }
    functions = {f.name: f for f in stack.functions}
    assert {n: f.timeout for n, f in functions.items()} == {
        "StateLambda": 180,
        "MapLambda": 60,
        "ReduceLambda": 30,
        "GeneratorLambda": 55,
    }
    assert {(f.runtime, f.memory_size) for f in stack.functions} == {("python3.12", 256)}
    assert functions["ReduceLambda"].reserved_concurrency == 1
    mappings = {m.function: m for m in stack.mappings}
    assert (mappings["StateLambda"].batch_size, mappings["StateLambda"].starting_position) == (
        100,
        "LATEST",
    )
    assert mappings["MapLambda"].batch_size == 1000
    assert mappings["ReduceLambda"].batch_size == 1000
    assert {m.maximum_retry_attempts for m in stack.mappings} == {-1}


def test_everything_taggable_is_tagged() -> None:
    """The lab's tag is on the stream, tables, policies, roles, log groups and functions."""
    stack = lab_stack(FINISHED, LabSettings())
    for group in (
        stack.streams,
        stack.tables,
        stack.policies,
        stack.roles,
        stack.log_groups,
        stack.functions,
    ):
        for resource in group:
            assert ("labkit:lab", "core") in resource.tags, resource


def test_functions_find_their_tables_through_the_environment() -> None:
    """Each function gets the (prefixed) names of the tables or stream it uses."""
    stack = lab_stack(FINISHED, LabSettings(prefix="p-"))
    env = {f.name: dict(f.environment) for f in stack.functions}
    assert env["p-StateLambda"] == {
        "STATE_TABLE": "p-StateTable",
        "PARAMETER_TABLE": "p-ParameterTable",
    }
    assert env["p-GeneratorLambda"]["INCOMING_STREAM"] == "p-IncomingDataStream"


def test_lab_2_stages_switch_failures_on_in_parameter_table() -> None:
    """ParameterTable items hold lab 2's rates in lab 2 and zeros before."""
    lab1 = {
        i.key_value: dict(i.attributes)["value"]
        for i in lab_stack(STEPS[1].start, LabSettings()).items
    }
    lab2 = {
        i.key_value: dict(i.attributes)["value"]
        for i in lab_stack(STEPS[3].start, LabSettings()).items
    }
    assert set(lab1.values()) == {0}
    assert lab2 == {
        "FAILURE_STATE_LAMBDA_PCT": 5,
        "FAILURE_MAP_LAMBDA_PCT": 10,
        "FAILURE_REDUCE_LAMBDA_PCT": 10,
        "SPECIAL_TRADES": 1,
    }
    assert lab_stack(STEPS[0].start, LabSettings()).items == ()


def test_owned_stack_is_everything_the_lab_may_create() -> None:
    """Teardown's list covers every table, mapping, function, role, policy and log group."""
    owned = owned_stack(LabSettings())
    assert len(owned.tables) == 4 and len(owned.mappings) == 3 and len(owned.functions) == 4


# ----- least privilege ------------------------------------------------------------------------
A = "arn:aws"
STREAM = f"{A}:kinesis:us-west-2:111122223333:stream/IncomingDataStream"
TABLE = f"{A}:dynamodb:us-west-2:111122223333:table/"
LABEL = "/stream/2024-01-01T00:00:00.000"


def needs(function: FunctionId, *, reduce_complete: bool = True) -> list[Requirement]:
    """What the function's code and its mapping really call, on which resources."""
    base = [
        *lambda_log_requirements(NAMES.function(function), "us-west-2", "111122223333"),
        Requirement("dynamodb:GetItem", TABLE + "ParameterTable"),
    ]
    read_ddb = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
    if function is FunctionId.STATE:
        kinesis = (
            "DescribeStream",
            "DescribeStreamSummary",
            "GetRecords",
            "GetShardIterator",
            "ListShards",
        )
        return [
            *base,
            *(Requirement(f"kinesis:{a}", STREAM) for a in kinesis),
            Requirement("dynamodb:UpdateItem", TABLE + "StateTable"),
        ]
    if function is FunctionId.MAP:
        return [
            *base,
            *(Requirement(a, TABLE + "StateTable" + LABEL) for a in read_ddb),
            Requirement("dynamodb:PutItem", TABLE + "ReduceTable"),
        ]
    if function is FunctionId.REDUCE:
        if not reduce_complete:
            return base
        return [
            *base,
            *(Requirement(a, TABLE + "ReduceTable" + LABEL) for a in read_ddb),
            Requirement("dynamodb:UpdateItem", TABLE + "AggregateTable"),
        ]
    return [*base, Requirement("kinesis:PutRecords", STREAM)]


@pytest.mark.parametrize("function", list(FunctionId))
def test_each_role_grants_what_its_function_needs_and_no_more(function: FunctionId) -> None:
    """Checked with labkit.iam: nothing missing, nothing in excess."""
    document = policy_document(NAMES, function).to_dict(ENV)
    report = check_least_privilege(document, needs(function))
    assert report.passed, report.to_fix
    assert not report.missing and not report.excess


def test_reduce_policy_starts_without_stream_or_aggregate_access() -> None:
    """At the start of lab1.step2 ReduceLambda may log and read ParameterTable only."""
    document = policy_document(NAMES, FunctionId.REDUCE, reduce_complete=False).to_dict(ENV)
    assert check_least_privilege(document, needs(FunctionId.REDUCE, reduce_complete=False)).passed
    assert not is_allowed(document, "dynamodb:GetRecords", TABLE + "ReduceTable" + LABEL)
    assert not is_allowed(document, "dynamodb:UpdateItem", TABLE + "AggregateTable")


def test_roles_cannot_touch_other_tables() -> None:
    """StateLambda cannot write AggregateTable; MapLambda cannot read ReduceTable's stream."""
    state = policy_document(NAMES, FunctionId.STATE).to_dict(ENV)
    mapper = policy_document(NAMES, FunctionId.MAP).to_dict(ENV)
    assert not is_allowed(state, "dynamodb:UpdateItem", TABLE + "AggregateTable")
    assert not is_allowed(mapper, "dynamodb:GetRecords", TABLE + "ReduceTable" + LABEL)
