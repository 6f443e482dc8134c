"""Lambda functions really run in the local cloud, with AWS's results, errors and logs."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from labkit.testing import RunningCloud, make_zip

from .conftest import MakeFunction


def invoke(cloud: RunningCloud, name: str, event: Any = None, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = cloud.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs
    )
    response["payload"] = json.loads(response["Payload"].read() or b"null")
    return response


def log_messages(cloud: RunningCloud, name: str) -> list[str]:
    logs = cloud.client("logs")
    group = f"/aws/lambda/{name}"
    messages: list[str] = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        messages.extend(event["message"] for event in events["events"])
    return messages


def test_invoke_returns_the_handler_result_with_context(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """RequestResponse returns the handler's value; context and env are AWS's."""
    name = make_function(
        """
        import os
        def lambda_handler(event, context):
            return {"echo": event, "name": context.function_name,
                    "remaining": context.get_remaining_time_in_millis() > 0,
                    "region": os.environ["AWS_REGION"], "mine": os.environ["GREETING"]}
        """,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    response = invoke(cloud, name, {"a": 1})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["payload"] == {
        "echo": {"a": 1},
        "name": name,
        "remaining": True,
        "region": "us-east-1",
        "mine": "hi",
    }


def test_handler_boto3_calls_reach_the_local_cloud(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """A handler's own boto3 client talks to the local cloud with no configuration."""
    cloud.client("sqs").create_queue(QueueName="from-lambda")
    name = make_function(
        """
        import boto3
        def lambda_handler(event, context):
            sqs = boto3.client("sqs")
            url = sqs.get_queue_url(QueueName="from-lambda")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="hello")
            return "sent"
        """
    )
    assert invoke(cloud, name)["payload"] == "sent"
    url = cloud.client("sqs").get_queue_url(QueueName="from-lambda")["QueueUrl"]
    messages = cloud.client("sqs").receive_message(QueueUrl=url)["Messages"]
    assert messages[0]["Body"] == "hello"


def test_exception_comes_back_in_aws_shape(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """A raised exception gives FunctionError Unhandled with message, type and trace."""
    name = make_function(
        """
        def lambda_handler(event, context):
            raise ValueError("bad trade")
        """
    )
    response = invoke(cloud, name)
    assert response["FunctionError"] == "Unhandled"
    assert response["payload"]["errorType"] == "ValueError"
    assert response["payload"]["errorMessage"] == "bad trade"
    assert any("lambda_function.py" in line for line in response["payload"]["stackTrace"])


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "fragment"),
    [
        (
            {"lambda_function.py": "def lambda_handler(event, context)\n    return 1\n"},
            "lambda_function.lambda_handler",
            "Runtime.UserCodeSyntaxError",
            "line 1",
        ),
        (
            {"lambda_function.py": "def other(event, context):\n    return 1\n"},
            "lambda_function.lambda_handler",
            "Runtime.HandlerNotFound",
            "lambda_handler",
        ),
        (
            {"readme.txt": "no code here"},
            "lambda_function.lambda_handler",
            "Runtime.ImportModuleError",
            "lambda_function",
        ),
    ],
    ids=["syntax-error", "missing-handler", "zip-without-handler-file"],
)
def test_broken_code_is_reported_like_aws(
    cloud: RunningCloud,
    make_function: MakeFunction,
    files: dict[str, str],
    handler: str,
    error_type: str,
    fragment: str,
) -> None:
    """Syntax errors, a missing handler and a missing module come back as AWS reports them."""
    name = make_function("", files=files, handler=handler)
    response = invoke(cloud, name)
    assert response["FunctionError"] == "Unhandled"
    assert response["payload"]["errorType"] == error_type
    assert fragment in response["payload"]["errorMessage"]


def test_timeout_kills_the_handler(cloud: RunningCloud, make_function: MakeFunction) -> None:
    """A handler past its Timeout is stopped with 'Task timed out after N seconds'."""
    name = make_function(
        """
        import time
        def lambda_handler(event, context):
            if event.get("hang"):
                time.sleep(60)
            return "fine"
        """,
        Timeout=1,
    )
    started = time.monotonic()
    response = invoke(cloud, name, {"hang": True})
    assert time.monotonic() - started < 15
    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in response["payload"]["errorMessage"]
    assert invoke(cloud, name)["payload"] == "fine"


