"""The planner turns "what exists" and "what is wanted" into the right calls, in order."""

from __future__ import annotations

import dataclasses
import json

from labkit.deploy.packaging import Package
from labkit.deploy.plan import Ref
from labkit.deploy.planner import plan_stack
from labkit.deploy.resources import (
    EventSourceMapping,
    PolicyDocument,
    Stack,
    Statement,
    StreamSource,
    StreamView,
)
from labkit.deploy.state import MappingState

from .conftest import ENV, STREAM_ARN, FakeReader, reader_for, small_stack


def ops(plan: object) -> list[str]:
    return [call.api for call in plan]  # type: ignore[attr-defined]


def test_empty_account_creates_everything_in_dependency_order() -> None:
    """On an empty account every resource is created: streams and tables before the roles'
    functions, items after their table, mappings last."""
    plan = plan_stack(small_stack(), FakeReader())
    assert ops(plan) == [
        "kinesis.create_stream",
        "kinesis.start_stream_encryption",
        "kinesis.add_tags_to_stream",
        "dynamodb.create_table",
        "dynamodb.create_table",
        "iam.create_policy",
        "iam.create_role",
        "iam.attach_role_policy",
        "lambda.create_function",
        "dynamodb.update_item",
        "lambda.create_event_source_mapping",
    ]


def test_mapping_on_a_new_table_uses_the_captured_stream_arn() -> None:
    """A mapping on a table created by the same plan refers to the ARN captured from
    create_table, and waits for the mapping to be enabled by its captured UUID."""
    plan = plan_stack(small_stack(), FakeReader())
    create = next(c for c in plan if c.operation == "create_table")
    mapping = next(c for c in plan if c.operation == "create_event_source_mapping")
    assert create.capture[0].path == ("TableDescription", "LatestStreamArn")
    assert mapping.params["EventSourceArn"] == Ref(create.capture[0].name)
    assert mapping.wait is not None and isinstance(mapping.wait.params["UUID"], Ref)


def test_second_plan_is_empty_when_everything_matches() -> None:
    """Planning against a state that already matches makes no calls at all."""
    stack = small_stack()
    plan = plan_stack(stack, reader_for(stack))
    assert plan.empty, plan.lines()


def test_changed_code_updates_only_the_code() -> None:
    """New code is deployed with update_function_code (and a wait), nothing else changes."""
    reader = reader_for(small_stack())
    plan = plan_stack(small_stack(code=b"print('v2')\n"), reader)
    assert ops(plan) == ["lambda.update_function_code"]
    assert plan.calls[0].wait is not None and plan.calls[0].wait.ready == ("Successful",)


def test_changed_configuration_is_updated_in_place() -> None:
    """A different timeout is one update_function_configuration naming what differs."""
    stack = small_stack()
    function = dataclasses.replace(stack.functions[0], timeout=60)
    plan = plan_stack(dataclasses.replace(stack, functions=(function,)), reader_for(stack))
    assert ops(plan) == ["lambda.update_function_configuration"]
    assert "timeout" in plan.calls[0].description


def test_reserved_concurrency_is_put_and_removed() -> None:
    """Reserved concurrency is put when wanted and deleted when the step has none."""
    stack = small_stack()
    reserved = dataclasses.replace(stack.functions[0], reserved_concurrency=1)
    with_one = dataclasses.replace(stack, functions=(reserved,))
    assert ops(plan_stack(with_one, reader_for(stack))) == ["lambda.put_function_concurrency"]
    assert ops(plan_stack(stack, reader_for(with_one))) == ["lambda.delete_function_concurrency"]


def test_changed_policy_gets_a_new_default_version() -> None:
    """A different policy document becomes a new default version of the same policy."""
    stack = small_stack()
    reader = reader_for(stack)
    wider = dataclasses.replace(
        stack.policies[0],
        document=PolicyDocument(
            (
                *stack.policies[0].document.statements,
                Statement("Read", ("dynamodb:GetItem",), ("*",)),
            )
        ),
    )
    plan = plan_stack(dataclasses.replace(stack, policies=(wider,)), reader)
    assert ops(plan) == ["iam.create_policy_version"]
    assert plan.calls[0].params["SetAsDefault"] is True
    assert len(json.loads(plan.calls[0].params["PolicyDocument"])["Statement"]) == 2


def test_policy_with_five_versions_loses_its_oldest_first() -> None:
    """IAM keeps five versions: the oldest non-default one is deleted before adding one."""
    stack = small_stack()
    reader = reader_for(stack)
    state = reader.policies["FnPolicy"]
    reader.policies["FnPolicy"] = dataclasses.replace(
        state,
        document={"Version": "2012-10-17", "Statement": []},
        other_versions=("v1", "v2", "v3", "v4"),
        default_version="v5",
    )
    plan = plan_stack(stack, reader)
    assert ops(plan) == ["iam.delete_policy_version", "iam.create_policy_version"]
    assert plan.calls[0].params["VersionId"] == "v1"


