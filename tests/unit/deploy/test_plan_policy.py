"""Plan policies: a plan can be limited to adding what is missing, or to never removing; the
calls it leaves out are listed, and so is anything that depended on them."""

from __future__ import annotations

import dataclasses

from labkit.deploy.planner import ADD_MISSING, KEEP_EXTRA, plan_stack
from labkit.deploy.resources import Stack, StreamView

from .conftest import FakeReader, reader_for, small_stack


def test_add_missing_creates_only_what_is_absent() -> None:
    """With ADD_MISSING, a changed function and an extra mapping are left alone (and listed
    as skipped), while a missing table is still created."""
    stack = small_stack()
    reader = reader_for(stack)
    del reader.tables["Settings"]
    changed = small_stack(code=b"print('v2')\n", batch=500)
    plan = plan_stack(changed, reader, owned=stack, policy=ADD_MISSING)
    assert [c.api for c in plan] == ["dynamodb.create_table", "dynamodb.update_item"]
    skipped = [c.api for c in plan.skipped]
    assert skipped == ["lambda.update_function_code", "lambda.update_event_source_mapping"]
    assert any(line.startswith("  left as it is: Deploy") for line in plan.lines())


def test_add_missing_skips_what_needs_a_skipped_call() -> None:
    """A stream that would be replaced is not; the mapping that needed the new stream's ARN
    is skipped with it rather than left dangling."""
    stack = small_stack()
    table = dataclasses.replace(stack.tables[0], stream_view=StreamView.NEW_AND_OLD_IMAGES)
    wanted = dataclasses.replace(stack, tables=(table, stack.tables[1]))
    plan = plan_stack(wanted, reader_for(stack), policy=ADD_MISSING)
    assert plan.empty
    assert [c.api for c in plan.skipped] == [
        "lambda.delete_event_source_mapping",
        "dynamodb.update_table",
        "dynamodb.update_table",
        "lambda.create_event_source_mapping",
    ]


def test_keep_extra_never_removes() -> None:
    """With KEEP_EXTRA a teardown removes nothing; every removal is listed as skipped."""
    stack = small_stack()
    plan = plan_stack(Stack(), reader_for(stack), owned=stack, policy=KEEP_EXTRA)
    assert plan.empty
    assert len(plan.skipped) == 8
    assert {c.change for c in plan.skipped} == {"remove"}


def test_every_planned_call_says_what_kind_of_change_it_is() -> None:
    """Creating everything is all "create"; tearing down is all "remove"."""
    stack = small_stack()
    assert {c.change for c in plan_stack(stack, FakeReader())} == {"create"}
    assert {c.change for c in plan_stack(Stack(), reader_for(stack), owned=stack)} == {"remove"}