def test_exiting_or_crashing_handler_leaves_the_cloud_running(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """sys.exit and a hard crash fail the invocation, never the cloud."""
    name = make_function(
        """
        import os, sys
        def lambda_handler(event, context):
            if event.get("how") == "exit":
                sys.exit(3)
            if event.get("how") == "crash":
                os._exit(9)
            return "alive"
        """
    )
    for how in ("exit", "crash"):
        response = invoke(cloud, name, {"how": how})
        assert response["FunctionError"] == "Unhandled"
        assert response["payload"]["errorType"] == "Runtime.ExitError"
    assert invoke(cloud, name)["payload"] == "alive"
    assert cloud.client("dynamodb").list_tables() is not None


def test_logs_go_to_cloudwatch_with_start_end_report(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """print() output lands in /aws/lambda/NAME between START/END/REPORT lines."""
    name = make_function(
        """
        def lambda_handler(event, context):
            print("processing", event["n"])
            return None
        """
    )
    response = invoke(cloud, name, {"n": 7}, LogType="Tail")
    assert response["payload"] is None
    messages = log_messages(cloud, name)
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any("processing 7" in m for m in messages)
    assert any(m.startswith("END RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Duration:" in m for m in messages)
    import base64

    assert "processing 7" in base64.b64decode(response["LogResult"]).decode()


def test_reserved_concurrency_throttles_synchronous_invokes(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """With reserved concurrency 1 a second concurrent invoke gets TooManyRequestsException."""
    sqs = cloud.client("sqs")
    started = sqs.create_queue(QueueName="slow-started")["QueueUrl"]
    name = make_function(
        f"""
        import boto3, time
        def lambda_handler(event, context):
            if event.get("sleep"):
                boto3.client("sqs").send_message(QueueUrl="{started}", MessageBody="in")
                time.sleep(event["sleep"])
            return "done"
        """,
        Timeout=30,
    )
    client = cloud.client("lambda")
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    slow = threading.Thread(target=invoke, args=(cloud, name, {"sleep": 3}))
    slow.start()
    try:
        assert sqs.receive_message(QueueUrl=started, WaitTimeSeconds=20)["Messages"]
        with pytest.raises(ClientError) as raised:
            invoke(cloud, name)
        assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    finally:
        slow.join()
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        invoke(cloud, name)
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    client.delete_function_concurrency(FunctionName=name)
    assert invoke(cloud, name)["payload"] == "done"


def test_event_invocation_runs_in_the_background(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """InvocationType Event returns 202 at once and the function still runs."""
    table = "event-invoke-target"
    cloud.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    name = make_function(
        f"""
        import boto3
        def lambda_handler(event, context):
            boto3.client("dynamodb").put_item(TableName="{table}", Item={{"id": {{"S": "ran"}}}})
        """
    )
    response = cloud.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=b"{}"
    )
    assert response["StatusCode"] == 202
    cloud.wait_idle()
    assert cloud.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "ran"}})["Item"]


def test_sns_and_s3_invocations_run_in_the_runtime(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """An SNS subscription and an S3 notification invoke the function through the runtime
    (once its resource policy allows both, as AWS requires)."""
    sink = "notification-sink"
    cloud.client("sqs").create_queue(QueueName=sink)
    name = make_function(
        f"""
        import boto3, json
        def lambda_handler(event, context):
            record = event["Records"][0]
            source = record.get("EventSource") or record.get("eventSource")
            sqs = boto3.client("sqs")
            sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="{sink}")["QueueUrl"],
                             MessageBody=source)
        """
    )
    awslambda = cloud.client("lambda")
    arn = awslambda.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    for statement, principal, source in (
        ("sns", "sns.amazonaws.com", topic),
        ("s3", "s3.amazonaws.com", "arn:aws:s3:::counters"),
    ):
        awslambda.add_permission(
            FunctionName=name,
            StatementId=statement,
            Action="lambda:InvokeFunction",
            Principal=principal,
            SourceArn=source,
        )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="counters")
    s3.put_bucket_notification_configuration(
        Bucket="counters",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket="counters", Key="c.csv", Body=b"1")
    cloud.wait_idle()
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=sink)["QueueUrl"]
    bodies = {
        m["Body"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    }
    assert bodies == {"aws:sns", "aws:s3"}


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        ({"Runtime": "cobol85"}, "ValidationException", "runtime"),
        ({"Runtime": "python2.7"}, "InvalidParameterValueException", "no longer supported"),
        ({"Runtime": "nodejs20.x"}, "InvalidParameterValueException", "Python"),
        ({"Timeout": -1}, "ValidationException", "greater than or equal to 1"),
        ({"Timeout": 901}, "ValidationException", "less than or equal to 900"),
        ({"MemorySize": 64}, "ValidationException", "greater than or equal to 128"),
        ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException", "unzip"),
        (
            {"Role": "arn:aws:iam::123456789012:role/nobody"},
            "InvalidParameterValueException",
            "cannot be assumed",
        ),
        ({"Role": "ReduceLambdaRole"}, "ValidationException", "role"),
    ],
    ids=[
        "unknown-runtime",
        "old-runtime",
        "other-language",
        "negative-timeout",
        "long-timeout",
        "small-memory",
        "bad-zip",
        "missing-role",
        "role-not-an-arn",
    ],
)
def test_bad_function_settings_get_aws_errors(
    cloud: RunningCloud, role_arn: str, change: dict[str, Any], code: str, fragment: str
) -> None:
    """Bad create_function input gets AWS's error code and a clear message, never a 500."""
    request: dict[str, Any] = {
        "FunctionName": "bad-input",
        "Runtime": "python3.12",
        "Role": role_arn,
        "Handler": "lambda_function.lambda_handler",
        "Code": {"ZipFile": make_zip({"lambda_function.py": "def lambda_handler(e, c): pass"})},
    }
    request.update(change)
    # boto3 checks some ranges itself; switch that off so the cloud's own answer is tested.
    unchecked = cloud.client(
        "lambda", config=Config(parameter_validation=False, retries={"max_attempts": 0})
    )
    with pytest.raises(ClientError) as raised:
        unchecked.create_function(**request)
    assert raised.value.response["Error"]["Code"] == code
    assert fragment in raised.value.response["Error"]["Message"]


def test_invoking_a_missing_function_is_resource_not_found(cloud: RunningCloud) -> None:
    """Invoke of an unknown name is ResourceNotFoundException naming the function."""
    with pytest.raises(ClientError) as raised:
        invoke(cloud, "NoSuchFunction")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "NoSuchFunction" in raised.value.response["Error"]["Message"]


def test_update_code_takes_effect_on_next_invoke(
    cloud: RunningCloud, make_function: MakeFunction
) -> None:
    """UpdateFunctionCode retires warm workers so the new code runs next time."""
    name = make_function("def lambda_handler(e, c):\n    return 'v1'\n")
    assert invoke(cloud, name)["payload"] == "v1"
    cloud.client("lambda").update_function_code(
        FunctionName=name,
        ZipFile=make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return 'v2'\n"}),
    )
    assert invoke(cloud, name)["payload"] == "v2"