def test_equivalent_policy_text_is_not_rewritten() -> None:
    """A policy that differs only in list order or string-vs-list form is left alone."""
    stack = small_stack()
    reader = reader_for(stack)
    document = stack.policies[0].document.to_dict(ENV)
    document["Statement"][0]["Action"] = [document["Statement"][0]["Action"]]
    reader.policies["FnPolicy"] = dataclasses.replace(
        reader.policies["FnPolicy"], document=document
    )
    assert plan_stack(stack, reader).empty


def test_changed_mapping_settings_are_updated_by_uuid() -> None:
    """A different batch size updates the existing mapping instead of creating another."""
    reader = reader_for(small_stack())
    plan = plan_stack(small_stack(batch=1000), reader)
    assert ops(plan) == ["lambda.update_event_source_mapping"]
    assert plan.calls[0].params["UUID"] == "uuid-0"
    assert plan.calls[0].params["BatchSize"] == 1000


def test_duplicate_mappings_are_removed() -> None:
    """A second mapping from the same stream to the same function would count everything
    twice: it is removed and the first one kept."""
    stack = small_stack()
    reader = reader_for(stack)
    first = reader.function_mappings["Fn"][0]
    reader.function_mappings["Fn"] = (first, dataclasses.replace(first, uuid="uuid-dup"))
    plan = plan_stack(stack, reader)
    assert ops(plan) == ["lambda.delete_event_source_mapping"]
    assert plan.calls[0].params == {"UUID": "uuid-dup"}
    assert "duplicates" in plan.calls[0].description


def test_unwanted_mapping_of_a_lab_function_is_removed() -> None:
    """A mapping the step does not have (a later step's) is removed when resetting."""
    stack = small_stack()
    reader = reader_for(stack)
    plan = plan_stack(dataclasses.replace(stack, mappings=()), reader, owned=stack)
    assert ops(plan) == ["lambda.delete_event_source_mapping"]
    assert plan.calls[0].wait is not None and plan.calls[0].wait.gone == "ResourceNotFoundException"


def test_stream_view_change_replaces_the_stream_and_its_mappings() -> None:
    """A different stream view turns the stream off and on again; mappings of the old
    stream are removed and recreated on the new one."""
    stack = small_stack()
    reader = reader_for(stack)
    table = dataclasses.replace(stack.tables[0], stream_view=StreamView.NEW_AND_OLD_IMAGES)
    wanted = dataclasses.replace(stack, tables=(table, stack.tables[1]))
    plan = plan_stack(wanted, reader)
    assert ops(plan) == [
        "lambda.delete_event_source_mapping",
        "dynamodb.update_table",
        "dynamodb.update_table",
        "lambda.create_event_source_mapping",
    ]
    assert plan.calls[1].params["StreamSpecification"] == {"StreamEnabled": False}
    assert plan.calls[3].params["EventSourceArn"] == Ref("Items.LatestStreamArn")


def test_table_with_a_wrong_key_is_recreated() -> None:
    """A table with another key cannot be changed: it is deleted (waiting until it is gone)
    and created again, and the plan says its items are lost."""
    stack = small_stack()
    reader = reader_for(stack)
    reader.tables["Items"] = dataclasses.replace(reader.tables["Items"], partition_key="pk")
    plan = plan_stack(stack, reader)
    assert ops(plan)[:3] == [
        "lambda.delete_event_source_mapping",
        "dynamodb.delete_table",
        "dynamodb.create_table",
    ]
    assert "items are lost" in plan.calls[1].description
    assert ops(plan)[-1] == "lambda.create_event_source_mapping"


def test_item_with_another_value_is_set() -> None:
    """A ParameterTable item with another value is set with update_item (other attributes
    of the item are kept)."""
    stack = small_stack()
    reader = reader_for(stack)
    reader.items[("Settings", "RATE")] = {"parameter": "RATE", "value": 0, "note": "x"}
    plan = plan_stack(stack, reader)
    assert ops(plan) == ["dynamodb.update_item"]
    assert plan.calls[0].params["UpdateExpression"] == "SET #a0 = :v0"
    assert plan.calls[0].params["ExpressionAttributeValues"] == {":v0": {"N": "5"}}


def test_missing_tags_are_added() -> None:
    """A resource without the lab's tag gets it (tables, roles, functions)."""
    stack = small_stack()
    reader = reader_for(stack)
    reader.tables["Items"] = dataclasses.replace(reader.tables["Items"], tags={})
    reader.roles["FnRole"] = dataclasses.replace(reader.roles["FnRole"], tags={})
    assert ops(plan_stack(stack, reader)) == ["dynamodb.tag_resource", "iam.tag_role"]


