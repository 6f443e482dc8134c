"""Teardown removes every resource the lab created, on the local cloud, and nothing else."""

from __future__ import annotations

import json

from labkit.lab.workshop import Workshop
from labkit.testing import RunningCloud

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _everything(cloud: RunningCloud) -> dict[str, set[str]]:
    """Every table, function, role, policy, stream, mapping and log group of the account."""
    iam = cloud.client("iam")
    return {
        "tables": set(cloud.client("dynamodb").list_tables()["TableNames"]),
        "functions": {
            f["FunctionName"] for f in cloud.client("lambda").list_functions()["Functions"]
        },
        "roles": {r["RoleName"] for r in iam.list_roles()["Roles"]},
        "policies": {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]},
        "streams": set(cloud.client("kinesis").list_streams()["StreamNames"]),
        "mappings": {
            m["UUID"]
            for m in cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
        },
        "log_groups": {
            g["logGroupName"] for g in cloud.client("logs").describe_log_groups()["logGroups"]
        },
    }


def test_teardown_leaves_nothing_of_the_lab_behind(
    workshop: Workshop, lab_cloud: RunningCloud
) -> None:
    """After a finished lab has played a round (so logs exist) and the learner added an
    inline policy and a policy version, teardown removes all of it; a table, a role and a
    policy that are not the lab's stay."""
    dynamodb = lab_cloud.client("dynamodb")
    iam = lab_cloud.client("iam")
    dynamodb.create_table(
        TableName="MyOwnTable",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    iam.create_role(RoleName="MyOwnRole", AssumeRolePolicyDocument=TRUST)
    iam.create_policy(
        PolicyName="MyOwnPolicy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
            }
        ),
    )
    untouched = _everything(lab_cloud)

    workshop.reset("lab2.step2", solved=True, confirm=True)
    result = workshop.scoreboard().play_round(messages=200, seed=1, special=False, timeout=120)
    assert result.exact
    iam.put_role_policy(
        RoleName="ReduceLambdaRole",
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
    )
    iam.create_policy_version(
        PolicyArn="arn:aws:iam::123456789012:policy/ReduceLambdaPolicy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
            }
        ),
        SetAsDefault=True,
    )
    during = _everything(lab_cloud)
    assert {"/aws/lambda/StateLambda", "/aws/lambda/ReduceLambda"} <= during["log_groups"]
    assert len(during["mappings"]) == 3

    workshop.teardown()
    assert _everything(lab_cloud) == untouched
    assert workshop.plan_teardown().empty
