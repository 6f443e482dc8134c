"""The planner: from "what exists" and "what a step needs" to an ordered list of API calls.

``plan_stack(desired, reader, owned=...)`` reads the current state through a
:class:`~labkit.deploy.state.StateReader` and returns a :class:`~labkit.deploy.plan.Plan`:

* what is missing is created, what differs is updated in place, what matches is left alone,
  so running a plan twice makes no calls the second time;
* whatever is in ``owned`` (every resource the lab may have) but not in ``desired`` is removed
  if it exists, which is how a step is reset and how teardown works (``desired`` empty);
* mappings of the lab's functions that the step does not want are removed, and duplicates of a
  wanted mapping are removed too (two mappings on one stream would count everything twice).

Order: removals first (mappings, functions, log groups, roles, policies, tables, streams),
then creations and updates (streams, tables, policies, roles, log groups, functions, items,
mappings), each followed by a wait where AWS needs time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .plan import Call, Capture, Plan, Ref, RetryOn, Wait
from .resources import (
    EventSourceMapping,
    Function,
    KinesisStream,
    ManagedPolicy,
    Role,
    Stack,
    Table,
    TableItem,
    Tags,
    trust_policy,
)
from .state import (
    FunctionState,
    MappingState,
    PolicyState,
    RoleState,
    StateReader,
    TableState,
    normalise_policy,
)

MAX_POLICY_VERSIONS = 5

ROLE_NOT_READY = RetryOn("InvalidParameterValueException", "cannot be assumed")
STREAM_NOT_READABLE = RetryOn("InvalidParameterValueException", "cannot access stream")
NO_PERMISSION_YET = RetryOn("InvalidParameterValueException", "does not have permission")
FUNCTION_BUSY = RetryOn("ResourceConflictException", "", "the function is still being updated")
TABLE_BUSY = RetryOn("ResourceInUseException", "", "the table is still changing")


# ----- waits ------------------------------------------------------------------------------------
def _table_active(name: str) -> Wait:
    return Wait("describe_table", {"TableName": name}, ("Table", "TableStatus"), ("ACTIVE",))


def _table_gone(name: str) -> Wait:
    return Wait(
        "describe_table",
        {"TableName": name},
        ("Table", "TableStatus"),
        gone="ResourceNotFoundException",
        what="deleted",
    )


def _stream_active(name: str) -> Wait:
    return Wait(
        "describe_stream_summary",
        {"StreamName": name},
        ("StreamDescriptionSummary", "StreamStatus"),
        ("ACTIVE",),
    )


def _stream_gone(name: str) -> Wait:
    return Wait(
        "describe_stream_summary",
        {"StreamName": name},
        ("StreamDescriptionSummary", "StreamStatus"),
        gone="ResourceNotFoundException",
        what="deleted",
    )


def _function_active(name: str) -> Wait:
    return Wait(
        "get_function_configuration",
        {"FunctionName": name},
        ("State",),
        ("Active",),
        ("Failed",),
        what="active",
    )


def _function_updated(name: str) -> Wait:
    return Wait(
        "get_function_configuration",
        {"FunctionName": name},
        ("LastUpdateStatus",),
        ("Successful",),
        ("Failed",),
        what="updated",
    )


def _mapping_ready(uuid: str | Ref) -> Wait:
    return Wait(
        "get_event_source_mapping",
        {"UUID": uuid},
        ("State",),
        ("Enabled", "Disabled"),
        what="enabled",
    )


def _mapping_gone(uuid: str) -> Wait:
    return Wait(
        "get_event_source_mapping",
        {"UUID": uuid},
        ("State",),
        gone="ResourceNotFoundException",
        what="deleted",
    )


# ----- helpers ----------------------------------------------------------------------------------
def _tag_list(tags: Tags) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def _missing_tags(wanted: Tags, current: Mapping[str, str]) -> Tags:
    return tuple((k, v) for k, v in wanted if current.get(k) != v)


def _attribute_value(value: int | str) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def _table_of_stream(arn: str) -> str | None:
    """``arn:aws:dynamodb:r:a:table/T/stream/label`` -> ``T``."""
    if ":dynamodb:" not in arn or "/stream/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0]


def _kinesis_name(arn: str) -> str | None:
    if ":kinesis:" not in arn or ":stream/" not in arn:
        return None
    return arn.split(":stream/", 1)[1]


@dataclass
class _TableDecision:
    table: Table
    current: TableState | None
    recreate: bool = False
    restream: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def stream_changes(self) -> bool:
        return self.current is None or self.recreate or self.restream


@dataclass
class _MappingWork:
    removals: list[tuple[MappingState, str]] = field(default_factory=list)
    updates: list[tuple[EventSourceMapping, MappingState]] = field(default_factory=list)
    creations: list[EventSourceMapping] = field(default_factory=list)


class _Planner:
    def __init__(self, desired: Stack, owned: Stack, reader: StateReader) -> None:
        self.desired = desired
        self.owned = owned
        self.reader = reader
        self.env = reader.environment
        self.calls: list[Call] = []
        self.notes: list[str] = []
        # The stream ARN each desired table will have once the plan ran: known or captured.
        self.stream_arns: dict[str, str | Ref | None] = {}

    # ----- entry point -------------------------------------------------------------------
    def build(self) -> list[Call]:
        tables = self._decide_tables()
        every_function = _unique_functions(self.desired, self.owned)
        functions = {f.name: self.reader.function(f.name) for f in every_function}
        mapping_work = self._decide_mappings(tables, functions)

        self._remove_mappings(mapping_work.removals)
        self._remove_functions(functions)
        self._remove_log_groups()
        every_role = _unique(self.desired.roles, self.owned.roles)
        roles = {r.name: self.reader.role(r.name) for r in every_role}
        policies = {
            p.name: self.reader.policy(p.name)
            for p in _unique(self.desired.policies, self.owned.policies)
        }
        self._remove_roles(roles)
        self._remove_policies(policies, roles)
        self._remove_tables(tables)
        self._remove_streams()

        self._ensure_streams()
        self._ensure_tables(tables)
        self._ensure_policies(policies)
        self._ensure_roles(roles)
        self._ensure_log_groups()
        self._ensure_functions(functions)
        self._ensure_items(tables)
        self._ensure_mappings(mapping_work)
        return self.calls

    def add(self, call: Call) -> None:
        self.calls.append(call)

    def _remove_iam(
        self, operation: str, params: dict[str, Any], description: str, label: str
    ) -> None:
        """An IAM removal; something already gone (NoSuchEntity) is fine."""
        self.add(Call("iam", operation, params, description, label, tolerate=("NoSuchEntity",)))

    # ----- decisions -----------------------------------------------------------------------
    def _decide_tables(self) -> dict[str, _TableDecision]:
        decisions: dict[str, _TableDecision] = {}
        for table in self.desired.tables:
            current = self.reader.table(table.name)
            decision = _TableDecision(table, current)
            if current is not None:
                if current.partition_key != table.partition_key:
                    decision.recreate = True
                    decision.reasons.append(
                        f"its key is {current.partition_key!r} but the lab needs "
                        f"{table.partition_key!r}: recreated, its items are lost"
                    )
                elif (current.stream_view or None) != (table.stream_view or None):
                    decision.restream = True
            decisions[table.name] = decision
            if current is not None and not decision.stream_changes:
                self.stream_arns[table.name] = current.stream_arn
            elif table.stream_view is not None:
                self.stream_arns[table.name] = Ref(f"{table.name}.LatestStreamArn")
            else:
                self.stream_arns[table.name] = None
        return decisions

    def _source_arn(self, mapping: EventSourceMapping) -> str | Ref | None:
        if mapping.source.kind == "kinesis":
            return self.env.kinesis_stream_arn(mapping.source.name)
        return self.stream_arns.get(mapping.source.name)

    def _decide_mappings(
        self, tables: Mapping[str, _TableDecision], functions: Mapping[str, FunctionState | None]
    ) -> _MappingWork:
        work = _MappingWork()
        wanted = {m.key: m for m in self.desired.mappings}
        changing_streams = {name for name, d in tables.items() if d.stream_changes}
        for function in _unique_functions(self.desired, self.owned):
            if functions.get(function.name) is None:
                existing: tuple[MappingState, ...] = ()
            else:
                existing = self.reader.mappings(function.name)
            matched: set[tuple[str, Any]] = set()
            for state in sorted(existing, key=lambda s: (s.state != "Enabled", s.uuid)):
                mapping = self._match(function.name, state, wanted)
                if mapping is None:
                    work.removals.append((state, "the step does not use it"))
                    continue
                table = _table_of_stream(state.source_arn)
                if table is not None and table in changing_streams:
                    work.removals.append((state, f"{table}'s stream is replaced"))
                    continue
                if table is not None and state.source_arn != self.stream_arns.get(table):
                    work.removals.append((state, f"it reads an old stream of {table}"))
                    continue
                if mapping.key in matched:
                    work.removals.append((state, "it duplicates another mapping on that stream"))
                    continue
                matched.add(mapping.key)
                if _mapping_differs(mapping, state):
                    work.updates.append((mapping, state))
            for key, mapping in wanted.items():
                if key[0] == function.name and key not in matched:
                    work.creations.append(mapping)
        return work

    def _match(
        self,
        function: str,
        state: MappingState,
        wanted: Mapping[tuple[str, Any], EventSourceMapping],
    ) -> EventSourceMapping | None:
        table = _table_of_stream(state.source_arn)
        stream = _kinesis_name(state.source_arn)
        for (name, source), mapping in wanted.items():
            if name != function:
                continue
            if source.kind == "dynamodb" and table == source.name:
                return mapping
            if (
                source.kind == "kinesis"
                and stream == source.name
                and state.source_arn == self.env.kinesis_stream_arn(source.name)
            ):
                return mapping
        return None

    # ----- removals ------------------------------------------------------------------------
    def _remove_mappings(self, removals: Iterable[tuple[MappingState, str]]) -> None:
        for state, reason in removals:
            source = _table_of_stream(state.source_arn) or _kinesis_name(state.source_arn) or "?"
            self.add(
                Call(
                    "lambda",
                    "delete_event_source_mapping",
                    {"UUID": state.uuid},
                    f"Remove the mapping {source} -> {state.function_name} ({reason})",
                    f"mapping {state.uuid}",
                    wait=_mapping_gone(state.uuid),
                    tolerate=("ResourceNotFoundException",),
                )
            )

    def _remove_functions(self, functions: Mapping[str, FunctionState | None]) -> None:
        wanted = {f.name for f in self.desired.functions}
        for function in self.owned.functions:
            if function.name in wanted or functions.get(function.name) is None:
                continue
            self.add(
                Call(
                    "lambda",
                    "delete_function",
                    {"FunctionName": function.name},
                    f"Delete function {function.name}",
                    function.label,
                    tolerate=("ResourceNotFoundException",),
                )
            )

    def _remove_log_groups(self) -> None:
        wanted = {g.name for g in self.desired.log_groups}
        for group in self.owned.log_groups:
            if group.name in wanted or self.reader.log_group(group.name) is None:
                continue
            self.add(
                Call(
                    "logs",
                    "delete_log_group",
                    {"logGroupName": group.name},
                    f"Delete log group {group.name}",
                    group.label,
                    tolerate=("ResourceNotFoundException",),
                )
            )

    def _remove_roles(self, roles: Mapping[str, RoleState | None]) -> None:
        wanted = {r.name for r in self.desired.roles}
        for role in self.owned.roles:
            state = roles.get(role.name)
            if role.name in wanted or state is None:
                continue
            for arn in state.attached:
                self._remove_iam(
                    "detach_role_policy",
                    {"RoleName": role.name, "PolicyArn": arn},
                    f"Detach {arn.rsplit('/', 1)[-1]} from role {role.name}",
                    role.label,
                )
            for name in state.inline:
                self._remove_iam(
                    "delete_role_policy",
                    {"RoleName": role.name, "PolicyName": name},
                    f"Delete inline policy {name} of role {role.name}",
                    role.label,
                )
            self._remove_iam(
                "delete_role", {"RoleName": role.name}, f"Delete role {role.name}", role.label
            )

    def _remove_policies(
        self, policies: Mapping[str, PolicyState | None], roles: Mapping[str, RoleState | None]
    ) -> None:
        wanted = {p.name for p in self.desired.policies}
        removed_roles = {r.name for r in self.owned.roles} - {r.name for r in self.desired.roles}
        for policy in self.owned.policies:
            state = policies.get(policy.name)
            if policy.name in wanted or state is None:
                continue
            for role in state.attached_roles:
                if role in removed_roles and roles.get(role) is not None:
                    continue  # detached above, with the role
                self._remove_iam(
                    "detach_role_policy",
                    {"RoleName": role, "PolicyArn": state.arn},
                    f"Detach {policy.name} from role {role}",
                    policy.label,
                )
            for user in state.attached_users:
                self._remove_iam(
                    "detach_user_policy",
                    {"UserName": user, "PolicyArn": state.arn},
                    f"Detach {policy.name} from user {user}",
                    policy.label,
                )
            for group in state.attached_groups:
                self._remove_iam(
                    "detach_group_policy",
                    {"GroupName": group, "PolicyArn": state.arn},
                    f"Detach {policy.name} from group {group}",
                    policy.label,
                )
            for version in state.other_versions:
                self._remove_iam(
                    "delete_policy_version",
                    {"PolicyArn": state.arn, "VersionId": version},
                    f"Delete version {version} of policy {policy.name}",
                    policy.label,
                )
            self._remove_iam(
                "delete_policy",
                {"PolicyArn": state.arn},
                f"Delete policy {policy.name}",
                policy.label,
            )

    def _remove_tables(self, decisions: Mapping[str, _TableDecision]) -> None:
        wanted = {t.name for t in self.desired.tables}
        for table in self.owned.tables:
            if table.name in wanted:
                continue
            if self.reader.table(table.name) is None:
                continue
            self._delete_table(table.name, f"Delete table {table.name} and its items")
        for decision in decisions.values():
            if decision.recreate:
                self._delete_table(
                    decision.table.name,
                    f"Delete table {decision.table.name} ({'; '.join(decision.reasons)})",
                )

    def _delete_table(self, name: str, description: str) -> None:
        self.add(
            Call(
                "dynamodb",
                "delete_table",
                {"TableName": name},
                description,
                f"table {name}",
                wait=_table_gone(name),
                retry=(TABLE_BUSY,),
                tolerate=("ResourceNotFoundException",),
            )
        )

    def _remove_streams(self) -> None:
        wanted = {s.name for s in self.desired.streams}
        for stream in self.owned.streams:
            if stream.name in wanted or self.reader.kinesis_stream(stream.name) is None:
                continue
            self.add(
                Call(
                    "kinesis",
                    "delete_stream",
                    {"StreamName": stream.name, "EnforceConsumerDeletion": True},
                    f"Delete Kinesis stream {stream.name}",
                    stream.label,
                    wait=_stream_gone(stream.name),
                    tolerate=("ResourceNotFoundException",),
                )
            )

    # ----- creations and updates -----------------------------------------------------------
    def _ensure_streams(self) -> None:
        for stream in self.desired.streams:
            self._ensure_stream(stream)

    def _ensure_stream(self, stream: KinesisStream) -> None:
        current = self.reader.kinesis_stream(stream.name)
        if current is None:
            self.add(
                Call(
                    "kinesis",
                    "create_stream",
                    {
                        "StreamName": stream.name,
                        "ShardCount": stream.shard_count,
                        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                    },
                    f"Create Kinesis stream {stream.name} ({stream.shard_count} shards)",
                    stream.label,
                    wait=_stream_active(stream.name),
                )
            )
            missing = stream.tags
            encrypted = False
        else:
            encrypted = current.encryption == "KMS"
            if current.shard_count != stream.shard_count:
                self.notes.append(
                    f"{stream.name} has {current.shard_count} shards (the lab would create "
                    f"{stream.shard_count}); it is kept as it is."
                )
            missing = _missing_tags(stream.tags, current.tags)
        if stream.kms_key is not None and not encrypted:
            self.add(
                Call(
                    "kinesis",
                    "start_stream_encryption",
                    {"StreamName": stream.name, "EncryptionType": "KMS", "KeyId": stream.kms_key},
                    f"Encrypt Kinesis stream {stream.name} with {stream.kms_key}",
                    stream.label,
                    wait=_stream_active(stream.name),
                )
            )
        if missing:
            self.add(
                Call(
                    "kinesis",
                    "add_tags_to_stream",
                    {"StreamName": stream.name, "Tags": dict(missing)},
                    f"Tag Kinesis stream {stream.name}",
                    stream.label,
                )
            )

    def _ensure_tables(self, decisions: Mapping[str, _TableDecision]) -> None:
        for decision in decisions.values():
            table = decision.table
            current = None if decision.recreate else decision.current
            if current is None:
                self._create_table(table)
                continue
            if current.billing_mode != "PAY_PER_REQUEST":
                self.add(
                    Call(
                        "dynamodb",
                        "update_table",
                        {"TableName": table.name, "BillingMode": "PAY_PER_REQUEST"},
                        f"Switch table {table.name} to on-demand capacity",
                        table.label,
                        wait=_table_active(table.name),
                        retry=(TABLE_BUSY,),
                    )
                )
            if decision.restream:
                self._restream(table, current)
            missing = _missing_tags(table.tags, current.tags)
            if missing:
                self.add(
                    Call(
                        "dynamodb",
                        "tag_resource",
                        {"ResourceArn": current.arn, "Tags": _tag_list(missing)},
                        f"Tag table {table.name}",
                        table.label,
                    )
                )

    def _create_table(self, table: Table) -> None:
        params: dict[str, Any] = {
            "TableName": table.name,
            "KeySchema": [{"AttributeName": table.partition_key, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": table.partition_key, "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        stream = ""
        if table.stream_view is not None:
            params["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": str(table.stream_view),
            }
            stream = f", stream {table.stream_view}"
        if table.tags:
            params["Tags"] = _tag_list(table.tags)
        capture = (
            (Capture(f"{table.name}.LatestStreamArn", ("TableDescription", "LatestStreamArn")),)
            if table.stream_view is not None
            else ()
        )
        self.add(
            Call(
                "dynamodb",
                "create_table",
                params,
                f"Create table {table.name} (key {table.partition_key}{stream}, on-demand)",
                table.label,
                capture=capture,
                wait=_table_active(table.name),
                retry=(TABLE_BUSY,),
            )
        )

    def _restream(self, table: Table, current: TableState) -> None:
        if current.stream_view is not None:
            self.add(
                Call(
                    "dynamodb",
                    "update_table",
                    {"TableName": table.name, "StreamSpecification": {"StreamEnabled": False}},
                    f"Turn off the {current.stream_view} stream of {table.name}",
                    table.label,
                    wait=_table_active(table.name),
                    retry=(TABLE_BUSY,),
                )
            )
        if table.stream_view is None:
            return
        self.add(
            Call(
                "dynamodb",
                "update_table",
                {
                    "TableName": table.name,
                    "StreamSpecification": {
                        "StreamEnabled": True,
                        "StreamViewType": str(table.stream_view),
                    },
                },
                f"Turn on a {table.stream_view} stream on {table.name}",
                table.label,
                capture=(
                    Capture(
                        f"{table.name}.LatestStreamArn", ("TableDescription", "LatestStreamArn")
                    ),
                ),
                wait=_table_active(table.name),
                retry=(TABLE_BUSY,),
            )
        )

    def _ensure_policies(self, policies: Mapping[str, PolicyState | None]) -> None:
        for policy in self.desired.policies:
            self._ensure_policy(policy, policies.get(policy.name))

    def _ensure_policy(self, policy: ManagedPolicy, state: PolicyState | None) -> None:
        document = policy.document.to_dict(self.env)
        if state is None:
            params: dict[str, Any] = {
                "PolicyName": policy.name,
                "PolicyDocument": json.dumps(document),
            }
            if policy.description:
                params["Description"] = policy.description
            if policy.tags:
                params["Tags"] = _tag_list(policy.tags)
            self.add(
                Call("iam", "create_policy", params, f"Create policy {policy.name}", policy.label)
            )
            return
        if normalise_policy(document) != normalise_policy(state.document):
            if len(state.other_versions) + 1 >= MAX_POLICY_VERSIONS:
                oldest = state.other_versions[0]
                self._remove_iam(
                    "delete_policy_version",
                    {"PolicyArn": state.arn, "VersionId": oldest},
                    f"Delete the oldest version ({oldest}) of policy {policy.name} "
                    f"(a policy keeps at most {MAX_POLICY_VERSIONS})",
                    policy.label,
                )
            self.add(
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
                )
            )
        missing = _missing_tags(policy.tags, state.tags)
        if missing:
            self.add(
                Call(
                    "iam",
                    "tag_policy",
                    {"PolicyArn": state.arn, "Tags": _tag_list(missing)},
                    f"Tag policy {policy.name}",
                    policy.label,
                )
            )

    def _ensure_roles(self, roles: Mapping[str, RoleState | None]) -> None:
        # Lab policies that stay but are not meant for a role are detached from it; policies
        # that go were detached when they were removed.
        kept = {self.env.policy_arn(p.name) for p in self.desired.policies}
        for role in self.desired.roles:
            self._ensure_role(role, roles.get(role.name), kept)

    def _ensure_role(self, role: Role, state: RoleState | None, kept_arns: set[str]) -> None:
        trust = trust_policy(role.service)
        wanted_arns = [self.env.policy_arn(name) for name in role.policies]
        if state is None:
            params: dict[str, Any] = {
                "RoleName": role.name,
                "AssumeRolePolicyDocument": json.dumps(trust),
            }
            if role.description:
                params["Description"] = role.description
            if role.tags:
                params["Tags"] = _tag_list(role.tags)
            self.add(Call("iam", "create_role", params, f"Create role {role.name}", role.label))
            attached: tuple[str, ...] = ()
        else:
            attached = state.attached
            if normalise_policy(trust) != normalise_policy(state.trust):
                self.add(
                    Call(
                        "iam",
                        "update_assume_role_policy",
                        {"RoleName": role.name, "PolicyDocument": json.dumps(trust)},
                        f"Let {role.service} assume role {role.name}",
                        role.label,
                    )
                )
            missing = _missing_tags(role.tags, state.tags)
            if missing:
                self.add(
                    Call(
                        "iam",
                        "tag_role",
                        {"RoleName": role.name, "Tags": _tag_list(missing)},
                        f"Tag role {role.name}",
                        role.label,
                    )
                )
        for arn in attached:
            if arn in kept_arns and arn not in wanted_arns:
                self._remove_iam(
                    "detach_role_policy",
                    {"RoleName": role.name, "PolicyArn": arn},
                    f"Detach {arn.rsplit('/', 1)[-1]} from role {role.name}",
                    role.label,
                )
        for arn in wanted_arns:
            if arn not in attached:
                self.add(
                    Call(
                        "iam",
                        "attach_role_policy",
                        {"RoleName": role.name, "PolicyArn": arn},
                        f"Attach {arn.rsplit('/', 1)[-1]} to role {role.name}",
                        role.label,
                    )
                )

    def _ensure_log_groups(self) -> None:
        for group in self.desired.log_groups:
            current = self.reader.log_group(group.name)
            if current is None:
                params: dict[str, Any] = {"logGroupName": group.name}
                if group.tags:
                    params["tags"] = dict(group.tags)
                self.add(
                    Call(
                        "logs",
                        "create_log_group",
                        params,
                        f"Create log group {group.name}",
                        group.label,
                        tolerate=("ResourceAlreadyExistsException",),
                    )
                )
            if group.retention_days is not None and (
                current is None or current.retention_days != group.retention_days
            ):
                self.add(
                    Call(
                        "logs",
                        "put_retention_policy",
                        {"logGroupName": group.name, "retentionInDays": group.retention_days},
                        f"Keep the logs of {group.name} for {group.retention_days} days",
                        group.label,
                    )
                )

    def _ensure_functions(self, functions: Mapping[str, FunctionState | None]) -> None:
        for function in self.desired.functions:
            self._ensure_function(function, functions.get(function.name))

    def _function_config(self, function: Function) -> dict[str, Any]:
        return {
            "Role": self.env.role_arn(function.role),
            "Handler": function.handler,
            "Runtime": function.runtime,
            "Timeout": function.timeout,
            "MemorySize": function.memory_size,
            "Environment": {"Variables": dict(function.environment)},
        }

    def _ensure_function(self, function: Function, state: FunctionState | None) -> None:
        config = self._function_config(function)
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
            self.add(
                Call(
                    "lambda",
                    "create_function",
                    params,
                    f"Create function {function.name} with {function.code.label} code",
                    function.label,
                    wait=_function_active(function.name),
                    retry=(ROLE_NOT_READY,),
                )
            )
            current_concurrency: int | None = None
        else:
            current_concurrency = state.reserved_concurrency
            differences = _config_differences(config, state)
            if differences:
                self.add(
                    Call(
                        "lambda",
                        "update_function_configuration",
                        {"FunctionName": function.name, **config},
                        f"Update the configuration of {function.name} ({', '.join(differences)})",
                        function.label,
                        wait=_function_updated(function.name),
                        retry=(ROLE_NOT_READY, FUNCTION_BUSY),
                    )
                )
            if state.code_sha256 != function.code.sha256:
                self.add(
                    Call(
                        "lambda",
                        "update_function_code",
                        {"FunctionName": function.name, "ZipFile": function.code.zip_bytes},
                        f"Deploy the {function.code.label} code to {function.name}",
                        function.label,
                        wait=_function_updated(function.name),
                        retry=(FUNCTION_BUSY,),
                    )
                )
            missing = _missing_tags(function.tags, state.tags)
            if missing:
                self.add(
                    Call(
                        "lambda",
                        "tag_resource",
                        {"Resource": state.arn, "Tags": dict(missing)},
                        f"Tag function {function.name}",
                        function.label,
                    )
                )
        wanted = function.reserved_concurrency
        if wanted != current_concurrency:
            if wanted is None:
                self.add(
                    Call(
                        "lambda",
                        "delete_function_concurrency",
                        {"FunctionName": function.name},
                        f"Remove the reserved concurrency of {function.name}",
                        function.label,
                    )
                )
            else:
                self.add(
                    Call(
                        "lambda",
                        "put_function_concurrency",
                        {"FunctionName": function.name, "ReservedConcurrentExecutions": wanted},
                        f"Reserve a concurrency of {wanted} for {function.name}",
                        function.label,
                    )
                )

    def _ensure_items(self, decisions: Mapping[str, _TableDecision]) -> None:
        for item in self.desired.items:
            decision = decisions.get(item.table)
            if decision is None:
                continue  # the step has no such table
            fresh = decision.current is None or decision.recreate
            current = None if fresh else self.reader.item(item.table, item.key_name, item.key_value)
            if current is not None and all(current.get(k) == v for k, v in item.attributes):
                continue
            self.add(_put_item_call(item))

    def _ensure_mappings(self, work: _MappingWork) -> None:
        for mapping, state in work.updates:
            self.add(
                Call(
                    "lambda",
                    "update_event_source_mapping",
                    {"UUID": state.uuid, **_mapping_settings(mapping), "Enabled": True},
                    f"Update the {mapping.label} ({_mapping_summary(mapping)})",
                    mapping.label,
                    wait=_mapping_ready(state.uuid),
                    retry=(STREAM_NOT_READABLE, NO_PERMISSION_YET),
                )
            )
        for mapping in work.creations:
            source = self._source_arn(mapping)
            if source is None:
                self.notes.append(
                    f"{mapping.label} needs a stream on {mapping.source.name}, which the step "
                    "does not have; skipped."
                )
                continue
            uuid = Ref(f"mapping:{mapping.function}:{mapping.source.name}")
            self.add(
                Call(
                    "lambda",
                    "create_event_source_mapping",
                    {
                        "FunctionName": mapping.function,
                        "EventSourceArn": source,
                        "StartingPosition": mapping.starting_position,
                        "Enabled": True,
                        **_mapping_settings(mapping),
                    },
                    f"Connect {mapping.source.describe()} to {mapping.function} "
                    f"({_mapping_summary(mapping)})",
                    mapping.label,
                    capture=(Capture(uuid.name, ("UUID",)),),
                    wait=_mapping_ready(uuid),
                    retry=(STREAM_NOT_READABLE, NO_PERMISSION_YET),
                )
            )


def _put_item_call(item: TableItem) -> Call:
    names = {f"#a{i}": name for i, (name, _) in enumerate(item.attributes)}
    values = {f":v{i}": _attribute_value(value) for i, (_, value) in enumerate(item.attributes)}
    assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(item.attributes)))
    shown = ", ".join(f"{k}={v}" for k, v in item.attributes)
    return Call(
        "dynamodb",
        "update_item",
        {
            "TableName": item.table,
            "Key": {item.key_name: {"S": item.key_value}},
            "UpdateExpression": f"SET {assignments}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        },
        f"Set {item.key_value} in {item.table} ({shown})",
        item.label,
    )


def _mapping_settings(mapping: EventSourceMapping) -> dict[str, Any]:
    return {
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": mapping.maximum_batching_window,
        "ParallelizationFactor": mapping.parallelization_factor,
        "MaximumRetryAttempts": mapping.maximum_retry_attempts,
        "BisectBatchOnFunctionError": mapping.bisect_on_error,
    }


def _mapping_summary(mapping: EventSourceMapping) -> str:
    parts = [f"batch size {mapping.batch_size}"]
    if mapping.maximum_batching_window:
        parts.append(f"window {mapping.maximum_batching_window} s")
    if mapping.parallelization_factor != 1:
        parts.append(f"parallelization {mapping.parallelization_factor}")
    parts.append(mapping.starting_position)
    return ", ".join(parts)


def _mapping_differs(mapping: EventSourceMapping, state: MappingState) -> bool:
    return (
        state.state not in {"Enabled", "Enabling", "Creating", "Updating"}
        or state.batch_size != mapping.batch_size
        or state.maximum_batching_window != mapping.maximum_batching_window
        or state.parallelization_factor != mapping.parallelization_factor
        or state.maximum_retry_attempts != mapping.maximum_retry_attempts
        or state.bisect_on_error != mapping.bisect_on_error
    )


def _config_differences(config: Mapping[str, Any], state: FunctionState) -> list[str]:
    current = {
        "Role": state.role,
        "Handler": state.handler,
        "Runtime": state.runtime,
        "Timeout": state.timeout,
        "MemorySize": state.memory_size,
        "Environment": {"Variables": dict(state.environment)},
    }
    return [key.lower() for key, value in config.items() if current.get(key) != value]


def _unique(*groups: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item.name, item)
    return list(seen.values())


def _unique_functions(desired: Stack, owned: Stack) -> list[Function]:
    return _unique(desired.functions, owned.functions)


def plan_stack(
    desired: Stack, reader: StateReader, *, owned: Stack | None = None, title: str = "plan"
) -> Plan:
    """The calls that turn what ``reader`` sees into ``desired``.

    Resources in ``owned`` that ``desired`` lacks are removed if they exist; by default
    ``owned`` is ``desired`` itself (nothing is removed).
    """
    planner = _Planner(desired, owned if owned is not None else desired, reader)
    calls = planner.build()
    return Plan(title, tuple(calls), tuple(planner.notes))
