"""Lambda permissions: statements of a function's resource policy, by statement id.

A statement that differs is removed and added again (a statement cannot be edited); one an
owned permission names but the step does not want is removed. Statements the lab never made
(other statement ids) are left alone. A function that is deleted takes its policy with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..plan import Call, Change
from ..resources import Permission
from ..state import FunctionState, PermissionState
from .context import Context
from .functions import every_function
from .waits import FUNCTION_BUSY


def _wanted_state(ctx: Context, permission: Permission) -> PermissionState:
    return PermissionState(
        statement_id=permission.statement_id,
        principal=permission.principal,
        action=permission.action,
        source_arn=ctx.env.fill(permission.source_arn) if permission.source_arn else None,
        source_account=(
            ctx.env.fill(permission.source_account) if permission.source_account else None
        ),
    )


def _remove(ctx: Context, function: str, sid: str, reason: str, change: Change) -> None:
    ctx.add(
        Call(
            "lambda",
            "remove_permission",
            {"FunctionName": function, "StatementId": sid},
            f"Remove permission {sid} from {function} ({reason})",
            f"permission {sid} of {function}",
            retry=(FUNCTION_BUSY,),
            tolerate=("ResourceNotFoundException",),
            change=change,
        )
    )


def _add(ctx: Context, permission: Permission, change: Change) -> None:
    params: dict[str, Any] = {
        "FunctionName": permission.function,
        "StatementId": permission.statement_id,
        "Action": permission.action,
        "Principal": permission.principal,
    }
    source = ""
    if permission.source_arn is not None:
        params["SourceArn"] = ctx.env.fill(permission.source_arn)
        source = f" from {params['SourceArn'].rsplit(':', 1)[-1]}"
    if permission.source_account is not None:
        params["SourceAccount"] = ctx.env.fill(permission.source_account)
    ctx.add(
        Call(
            "lambda",
            "add_permission",
            params,
            f"Let {permission.principal} invoke {permission.function}{source} "
            f"(permission {permission.statement_id})",
            permission.label,
            retry=(FUNCTION_BUSY,),
            change=change,
        )
    )


def plan(ctx: Context, functions: Mapping[str, FunctionState | None]) -> None:
    """Add the permission calls to ``ctx`` (after the functions exist)."""
    deleted = {f.name for f in ctx.owned.functions} - {f.name for f in ctx.desired.functions}
    names = {f.name for f in every_function(ctx)}
    names.update(p.function for p in (*ctx.desired.permissions, *ctx.owned.permissions))
    for function in sorted(names):
        wanted = [p for p in ctx.desired.permissions if p.function == function]
        owned = {p.statement_id for p in ctx.owned.permissions if p.function == function}
        if function in deleted or not (wanted or owned):
            continue
        exists = functions.get(function) is not None or (
            function not in functions and ctx.reader.function(function) is not None
        )
        current = {s.statement_id: s for s in ctx.reader.permissions(function)} if exists else {}
        wanted_ids = {p.statement_id for p in wanted}
        for sid in sorted(owned - wanted_ids):
            if sid in current:
                _remove(ctx, function, sid, "the step does not use it", "remove")
        for permission in wanted:
            state = current.get(permission.statement_id)
            if state is None:
                _add(ctx, permission, "create")
            elif state != _wanted_state(ctx, permission):
                _remove(ctx, function, permission.statement_id, "it differs", "update")
                _add(ctx, permission, "update")
