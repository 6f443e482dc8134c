"""IAM: customer managed policies (with their versions) and roles (trust, attachments)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..plan import Call, Change
from ..resources import ManagedPolicy, Role, trust_policy
from ..state import PolicyState, RoleState, normalise_policy
from .context import Context, missing_tags, tag_list, unique

MAX_POLICY_VERSIONS = 5


def read(ctx: Context) -> tuple[dict[str, RoleState | None], dict[str, PolicyState | None]]:
    """The current state of every role and policy the desired or owned stack names."""
    roles = {r.name: ctx.reader.role(r.name) for r in unique(ctx.desired.roles, ctx.owned.roles)}
    policies = {
        p.name: ctx.reader.policy(p.name) for p in unique(ctx.desired.policies, ctx.owned.policies)
    }
    return roles, policies


# ----- removals ----------------------------------------------------------------------------
def remove_roles(ctx: Context, roles: Mapping[str, RoleState | None]) -> None:
    wanted = {r.name for r in ctx.desired.roles}
    for role in ctx.owned.roles:
        state = roles.get(role.name)
        if role.name in wanted or state is None:
            continue
        for arn in state.attached:
            ctx.remove_iam(
                "detach_role_policy",
                {"RoleName": role.name, "PolicyArn": arn},
                f"Detach {arn.rsplit('/', 1)[-1]} from role {role.name}",
                role.label,
            )
        for name in state.inline:
            ctx.remove_iam(
                "delete_role_policy",
                {"RoleName": role.name, "PolicyName": name},
                f"Delete inline policy {name} of role {role.name}",
                role.label,
            )
        ctx.remove_iam(
            "delete_role", {"RoleName": role.name}, f"Delete role {role.name}", role.label
        )


def remove_policies(
    ctx: Context, policies: Mapping[str, PolicyState | None], roles: Mapping[str, RoleState | None]
) -> None:
    wanted = {p.name for p in ctx.desired.policies}
    removed_roles = {r.name for r in ctx.owned.roles} - {r.name for r in ctx.desired.roles}
    for policy in ctx.owned.policies:
        state = policies.get(policy.name)
        if policy.name in wanted or state is None:
            continue
        for role in state.attached_roles:
            if role in removed_roles and roles.get(role) is not None:
                continue  # detached above, with the role
            ctx.remove_iam(
                "detach_role_policy",
                {"RoleName": role, "PolicyArn": state.arn},
                f"Detach {policy.name} from role {role}",
                policy.label,
            )
        for user in state.attached_users:
            ctx.remove_iam(
                "detach_user_policy",
                {"UserName": user, "PolicyArn": state.arn},
                f"Detach {policy.name} from user {user}",
                policy.label,
            )
        for group in state.attached_groups:
            ctx.remove_iam(
                "detach_group_policy",
                {"GroupName": group, "PolicyArn": state.arn},
                f"Detach {policy.name} from group {group}",
                policy.label,
            )
        for version in state.other_versions:
            ctx.remove_iam(
                "delete_policy_version",
                {"PolicyArn": state.arn, "VersionId": version},
                f"Delete version {version} of policy {policy.name}",
                policy.label,
            )
        ctx.remove_iam(
            "delete_policy", {"PolicyArn": state.arn}, f"Delete policy {policy.name}", policy.label
        )


# ----- creations and updates -----------------------------------------------------------------
def ensure_policies(ctx: Context, policies: Mapping[str, PolicyState | None]) -> None:
    for policy in ctx.desired.policies:
        _ensure_policy(ctx, policy, policies.get(policy.name))


def _ensure_policy(ctx: Context, policy: ManagedPolicy, state: PolicyState | None) -> None:
    document = policy.document.to_dict(ctx.env)
    if state is None:
        params: dict[str, Any] = {"PolicyName": policy.name, "PolicyDocument": json.dumps(document)}
        if policy.description:
            params["Description"] = policy.description
        if policy.tags:
            params["Tags"] = tag_list(policy.tags)
        ctx.add(
            Call(
                "iam",
                "create_policy",
                params,
                f"Create policy {policy.name}",
                policy.label,
                change="create",
            )
        )
        return
    if normalise_policy(document) != normalise_policy(state.document):
        if len(state.other_versions) + 1 >= MAX_POLICY_VERSIONS:
            oldest = state.other_versions[0]
            ctx.remove_iam(
                "delete_policy_version",
                {"PolicyArn": state.arn, "VersionId": oldest},
                f"Delete the oldest version ({oldest}) of policy {policy.name} "
                f"(a policy keeps at most {MAX_POLICY_VERSIONS})",
                policy.label,
                change="update",
            )
        ctx.add(
            Call(
                "iam",
                "create_policy_version",
                {
                    "PolicyArn": state.arn,
                    "PolicyDocument": json.dumps(document),
                    "SetAsDefault": True,
                },
                f"Update policy {policy.name} to the step's version",
                policy.label,
                change="update",
            )
        )
    missing = missing_tags(policy.tags, state.tags)
    if missing:
        ctx.add(
            Call(
                "iam",
                "tag_policy",
                {"PolicyArn": state.arn, "Tags": tag_list(missing)},
                f"Tag policy {policy.name}",
                policy.label,
                change="update",
            )
        )


def ensure_roles(ctx: Context, roles: Mapping[str, RoleState | None]) -> None:
    # Policies the lab manages that are attached but not meant for a role are detached from
    # it: the lab's own policies that stay (those that go were detached when they were
    # removed) and the other managed policies an owned role of that name may have.
    kept = {ctx.env.policy_arn(p.name) for p in ctx.desired.policies}
    owned = {r.name: r for r in ctx.owned.roles}
    for role in ctx.desired.roles:
        managed = set(kept)
        inline: set[str] = set()
        for known in (role, owned.get(role.name)):
            if known is not None:
                managed.update(ctx.env.fill(arn) for arn in known.managed_arns)
                inline.update(p.name for p in known.inline)
        _ensure_role(ctx, role, roles.get(role.name), managed, inline)


def _ensure_role(
    ctx: Context,
    role: Role,
    state: RoleState | None,
    managed_arns: set[str],
    managed_inline: set[str],
) -> None:
    trust = trust_policy(role.service)
    wanted_arns = [ctx.env.policy_arn(name) for name in role.policies]
    wanted_arns.extend(ctx.env.fill(arn) for arn in role.managed_arns)
    if state is None:
        params: dict[str, Any] = {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(trust),
        }
        if role.description:
            params["Description"] = role.description
        if role.tags:
            params["Tags"] = tag_list(role.tags)
        ctx.add(
            Call(
                "iam",
                "create_role",
                params,
                f"Create role {role.name}",
                role.label,
                change="create",
            )
        )
        attached: tuple[str, ...] = ()
    else:
        attached = state.attached
        if normalise_policy(trust) != normalise_policy(state.trust):
            ctx.add(
                Call(
                    "iam",
                    "update_assume_role_policy",
                    {"RoleName": role.name, "PolicyDocument": json.dumps(trust)},
                    f"Let {role.service} assume role {role.name}",
                    role.label,
                    change="update",
                )
            )
        missing = missing_tags(role.tags, state.tags)
        if missing:
            ctx.add(
                Call(
                    "iam",
                    "tag_role",
                    {"RoleName": role.name, "Tags": tag_list(missing)},
                    f"Tag role {role.name}",
                    role.label,
                    change="update",
                )
            )
    for arn in attached:
        if arn in managed_arns and arn not in wanted_arns:
            ctx.remove_iam(
                "detach_role_policy",
                {"RoleName": role.name, "PolicyArn": arn},
                f"Detach {arn.rsplit('/', 1)[-1]} from role {role.name}",
                role.label,
            )
    for arn in wanted_arns:
        if arn not in attached:
            ctx.add(
                Call(
                    "iam",
                    "attach_role_policy",
                    {"RoleName": role.name, "PolicyArn": arn},
                    f"Attach {arn.rsplit('/', 1)[-1]} to role {role.name}",
                    role.label,
                    change="create",
                )
            )
    _ensure_inline(ctx, role, state, managed_inline)


def _ensure_inline(
    ctx: Context, role: Role, state: RoleState | None, managed_inline: set[str]
) -> None:
    present = () if state is None else state.inline
    documents = {} if state is None else state.inline_documents
    wanted = {p.name for p in role.inline}
    for name in present:
        if name in managed_inline and name not in wanted:
            ctx.remove_iam(
                "delete_role_policy",
                {"RoleName": role.name, "PolicyName": name},
                f"Delete inline policy {name} of role {role.name}",
                role.label,
            )
    for policy in role.inline:
        document = policy.document.to_dict(ctx.env)
        if policy.name in present:
            current = documents.get(policy.name)
            if current is not None and normalise_policy(current) == normalise_policy(document):
                continue
            change: Change = "update"
            verb = "Update"
        else:
            change, verb = "create", "Put"
        ctx.add(
            Call(
                "iam",
                "put_role_policy",
                {
                    "RoleName": role.name,
                    "PolicyName": policy.name,
                    "PolicyDocument": json.dumps(document),
                },
                f"{verb} inline policy {policy.name} of role {role.name}",
                role.label,
                change=change,
            )
        )
