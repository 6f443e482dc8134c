"""Failures of the function's code come back in AWS's error shape."""

from __future__ import annotations

from labkit.runtime import Runtime

from .conftest import MakeSpec, messages, payload


def test_raised_exception_has_aws_shape(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A raised exception gives Unhandled with errorMessage, errorType, requestId, stackTrace."""
    spec = make_spec(
        "def helper():\n"
        "    raise ValueError('bad trade')\n"
        "def lambda_handler(event, context):\n"
        "    helper()\n"
    )
    result = runtime.invoke(spec, b"{}")
    body = payload(result)
    assert result.function_error == "Unhandled"
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "bad trade"
    assert body["errorType"] == "ValueError"
    assert body["requestId"] == result.request_id
    assert len(body["stackTrace"]) == 2
    assert body["stackTrace"][0].startswith('  File "')
    assert 'lambda_function.py", line 4, in lambda_handler' in body["stackTrace"][0]
    assert "in helper" in body["stackTrace"][1]
    error_line = next(m for m in messages(result.log_lines) if m.startswith("[ERROR]"))
    assert error_line.startswith(
        "[ERROR] ValueError: bad trade\nTraceback (most recent call last):"
    )
    assert messages(result.log_lines)[-2] == f"END RequestId: {result.request_id}"


def test_worker_survives_a_raised_exception(runtime: Runtime, make_spec: MakeSpec) -> None:
    """An exception fails only that invocation; the same warm worker serves the next one."""
    spec = make_spec(
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    if event.get('fail'):\n"
        "        raise KeyError('k')\n"
        "    return os.getpid()\n"
    )
    pid = payload(runtime.invoke(spec, b"{}"))
    assert payload(runtime.invoke(spec, b'{"fail": true}'))["errorType"] == "KeyError"
    assert payload(runtime.invoke(spec, b"{}")) == pid


def test_syntax_error(runtime: Runtime, make_spec: MakeSpec) -> None:
    """Broken syntax is Runtime.UserCodeSyntaxError naming the module and the line."""
    spec = make_spec("x = 1\n\ndef lambda_handler(event, context)\n    return 1\n")
    result = runtime.invoke(spec, b"{}")
    body = payload(result)
    assert result.function_error == "Unhandled"
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'lambda_function': ")
    assert "(lambda_function.py, line 3)" in body["errorMessage"]
    assert "Line 3" in body["stackTrace"][0]
    assert result.init_duration_ms is not None


def test_missing_module(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A zip without the handler's file is Runtime.ImportModuleError."""
    spec = make_spec(files={"readme.txt": "no code here"})
    body = payload(runtime.invoke(spec, b"{}"))
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == (
        "Unable to import module 'lambda_function': No module named 'lambda_function'"
    )


def test_missing_dependency(runtime: Runtime, make_spec: MakeSpec) -> None:
    """An import the code itself cannot satisfy is Runtime.ImportModuleError too."""
    body = payload(runtime.invoke(make_spec("import requestz\n"), b"{}"))
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == (
        "Unable to import module 'lambda_function': No module named 'requestz'"
    )


def test_handler_missing(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A module without the named function is Runtime.HandlerNotFound."""
    spec = make_spec("def other(event, context):\n    return 1\n", handler="lambda_function.foo")
    body = payload(runtime.invoke(spec, b"{}"))
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'foo' missing on module 'lambda_function'"


def test_malformed_handler(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A handler string without a dot is Runtime.MalformedHandlerName."""
    body = payload(runtime.invoke(make_spec(handler="x"), b"{}"))
    assert body["errorType"] == "Runtime.MalformedHandlerName"
    assert (
        body["errorMessage"] == "Bad handler 'x': not enough values to unpack (expected 2, got 1)"
    )


def test_error_at_import_time(runtime: Runtime, make_spec: MakeSpec) -> None:
    """An exception raised while importing the module reports its own type and message."""
    body = payload(runtime.invoke(make_spec("raise RuntimeError('no config')\n"), b"{}"))
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "no config"
    assert any("lambda_function.py" in frame for frame in body["stackTrace"])


def test_init_errors_are_reported_on_every_invoke(runtime: Runtime, make_spec: MakeSpec) -> None:
    """While the code stays broken, each invoke retries init (cold) and reports the error."""
    spec = make_spec("import requestz\n")
    for _ in range(2):
        result = runtime.invoke(spec, b"{}")
        assert payload(result)["errorType"] == "Runtime.ImportModuleError"
        assert result.init_duration_ms is not None
        lines = messages(result.log_lines)
        assert lines[0].startswith("INIT_START")
        assert lines[1].startswith("[ERROR] Runtime.ImportModuleError: Unable to import module")
        assert any(line.startswith("INIT_REPORT Init Duration:") for line in lines)
        assert lines[-1].startswith(f"REPORT RequestId: {result.request_id}")
    assert runtime.stats()["fn"]["warm_workers"] == 0


def test_unserialisable_result(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A return value json cannot encode is Runtime.MarshalError."""
    spec = make_spec("def lambda_handler(event, context):\n    return {1, 2}\n")
    body = payload(runtime.invoke(spec, b"{}"))
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


def test_invalid_json_payload(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A payload that is not JSON fails cleanly with Runtime.UnmarshalError."""
    body = payload(runtime.invoke(make_spec(), b"{not json"))
    assert body["errorType"] == "Runtime.UnmarshalError"
    assert body["errorMessage"].startswith("Unable to unmarshal input: ")


def test_oversized_response(runtime: Runtime, make_spec: MakeSpec) -> None:
    """A response over 6 MB is Function.ResponseSizeTooLarge."""
    spec = make_spec("def lambda_handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n")
    body = payload(runtime.invoke(spec, b"{}"))
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
