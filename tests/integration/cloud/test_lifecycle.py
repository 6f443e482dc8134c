"""labkit up / down / status, and Lab() pointing boto3 at the cloud."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cloud import control
from labkit.testing import free_port


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labkit.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_up_twice_down_and_status(tmp_path: Path) -> None:
    """`labkit up` prints the endpoint, a second up says it is running, down stops it."""
    port, data = str(free_port()), str(tmp_path / "data")
    first = run_cli("up", "--port", port, "--data-dir", data)
    assert first.returncode == 0, first.stderr
    assert f"endpoint: http://127.0.0.1:{port}" in first.stdout
    assert (tmp_path / "data" / "cloud.pid").exists()
    assert (tmp_path / "data" / "cloud.log").exists()
    try:
        second = run_cli("up", "--port", port, "--data-dir", data)
        assert "already running" in second.stdout
        assert f"endpoint: http://127.0.0.1:{port}" in second.stdout
        status = run_cli("status", "--data-dir", data)
        assert status.returncode == 0 and "running" in status.stdout
    finally:
        down = run_cli("down", "--data-dir", data)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not (tmp_path / "data" / "cloud.pid").exists()
    after = run_cli("status", "--data-dir", data)
    assert after.returncode == 3 and "not running" in after.stdout


def test_port_taken_by_another_cloud_gets_a_clear_error(tmp_path: Path) -> None:
    """Starting a second data dir on a busy port says which cloud holds it and what to do."""
    port = free_port()
    control.start(port, tmp_path / "a")
    try:
        with pytest.raises(control.CloudError, match="--port"):
            control.start(port, tmp_path / "b")
    finally:
        control.stop(tmp_path / "a")


def test_lab_starts_cloud_and_configures_plain_boto3(tmp_path: Path) -> None:
    """Lab() starts the cloud and plain boto3.client(...) with no arguments reaches it."""
    script = f"""
import boto3, labkit
lab = labkit.Lab(port={free_port()}, data_dir={str(tmp_path / "lab")!r})
boto3.client("dynamodb").create_table(
    TableName="Hello", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{{"AttributeName": "id", "KeyType": "HASH"}}],
    AttributeDefinitions=[{{"AttributeName": "id", "AttributeType": "S"}}])
print(boto3.client("dynamodb").list_tables()["TableNames"], lab.endpoint)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_PROFILE"] = "does-not-exist"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    try:
        assert done.returncode == 0, done.stderr
        assert "['Hello']" in done.stdout and "http://127.0.0.1:" in done.stdout
    finally:
        control.stop(tmp_path / "lab")
