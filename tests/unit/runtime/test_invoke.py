"""A handler runs with Lambda's event, context, environment, return value and log lines."""

from __future__ import annotations

import base64
import json
import os
import re

import pytest

from labkit.runtime import Runtime

from .conftest import MakeSpec, SinkRecorder, messages, payload

CONTEXT_CODE = """
import os

def lambda_handler(event, context):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "AWS_ENDPOINT_URL", "GREETING",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LEAKED_FROM_PARENT",
    ]
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": context.identity.cognito_identity_id,
        "client_context": context.client_context and context.client_context.custom,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in names},
        "cwd": os.getcwd(),
    }
"""


def test_handler_result_is_returned_as_json(runtime: Runtime, make_spec: MakeSpec) -> None:
    """The handler's return value comes back as json.dumps bytes, with no function error."""
    result = runtime.invoke(make_spec(), b'{"a": [1, 2]}')
    assert result.function_error is None
    assert result.payload == b'{"a": [1, 2]}'
    assert result.executed_version == "$LATEST"
    assert not result.timed_out


def test_none_result_is_null(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A handler returning None gives the payload b"null"."""
    spec = make_spec("def lambda_handler(event, context):\n    pass\n")
    assert runtime.invoke(spec, b"{}").payload == b"null"


def test_decimal_results_become_numbers(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Decimals (as boto3's DynamoDB resource returns them) are marshalled as numbers."""
    spec = make_spec(
        "from decimal import Decimal\n"
        "def lambda_handler(event, context):\n"
        "    return {'a': Decimal('3'), 'b': Decimal('2.5')}\n"
    )
    assert payload(runtime.invoke(spec, b"{}")) == {"a": 3, "b": 2.5}


def test_context_and_environment_are_aws_like(
    runtime: Runtime, make_spec: MakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Context attributes and env vars match Lambda's; credentials come only from extra_env."""
    monkeypatch.setenv("LEAKED_FROM_PARENT", "oops")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "parent-key")
    spec = make_spec(CONTEXT_CODE, environment={"GREETING": "hi"}, memory_size=256, timeout=7)
    creds = {
        "AWS_ACCESS_KEY_ID": "AKIAROLE",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_SESSION_TOKEN": "t",
    }
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    result = runtime.invoke(spec, b'{"x": 1}', extra_env=creds, client_context=client_context)
    body = payload(result)
    env = body.pop("env")
    assert body["event"] == {"x": 1}
    assert body["function_name"] == "fn"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == spec.arn
    assert body["memory_limit_in_mb"] == "256"
    assert body["aws_request_id"] == result.request_id
    assert body["log_group_name"] == "/aws/lambda/fn"
    assert body["log_stream_name"] == result.log_stream
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", result.log_stream)
    assert body["identity"] is None
    assert body["client_context"] == {"k": "v"}
    assert 6000 < body["remaining"] <= 7000
    assert body["cwd"] == env["LAMBDA_TASK_ROOT"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == result.log_stream
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "lambda_function.lambda_handler"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] and env["PATH"] and env["LAMBDA_RUNTIME_DIR"]
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["GREETING"] == "hi"
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAROLE"
    assert (env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == ("s", "t")
    assert env["LEAKED_FROM_PARENT"] is None


def test_parent_credentials_do_not_leak(
    runtime: Runtime, make_spec: MakeSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without extra_env a worker sees none of the runtime's credentials, nor ~/.aws files."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "parent-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_PROFILE", "learner")
    names = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ]
    spec = make_spec(
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    return {name: os.environ.get(name) for name in event}\n"
    )
    assert payload(runtime.invoke(spec, json.dumps(names).encode())) == {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_PROFILE": None,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def test_output_is_captured_between_start_end_and_report(
    runtime: Runtime, make_spec: MakeSpec, sink: SinkRecorder
) -> None:
    """print, stderr, fd-level writes, child processes and logging land between START and END."""
    spec = make_spec(
        """
        import logging, os, subprocess, sys
        print("at import")
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)

        def lambda_handler(event, context):
            print("to stdout", event["n"])
            print("to stderr", file=sys.stderr)
            os.write(1, b"raw fd write\\n")
            subprocess.run(["echo", "from a child"], check=True)
            logger.info("two\\nlines")
            logging.getLogger("app").debug("hidden")
            return "ok"
        """
    )
    first = runtime.invoke(spec, b'{"n": 7}')
    lines = messages(first.log_lines)
    rid = first.request_id
    assert lines[0].startswith("INIT_START Runtime Version: python:3.12")
    assert lines[1] == "at import"
    assert lines[2] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[3:7] == ["to stdout 7", "to stderr", "raw fd write", "from a child"]
    assert re.fullmatch(
        rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ttwo\nlines", lines[7]
    )
    assert lines[8] == f"END RequestId: {rid}"
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        lines[9],
    )
    assert len(lines) == 10
    assert all(line.timestamp_ms > 1_600_000_000_000 for line in first.log_lines)
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert first.billed_duration_ms >= 1 and first.max_memory_used_mb > 0
    assert sink.calls[-1] == ("/aws/lambda/fn", first.log_stream, list(first.log_lines))

    second = runtime.invoke(spec, b'{"n": 8}')
    assert second.init_duration_ms is None
    assert second.log_stream == first.log_stream
    assert messages(second.log_lines)[0] == f"START RequestId: {second.request_id} Version: $LATEST"
    assert "Init Duration" not in messages(second.log_lines)[-1]


def test_log_level_comes_from_aws_lambda_log_level(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Root logger level is WARNING unless AWS_LAMBDA_LOG_LEVEL says otherwise."""
    code = (
        "import logging\n"
        "def lambda_handler(event, context):\n"
        "    logging.getLogger().info('info line')\n"
        "    logging.getLogger().warning('warning line')\n"
    )
    quiet = messages(runtime.invoke(make_spec(code, name="quiet"), b"{}").log_lines)
    assert not any("info line" in line for line in quiet)
    assert any(line.startswith("[WARNING]\t") and "warning line" in line for line in quiet)
    spec = make_spec(code, name="chatty", environment={"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    chatty = messages(runtime.invoke(spec, b"{}").log_lines)
    assert any(line.startswith("[INFO]\t") and "info line" in line for line in chatty)


def test_warm_worker_is_reused(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Module state survives between invocations of one warm worker: init runs once."""
    spec = make_spec(
        "import os\n"
        "count = 0\n"
        "def lambda_handler(event, context):\n"
        "    global count\n"
        "    count += 1\n"
        "    return [count, os.getpid()]\n"
    )
    results = [payload(runtime.invoke(spec, b"{}")) for _ in range(3)]
    assert [count for count, _ in results] == [1, 2, 3]
    assert len({pid for _, pid in results}) == 1
    stats = runtime.stats()["fn"]
    assert stats["invocations"] == 3 and stats["cold_starts"] == 1 and stats["warm_workers"] == 1


def test_path_like_handler_module(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A handler such as "src/app.handler" imports src/app.py."""
    spec = make_spec(
        files={"src/app.py": "def handler(event, context):\n    return 'nested'\n"},
        handler="src/app.handler",
    )
    assert payload(runtime.invoke(spec, b"{}")) == "nested"


def test_code_can_import_its_own_modules(runtime: Runtime, make_spec: MakeSpec) -> None:
    """The code directory is first on sys.path, so bundled modules import."""
    spec = make_spec(
        files={
            "lambda_function.py": "import helper\ndef lambda_handler(e, c):\n    return helper.X\n",
            "helper.py": "X = 42\n",
        }
    )
    assert payload(runtime.invoke(spec, b"{}")) == 42


def test_qualified_version_shows_in_arn_and_logs(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A published version runs with that version in the context, ARN and log lines."""
    spec = make_spec(
        "def lambda_handler(event, context):\n"
        "    return [context.function_version, context.invoked_function_arn]\n",
        version="3",
    )
    result = runtime.invoke(spec, b"{}")
    assert payload(result) == ["3", spec.arn + ":3"]
    assert result.executed_version == "3"
    assert "[3]" in result.log_stream
    assert f"START RequestId: {result.request_id} Version: 3" in messages(result.log_lines)
