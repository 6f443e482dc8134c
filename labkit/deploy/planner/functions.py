"""Lambda functions (configuration, code, concurrency, tags) and their log groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..plan import Call, Change
from ..resources import Function
from ..state import FunctionState
from .context import Context, missing_tags, unique
from .waits import FUNCTION_BUSY, ROLE_NOT_READY, function_active, function_updated


def every_function(ctx: Context) -> list[Function]:
    """The functions of the desired stack, then the owned ones it lacks."""
    return unique(ctx.desired.functions, ctx.owned.functions)


def read(ctx: Context) -> dict[str, FunctionState | None]:
    return {f.name: ctx.reader.function(f.name) for f in every_function(ctx)}


# ----- removals ----------------------------------------------------------------------------
def remove_functions(ctx: Context, functions: Mapping[str, FunctionState | None]) -> None:
    wanted = {f.name for f in ctx.desired.functions}
    for function in ctx.owned.functions:
        if function.name in wanted or functions.get(function.name) is None:
            continue
        ctx.add(
            Call(
                "lambda",
                "delete_function",
                {"FunctionName": function.name},
                f"Delete function {function.name}",
                function.label,
                tolerate=("ResourceNotFoundException",),
                change="remove",
            )
        )


def remove_log_groups(ctx: Context) -> None:
    wanted = {g.name for g in ctx.desired.log_groups}
    for group in ctx.owned.log_groups:
        if group.name in wanted or ctx.reader.log_group(group.name) is None:
            continue
        ctx.add(
            Call(
                "logs",
                "delete_log_group",
                {"logGroupName": group.name},
                f"Delete log group {group.name}",
                group.label,
                tolerate=("ResourceNotFoundException",),
                change="remove",
            )
        )


# ----- creations and updates -----------------------------------------------------------------
def ensure_log_groups(ctx: Context) -> None:
    for group in ctx.desired.log_groups:
        current = ctx.reader.log_group(group.name)
        if current is None:
            params: dict[str, Any] = {"logGroupName": group.name}
            if group.tags:
                params["tags"] = dict(group.tags)
            ctx.add(
                Call(
                    "logs",
                    "create_log_group",
                    params,
                    f"Create log group {group.name}",
                    group.label,
                    tolerate=("ResourceAlreadyExistsException",),
                    change="create",
                )
            )
        if group.retention_days is not None and (
            current is None or current.retention_days != group.retention_days
        ):
            ctx.add(
                Call(
                    "logs",
                    "put_retention_policy",
                    {"logGroupName": group.name, "retentionInDays": group.retention_days},
                    f"Keep the logs of {group.name} for {group.retention_days} days",
                    group.label,
                    change="create" if current is None else "update",
                )
            )


def ensure_functions(ctx: Context, functions: Mapping[str, FunctionState | None]) -> None:
    for function in ctx.desired.functions:
        _ensure_function(ctx, function, functions.get(function.name))


def _config(ctx: Context, function: Function, state: FunctionState | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Role": ctx.env.role_arn(function.role),
        "Handler": function.handler,
        "Runtime": function.runtime,
        "Timeout": function.timeout,
        "MemorySize": function.memory_size,
        "Environment": {"Variables": {k: ctx.env.fill(v) for k, v in function.environment}},
    }
    if function.layers or (state is not None and state.layers):
        config["Layers"] = [ctx.env.fill(layer) for layer in function.layers]
    return config


def _config_differences(config: Mapping[str, Any], state: FunctionState) -> list[str]:
    current = {
        "Role": state.role,
        "Handler": state.handler,
        "Runtime": state.runtime,
        "Timeout": state.timeout,
        "MemorySize": state.memory_size,
        "Environment": {"Variables": dict(state.environment)},
        "Layers": list(state.layers),
    }
    return [key.lower() for key, value in config.items() if current.get(key) != value]


def _ensure_function(ctx: Context, function: Function, state: FunctionState | None) -> None:
    config = _config(ctx, function, state)
    if state is None:
        params: dict[str, Any] = {
            "FunctionName": function.name,
            "Code": {"ZipFile": function.code.zip_bytes},
            **config,
        }
        if function.description:
            params["Description"] = function.description
        if function.tags:
            params["Tags"] = dict(function.tags)
        ctx.add(
            Call(
                "lambda",
                "create_function",
                params,
                f"Create function {function.name} with {function.code.label} code",
                function.label,
                wait=function_active(function.name),
                retry=(ROLE_NOT_READY,),
                change="create",
            )
        )
        current_concurrency: int | None = None
    else:
        current_concurrency = state.reserved_concurrency
        differences = _config_differences(config, state)
        if differences:
            ctx.add(
                Call(
                    "lambda",
                    "update_function_configuration",
                    {"FunctionName": function.name, **config},
                    f"Update the configuration of {function.name} ({', '.join(differences)})",
                    function.label,
                    wait=function_updated(function.name),
                    retry=(ROLE_NOT_READY, FUNCTION_BUSY),
                    change="update",
                )
            )
        if state.code_sha256 != function.code.sha256:
            ctx.add(
                Call(
                    "lambda",
                    "update_function_code",
                    {"FunctionName": function.name, "ZipFile": function.code.zip_bytes},
                    f"Deploy the {function.code.label} code to {function.name}",
                    function.label,
                    wait=function_updated(function.name),
                    retry=(FUNCTION_BUSY,),
                    change="update",
                )
            )
        missing = missing_tags(function.tags, state.tags)
        if missing:
            ctx.add(
                Call(
                    "lambda",
                    "tag_resource",
                    {"Resource": state.arn, "Tags": dict(missing)},
                    f"Tag function {function.name}",
                    function.label,
                    change="update",
                )
            )
    _ensure_concurrency(ctx, function, current_concurrency, "create" if state is None else "update")


def _ensure_concurrency(
    ctx: Context, function: Function, current: int | None, change: Change
) -> None:
    wanted = function.reserved_concurrency
    if wanted == current:
        return
    if wanted is None:
        ctx.add(
            Call(
                "lambda",
                "delete_function_concurrency",
                {"FunctionName": function.name},
                f"Remove the reserved concurrency of {function.name}",
                function.label,
                change=change,
            )
        )
        return
    ctx.add(
        Call(
            "lambda",
            "put_function_concurrency",
            {"FunctionName": function.name, "ReservedConcurrentExecutions": wanted},
            f"Reserve a concurrency of {wanted} for {function.name}",
            function.label,
            change=change,
        )
    )
