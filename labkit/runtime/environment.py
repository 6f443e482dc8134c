"""A worker's environment variables, and the identity of a worker's configuration."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from labkit.runtime.spec import FunctionSpec

# Taken from the runtime's own process; nothing else of it leaks into a worker.
_INHERITED = ("PATH", "HOME", "SYSTEMROOT")
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def template_env(parent_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The basics every worker starts from (and the fork server's template runs with)."""
    parent = os.environ if parent_env is None else parent_env
    env: dict[str, str] = {name: parent[name] for name in _INHERITED if name in parent}
    env.setdefault("PATH", _DEFAULT_PATH)
    env["LANG"] = "en_US.UTF-8"
    # Lambda has no ~/.aws files and no instance metadata: a function must not pick up the
    # learner's own profiles or credentials through HOME, nor wait on a metadata lookup.
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["TZ"] = ":UTC"
    return env


def worker_env(
    spec: FunctionSpec,
    *,
    task_root: Path,
    runtime_dir: Path,
    log_stream: str,
    base_env: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
    parent_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build the environment as Lambda does. Later layers win: inherited basics, ``base_env``,
    the function's own variables, Lambda's reserved variables, then ``extra_env`` (the execution
    role's credentials)."""
    env = template_env(parent_env)
    env.update(base_env)
    env.update(spec.environment)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "TZ": ":UTC",
        }
    )
    if extra_env:
        env.update(extra_env)
    return env


def config_digest(spec: FunctionSpec, extra_env: Mapping[str, str] | None) -> str:
    """A short hash of everything that shapes a worker besides its code: a change of it means
    the function's existing workers are stale."""
    material = {
        "arn": spec.arn,
        "handler": spec.handler,
        "runtime": spec.runtime,
        "timeout": spec.timeout,
        "memory": spec.memory_size,
        "region": spec.region,
        "version": spec.version,
        "log_group": spec.log_group_name,
        "env": sorted(spec.environment.items()),
        "extra": sorted((extra_env or {}).items()),
    }
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:20]
