"""Functions act as their roles; each data directory has its own cloud, port and credentials."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from labkit.cloud import control
from labkit.cloud.auth_keys import CREDENTIALS_FILE, PORT_FILE, learner_credentials
from labkit.testing import RunningCloud, free_port, local_cloud, make_zip, policy_document

from .conftest import error_of

CALLER = """
import json, os, boto3
from botocore.exceptions import ClientError

def lambda_handler(event, context):
    ddb = boto3.client("dynamodb")
    table = os.environ["TABLE"]
    answers = {}
    for name, call in [
        ("get", lambda: ddb.get_item(TableName=table, Key={"id": {"S": "x"}})),
        ("put", lambda: ddb.put_item(TableName=table, Item={"id": {"S": "x"}})),
    ]:
        try:
            call()
            answers[name] = "ok"
        except ClientError as error:
            answers[name] = error.response["Error"]["Code"]
    forged = boto3.client(
        "dynamodb",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token="forged-token",
    )
    try:
        forged.list_tables()
        answers["forged"] = "ok"
    except ClientError as error:
        answers["forged"] = error.response["Error"]["Code"]
    return answers
"""


def test_functions_keep_their_roles_permissions(cloud: RunningCloud) -> None:
    """A function's signed calls pass as its role: allowed reads work, other writes are
    denied, and its key with a forged session token is refused."""
    table = f"t-{uuid.uuid4().hex[:8]}"
    ddb = cloud.client("dynamodb")
    arn = ddb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )["TableDescription"]["TableArn"]
    role = cloud.create_role(
        policy_document({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": arn})
    )
    name = f"fn-{uuid.uuid4().hex[:8]}"
    lam = cloud.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": make_zip({"lambda_function.py": CALLER})},
        Environment={"Variables": {"TABLE": table}},
    )
    answer = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert answer == {
        "get": "ok",
        "put": "AccessDeniedException",
        "forged": "UnrecognizedClientException",
    }


def test_the_data_directory_and_its_credentials_are_private(cloud: RunningCloud) -> None:
    """The data directory is 0700 and the credentials file 0600; the key is not a fixed one."""
    assert stat.S_IMODE(cloud.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((cloud.data_dir / CREDENTIALS_FILE).stat().st_mode) == 0o600
    assert cloud.credentials.access_key.startswith("LKIA")
    assert cloud.credentials.access_key != "testing"
    assert learner_credentials(cloud.data_dir) == cloud.credentials


def test_two_clouds_refuse_each_others_credentials(tmp_path: Path) -> None:
    """Two data directories, two clouds: the credentials of one are unknown to the other."""
    with local_cloud(tmp_path / "one") as one, local_cloud(tmp_path / "two") as two:
        assert one.credentials != two.credentials
        stranger = two.client(
            "dynamodb",
            aws_access_key_id=one.credentials.access_key,
            aws_secret_access_key=one.credentials.secret_key,
        )
        assert error_of(lambda: stranger.list_tables())[0] == "UnrecognizedClientException"
        assert one.client("dynamodb").list_tables()["TableNames"] == []


def test_a_taken_default_port_moves_to_a_free_one_and_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default port held by someone else's cloud, a cloud starts on a free port,
    remembers it in its data dir, and comes back there; nothing of the other is revealed."""
    port = free_port()
    monkeypatch.setenv("LABKIT_PORT", str(port))
    with local_cloud(tmp_path / "someone-else", port=port):
        mine = tmp_path / "mine"
        info = control.start(None, mine)
        try:
            assert info.port != port
            assert int((mine / PORT_FILE).read_text()) == info.port
            control.stop(mine)
            assert control.start(None, mine).port == info.port
        finally:
            control.stop(mine)
        with pytest.raises(control.CloudError) as taken:
            control.start(port, tmp_path / "third")
        assert "someone-else" not in str(taken.value) and "--port" in str(taken.value)


def test_labkit_env_prints_what_a_terminal_needs(cloud: RunningCloud, tmp_path: Path) -> None:
    """`labkit env` prints export lines; a shell that evaluates them reaches the cloud."""
    labkit = str(Path(sys.executable).with_name("labkit"))
    printed = subprocess.run(
        [labkit, "env", "--data-dir", str(cloud.data_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"export AWS_ENDPOINT_URL={cloud.endpoint}" in printed
    assert f"export AWS_ACCESS_KEY_ID={cloud.credentials.access_key}" in printed
    script = (
        f'eval "$({labkit} env --data-dir {cloud.data_dir})" && '
        f'{sys.executable} -c \'import boto3; print(boto3.client("sts").get_caller_identity()'
        '["Account"])\''
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "123456789012"
