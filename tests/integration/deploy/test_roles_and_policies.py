"""Roles with inline policies, and plan policies, on the local cloud."""

from __future__ import annotations

import dataclasses
import json

from labkit.deploy import Boto3Executor
from labkit.deploy.planner import ADD_MISSING
from labkit.deploy.resources import (
    InlinePolicy,
    PolicyDocument,
    Role,
    Stack,
    Statement,
    Table,
    log_group_arn_template,
    table_arn_template,
)
from labkit.testing import RunningCloud

from .conftest import Deployer

LOGS = InlinePolicy(
    "emit-cloudwatch-logs",
    PolicyDocument(
        (
            Statement(
                "Logs",
                ("logs:CreateLogStream", "logs:PutLogEvents"),
                (log_group_arn_template("/aws/lambda/counter-upload-processor") + ":*",),
            ),
        )
    ),
)
WRITE = InlinePolicy(
    "write-state",
    PolicyDocument(
        (Statement("Write", ("dynamodb:UpdateItem",), (table_arn_template("state-x"),)),)
    ),
)


def inline_documents(cloud: RunningCloud, role: str) -> dict[str, object]:
    iam = cloud.client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names}


def test_inline_policies_are_put_updated_and_removed(
    deployer: Deployer, cloud: RunningCloud
) -> None:
    """Inline policies are put with the account's ARNs, rewritten when they differ, deleted
    when an owned one is no longer wanted, and go with the role."""
    role = Role("counter-upload-processor-execute", (), inline=(LOGS, WRITE))
    deployer.apply(Stack(roles=(role,)))
    documents = inline_documents(cloud, role.name)
    assert set(documents) == {"emit-cloudwatch-logs", "write-state"}
    text = json.dumps(documents["emit-cloudwatch-logs"])
    assert "arn:aws:logs:us-east-1:" in text and "${" not in text

    wider = dataclasses.replace(
        WRITE,
        document=PolicyDocument(
            (
                Statement(
                    "Write",
                    ("dynamodb:UpdateItem", "dynamodb:GetItem"),
                    (table_arn_template("state-x"),),
                ),
            )
        ),
    )
    plan = deployer.apply(
        Stack(roles=(dataclasses.replace(role, inline=(wider,)),)), owned=Stack(roles=(role,))
    )
    assert [c.api for c in plan] == ["iam.delete_role_policy", "iam.put_role_policy"]
    assert set(inline_documents(cloud, role.name)) == {"write-state"}

    deployer.teardown(Stack(roles=(role,)))
    assert role.name not in [r["RoleName"] for r in cloud.client("iam").list_roles()["Roles"]]


def test_add_missing_changes_nothing_that_exists(deployer: Deployer, cloud: RunningCloud) -> None:
    """With ADD_MISSING, a table the learner changed keeps its changes and a missing one is
    created; the plan lists what it left alone."""
    deployer.apply(Stack(tables=(Table("kept-a", "id"),)))
    wanted = Stack(
        tables=(
            Table("kept-a", "other-key"),
            Table("kept-b", "id"),
        )
    )
    plan = deployer.plan(wanted, policy=ADD_MISSING)
    assert [c.api for c in plan] == ["dynamodb.create_table"]
    assert [c.api for c in plan.skipped] == ["dynamodb.delete_table", "dynamodb.create_table"]
    Boto3Executor(cloud.client, propagation_timeout=0).run(plan)
    described = cloud.client("dynamodb").describe_table(TableName="kept-a")["Table"]
    assert described["KeySchema"][0]["AttributeName"] == "id"
    deployer.teardown(wanted)
