"""Every concrete fix a check suggests works when a learner applies it literally: the same
check then passes, without calling the result too broad.

Each case makes one catalogued mistake against a live local cloud, takes the suggestion out of
the item's hint (the code between backticks), applies it the way a learner would (runs the
call, pastes the ARN or statement into the policy) and checks again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from labkit.lab.names import FunctionId
from labkit.testing import RunningCloud

from .conftest import LabUnderTest, make_lab, reduce_policy

CODE = re.compile(r"`([^`]+)`")


def spans(hint: str) -> list[str]:
    """The code a hint shows, in order (inline spans and indented blocks)."""
    found = CODE.findall(hint)
    for paragraph in hint.split("\n\n"):
        lines = paragraph.split("\n")
        if all(line.startswith("    ") for line in lines if line.strip()):
            found.append("\n".join(line[4:] for line in lines))
    return found


def run_calls(lab: LabUnderTest, hint: str) -> None:
    """Run every boto3 call a hint shows, as a notebook would."""
    clients = {
        "dynamodb": lab.client("dynamodb"),
        "lambda_client": lab.client("lambda"),
        "iam": lab.client("iam"),
    }
    calls = [s for s in spans(hint) if re.match(r"^(dynamodb|lambda_client|iam)\.\w+\(", s)]
    assert calls, f"no call in the hint: {hint}"
    for call in calls:
        eval(call, {}, clients)  # the hint's own code, as a learner pastes it


def arn(hint: str) -> str:
    """The one ARN a hint suggests."""
    found = [s for s in spans(hint) if s.startswith("arn:")]
    assert found, f"no ARN in the hint: {hint}"
    return found[-1]


def statements(hint: str) -> list[dict[str, Any]]:
    """The statement(s) a hint shows as JSON."""
    for span in spans(hint):
        if span.lstrip().startswith(("{", "[")):
            value = json.loads(span)
            return value if isinstance(value, list) else [value]
    raise AssertionError(f"no statement in the hint: {hint}")


def replace_statement(policy: dict[str, Any], sid: str, new: list[dict[str, Any]]) -> None:
    index = next(i for i, s in enumerate(policy["Statement"]) if s.get("Sid") == sid)
    policy["Statement"][index : index + 1] = new


@dataclass(frozen=True)
class Case:
    code: str
    step: str
    make: Callable[[LabUnderTest], Any]  # makes the mistake; returns what apply needs
    apply: Callable[[LabUnderTest, str, Any], None]  # applies the hint's suggestion


def _policy_case(
    code: str, broken: Callable[[LabUnderTest], dict[str, Any]], fix: Callable[..., None]
) -> Case:
    def make(lab: LabUnderTest) -> dict[str, Any]:
        document = broken(lab)
        lab.attach_policy_version(document)
        return document

    def apply(lab: LabUnderTest, hint: str, document: dict[str, Any]) -> None:
        fix(lab, hint, document)
        lab.attach_policy_version(document)

    return Case(code, "lab1.step2", make, apply)


def _set_resource(sid: str) -> Callable[[LabUnderTest, str, dict[str, Any]], None]:
    def fix(lab: LabUnderTest, hint: str, document: dict[str, Any]) -> None:
        statement = next(s for s in document["Statement"] if s.get("Sid") == sid)
        statement["Resource"] = arn(hint)

    return fix


def _rename_action(lab: LabUnderTest, hint: str, document: dict[str, Any]) -> None:
    old, new = (json.loads(s) for s in spans(hint) if s.startswith('"'))
    for statement in document["Statement"]:
        actions = statement["Action"]
        if isinstance(actions, list):
            statement["Action"] = [new if a == old else a for a in actions]


def _swap_action(lab: LabUnderTest, hint: str, document: dict[str, Any]) -> None:
    old, new = (s for s in spans(hint) if s.startswith("dynamodb:"))
    for statement in document["Statement"]:
        if statement["Action"] == old:
            statement["Action"] = new


def _replace_broad(sid: str) -> Callable[[LabUnderTest, str, dict[str, Any]], None]:
    def fix(lab: LabUnderTest, hint: str, document: dict[str, Any]) -> None:
        replace_statement(document, sid, statements(hint))

    return fix


def _stream(lab: LabUnderTest, resource: str) -> dict[str, Any]:
    return reduce_policy(lab, stream={"Resource": resource})


STEP2 = [
    _policy_case(
        "placeholder-left",
        lambda lab: _stream(
            lab, f"arn:aws:dynamodb:{{Region}}:{{Account}}:table/{lab.names.reduce_table}/stream/*"
        ),
        _set_resource("ReadReduceTableStream"),
    ),
    _policy_case(
        "table-arn-for-stream",
        lambda lab: _stream(lab, f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}"),
        _set_resource("ReadReduceTableStream"),
    ),
    _policy_case(
        "old-stream-label",
        lambda lab: _stream(
            lab,
            f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}/stream/2020-01-01T00:00:00.000",
        ),
        _set_resource("ReadReduceTableStream"),
    ),
    _policy_case(
        "wrong-table",
        lambda lab: reduce_policy(
            lab, write={"Resource": f"arn:aws:dynamodb:*:*:table/{lab.names.reduce_table}"}
        ),
        _set_resource("UpdateAggregateTable"),
    ),
    _policy_case(
        "putitem-instead-of-updateitem",
        lambda lab: reduce_policy(lab, write={"Action": "dynamodb:PutItem"}),
        _swap_action,
    ),
    _policy_case(
        "action-typo",
        lambda lab: reduce_policy(
            lab,
            stream={
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecord",
                    "dynamodb:GetShardIterator",
                ]
            },
        ),
        _rename_action,
    ),
    _policy_case(
        "too-broad",
        lambda lab: reduce_policy(
            lab, drop=["write"], stream={"Action": "dynamodb:*", "Resource": "*"}
        ),
        _replace_broad("ReadReduceTableStream"),
    ),
    Case(
        "version-not-default",
        "lab1.step2",
        lambda lab: lab.attach_policy_version(reduce_policy(lab), default=False),
        lambda lab, hint, _: run_calls(lab, hint),
    ),
    Case(
        "policy-not-attached",
        "lab1.step2",
        lambda lab: lab.client("iam").create_policy(
            PolicyName=f"{lab.names.prefix}MyReducePolicy",
            PolicyDocument=json.dumps(reduce_policy(lab)),
        ),
        lambda lab, hint, _: run_calls(lab, hint),
    ),
]


def _region_case() -> Case:
    def broken(lab: LabUnderTest) -> dict[str, Any]:
        return reduce_policy(
            lab,
            write={"Resource": f"arn:aws:dynamodb:eu-west-3:*:table/{lab.names.aggregate_table}"},
        )

    return _policy_case("arn-mismatch", broken, _set_resource("UpdateAggregateTable"))


@pytest.fixture(scope="module")
def module_lab(cloud: RunningCloud) -> Iterator[LabUnderTest]:
    lab = make_lab(cloud)
    yield lab
    lab.workshop.teardown()


@pytest.mark.parametrize("case", [*STEP2, _region_case()], ids=lambda c: c.code)
def test_policy_hints_work_when_applied(module_lab: LabUnderTest, case: Case) -> None:
    """The ARN, statement or call a lab1.step2 hint suggests makes the check pass."""
    lab = module_lab
    lab.provision("lab1.step2")
    state = case.make(lab)
    before = lab.check(case.step)
    failing = [i for i in before.failures if i.code == case.code] or list(before.failures)
    assert failing, str(before)
    for item in failing:
        case.apply(lab, item.hint, state)
    after = lab.check(case.step)
    assert after.passed, f"{before}\n\n--- after applying the hint ---\n{after}"
    assert "too-broad" not in after.codes
    if case.code == "policy-not-attached":
        iam = lab.client("iam")
        name = f"{lab.names.prefix}MyReducePolicy"
        arn_ = f"arn:aws:iam::{lab.ctx.account}:policy/{name}"
        iam.detach_role_policy(RoleName=lab.names.role(FunctionId.REDUCE), PolicyArn=arn_)
        iam.delete_policy(PolicyArn=arn_)


def _reduce_mapping(lab: LabUnderTest) -> str:
    found = lab.client("lambda").list_event_source_mappings(
        FunctionName=lab.names.function(FunctionId.REDUCE)
    )["EventSourceMappings"]
    return str(found[0]["UUID"])


def _wait_mapping(lab: LabUnderTest, uuid: str) -> None:
    client = lab.client("lambda")
    for _ in range(100):
        if client.get_event_source_mapping(UUID=uuid)["State"] in ("Enabled", "Disabled"):
            return
    raise AssertionError("the mapping did not settle")


def _update_mapping(**settings: Any) -> Callable[[LabUnderTest], None]:
    def make(lab: LabUnderTest) -> None:
        uuid = _reduce_mapping(lab)
        lab.client("lambda").update_event_source_mapping(UUID=uuid, **settings)
        _wait_mapping(lab, uuid)

    return make


def _call_case(code: str, step: str, start: str, make: Callable[[LabUnderTest], Any]) -> Case:
    def made(lab: LabUnderTest) -> Any:
        lab.provision(start, solved=True)
        return make(lab)

    def apply(lab: LabUnderTest, hint: str, _: Any) -> None:
        run_calls(lab, hint)
        if step == "lab1.step3":
            _wait_mapping(lab, _reduce_mapping(lab))

    return Case(code, step, made, apply)


def _concurrency(value: int) -> Callable[[LabUnderTest], None]:
    def make(lab: LabUnderTest) -> None:
        lab.client("lambda").put_function_concurrency(
            FunctionName=lab.names.function(FunctionId.REDUCE),
            ReservedConcurrentExecutions=value,
        )

    return make


CALLS = [
    _call_case(
        "provisioned-capacity",
        "lab1.step1",
        "lab1.step1",
        lambda lab: lab.client("dynamodb").update_table(
            TableName=lab.names.aggregate_table,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        ),
    ),
    _call_case(
        "stream-not-enabled",
        "lab1.step1",
        "lab1.step1",
        lambda lab: lab.client("dynamodb").update_table(
            TableName=lab.names.reduce_table, StreamSpecification={"StreamEnabled": False}
        ),
    ),
    _call_case("concurrency-zero", "lab1.step3", "lab1.step3", _concurrency(0)),
    _call_case("concurrency-wrong", "lab1.step3", "lab1.step3", _concurrency(3)),
    _call_case("batch-size", "lab1.step3", "lab1.step3", _update_mapping(BatchSize=100)),
    _call_case("mapping-disabled", "lab1.step3", "lab1.step3", _update_mapping(Enabled=False)),
]


@pytest.mark.parametrize("case", CALLS, ids=lambda c: c.code)
def test_suggested_calls_work_when_run(module_lab: LabUnderTest, case: Case) -> None:
    """The boto3 call a lab1.step1 or lab1.step3 hint shows makes the check pass."""
    lab = module_lab
    state = case.make(lab)
    before = lab.check(case.step)
    failing = [i for i in before.failures if i.code == case.code]
    assert failing, str(before)
    for item in failing:
        case.apply(lab, item.hint, state)
    after = lab.check(case.step)
    assert after.passed, f"{before}\n\n--- after running the hint's call ---\n{after}"