def test_teardown_removes_in_a_safe_order() -> None:
    """Teardown: mappings, functions, roles (detached first), policies, tables, streams."""
    stack = small_stack()
    plan = plan_stack(Stack(), reader_for(stack), owned=stack)
    assert ops(plan) == [
        "lambda.delete_event_source_mapping",
        "lambda.delete_function",
        "iam.detach_role_policy",
        "iam.delete_role",
        "iam.delete_policy",
        "dynamodb.delete_table",
        "dynamodb.delete_table",
        "kinesis.delete_stream",
    ]
    assert all(
        "ResourceNotFoundException" in c.tolerate or "NoSuchEntity" in c.tolerate for c in plan
    )


def test_teardown_deletes_extra_policy_versions_and_attachments() -> None:
    """A policy edited by the learner (more versions, attached elsewhere) is detached from
    everything and its versions deleted before the policy itself."""
    stack = small_stack()
    reader = reader_for(stack)
    reader.policies["FnPolicy"] = dataclasses.replace(
        reader.policies["FnPolicy"],
        other_versions=("v1",),
        default_version="v2",
        attached_roles=("FnRole", "SomeoneElsesRole"),
        attached_users=("alice",),
    )
    plan = plan_stack(Stack(), reader, owned=stack)
    policy_calls = [c.api for c in plan if c.resource == "IAM policy FnPolicy"]
    assert policy_calls == [
        "iam.detach_role_policy",
        "iam.detach_user_policy",
        "iam.delete_policy_version",
        "iam.delete_policy",
    ]


def test_teardown_of_nothing_is_empty() -> None:
    """Teardown when nothing exists makes no calls."""
    assert plan_stack(Stack(), FakeReader(), owned=small_stack()).empty


def test_mapping_on_a_kinesis_stream_is_matched_by_arn() -> None:
    """An existing Kinesis mapping on the stream is recognised; one on another stream of the
    same name in another account is not."""
    package = Package.build("fn", {"a.py": "x"})
    stack = dataclasses.replace(
        small_stack(),
        functions=(dataclasses.replace(small_stack().functions[0], code=package),),
        mappings=(EventSourceMapping("Fn", StreamSource("kinesis", "Incoming"), 100, "LATEST"),),
    )
    reader = reader_for(stack)
    assert plan_stack(stack, reader).empty
    state = reader.function_mappings["Fn"][0]
    other = state.source_arn.replace("123456789012", "999999999999")
    reader.function_mappings["Fn"] = (dataclasses.replace(state, source_arn=other),)
    assert ops(plan_stack(stack, reader, owned=stack)) == [
        "lambda.delete_event_source_mapping",
        "lambda.create_event_source_mapping",
    ]


def test_mapping_reading_an_old_stream_label_is_replaced() -> None:
    """A mapping left on a table's previous stream (another label) is replaced by one on
    the current stream."""
    stack = small_stack()
    reader = reader_for(stack)
    state: MappingState = reader.function_mappings["Fn"][0]
    old = STREAM_ARN.replace("2024-01-01T00:00:00.000", "2023-01-01T00:00:00.000")
    reader.function_mappings["Fn"] = (dataclasses.replace(state, source_arn=old),)
    plan = plan_stack(stack, reader)
    assert ops(plan) == ["lambda.delete_event_source_mapping", "lambda.create_event_source_mapping"]
    assert plan.calls[1].params["EventSourceArn"] == STREAM_ARN


def test_function_creation_retries_while_the_role_propagates() -> None:
    """create_function and create_event_source_mapping carry retry rules for IAM
    propagation; deletions tolerate "already gone"."""
    plan = plan_stack(small_stack(), FakeReader())
    create = next(c for c in plan if c.operation == "create_function")
    mapping = next(c for c in plan if c.operation == "create_event_source_mapping")
    role_message = "The role defined for the function cannot be assumed by Lambda."
    assert any(r.matches("InvalidParameterValueException", role_message) for r in create.retry)
    assert any(
        r.matches("InvalidParameterValueException", "Cannot access stream x.")
        for r in mapping.retry
    )


def test_plan_parameters_are_plain_data() -> None:
    """Plans are plain data: every call's parameters survive a JSON round trip once bytes
    are shown by size (what the dry run prints)."""
    plan = plan_stack(small_stack(), FakeReader())
    for call in plan:
        json.dumps(call.display_params())


def test_unencrypted_stream_gets_encrypted() -> None:
    """An existing stream without server-side encryption is encrypted with the stream's key
    (and waited for); an encrypted one is left alone."""
    stack = small_stack()
    reader = reader_for(stack)
    assert plan_stack(stack, reader).empty
    reader.streams["Incoming"] = dataclasses.replace(reader.streams["Incoming"], encryption="NONE")
    plan = plan_stack(stack, reader)
    assert ops(plan) == ["kinesis.start_stream_encryption"]
    assert plan.calls[0].params["KeyId"] == "alias/aws/kinesis"
    assert plan.calls[0].wait is not None
