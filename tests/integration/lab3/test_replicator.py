"""lab3.step3 against a live local cloud: the policy, AWS's two refusals, the function."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from labkit.lab.replication.policy import material_policy

from .conftest import Lab3


@pytest.fixture
def at_step3(lab3: Lab3) -> Lab3:
    """The start of lab3.step3: the tables, the role and its logs-only policy."""
    lab3.provision("lab3.step3")
    return lab3


def test_the_materials_policy_is_refused_as_malformed(at_step3: Lab3) -> None:
    """IAM refuses the material's "Resources" typo with MalformedPolicyDocument, as AWS does."""
    with pytest.raises(ClientError) as refused:
        at_step3.put_policy(material_policy())
    assert refused.value.response["Error"]["Code"] == "MalformedPolicyDocument"


def test_python37_is_refused_as_deprecated(at_step3: Lab3) -> None:
    """Lambda refuses python3.7 with InvalidParameterValueException, as AWS does."""
    with pytest.raises(ClientError) as refused:
        at_step3.create_function(Runtime="python3.7")
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException" and "python3.7" in error["Message"]


def test_least_privilege_policy_and_function_pass(at_step3: Lab3) -> None:
    """The named-resource policy and a python3.12 function pass, with no warning."""
    at_step3.put_policy(at_step3.good_policy())
    at_step3.create_function()
    report = at_step3.check("lab3.step3")
    assert report.passed and not report.codes, str(report)


def test_fixed_material_policy_passes_with_warnings_on_star(at_step3: Lab3) -> None:
    """The material's policy with the typo fixed passes, warning about grants on "*"."""
    document = material_policy()
    statement = document["Statement"][1]
    statement["Resource"] = statement.pop("Resources")
    at_step3.put_policy(document)
    at_step3.create_function()
    report = at_step3.check("lab3.step3")
    assert report.passed, str(report)
    assert "lab3-grant-on-star" in report.codes


def test_not_provisioned(lab3: Lab3) -> None:
    """Without the lab's role the check says lab3-not-provisioned and how to reset."""
    item = lab3.check("lab3.step3").item("lab3-not-provisioned")
    assert "lab.reset('lab3.step3')" in item.hint


def test_permission_missing(at_step3: Lab3) -> None:
    """The logs-only policy is lab3-permission-missing for the stream and the replica."""
    at_step3.create_function()
    report = at_step3.check("lab3.step3")
    missing = [i for i in report.items if i.code == "lab3-permission-missing"]
    text = " ".join(i.label for i in missing)
    assert "DeleteItem" in text and "GetRecords" in text


def test_function_missing(at_step3: Lab3) -> None:
    """No function is lab3-function-missing, with python3.12 in the hint."""
    at_step3.put_policy(at_step3.good_policy())
    item = at_step3.check("lab3.step3").item("lab3-function-missing")
    assert "python3.12" in item.hint


def test_replica_variable_missing(at_step3: Lab3) -> None:
    """A function without REPLICA_TABLE is lab3-replica-variable."""
    at_step3.put_policy(at_step3.good_policy())
    at_step3.create_function(Environment={"Variables": {"TABLE": "x"}})
    item = at_step3.check("lab3.step3").item("lab3-replica-variable")
    assert at_step3.names.replica in item.hint


def test_wrong_role(at_step3: Lab3) -> None:
    """A function on another role is lab3-wrong-role."""
    at_step3.put_policy(at_step3.good_policy())
    other = at_step3.cloud.create_role()
    at_step3.create_function(Role=other)
    item = at_step3.check("lab3.step3").item("lab3-wrong-role")
    assert at_step3.role_arn() in item.hint
