"""Faster paths through moto's hottest code, with the same results.

The lab pipeline makes one DynamoDB ``UpdateItem`` per trade, and most of the local cloud's
time went into moto re-doing work whose answer never changes between requests: parsing the
same update and condition expressions three times each, deep-copying syntax trees through
``copy.deepcopy``, rebuilding each tree walker's dispatch table at every node, re-running
checks that depend only on the expression, drawing request ids one character at a time, and
finding the backend for a request by trying every service's URL patterns. Together they took
UpdateItem from about 5.6 ms to 2 ms of the cloud's CPU. Each patch keeps moto's behaviour and
only remembers or shortcuts that work; ``tests/unit/cloud/test_moto_speedups.py`` sends the
same requests with and without them and compares every answer and error.

moto serves one request at a time (under the moto lock), so the caches need no locks.
"""

from __future__ import annotations

import copy
import functools
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Distinct update expressions remembered, parsed (a lab uses a handful).
PARSED_EXPRESSIONS = 512

_Restore = Callable[[], None]


def install() -> list[_Restore]:
    """Install every speed-up; returns the functions that take them out again."""
    return [
        _parse_each_update_expression_once(),
        _lex_each_condition_once(),
        _parse_each_condition_once_per_request(),
        _copy_syntax_trees_by_pickling(),
        _dispatch_tree_walkers_by_node_type(),
        _skip_checks_an_expression_has_passed(),
        _validate_each_insert_once(),
        _draw_random_strings_in_one_call(),
        _remember_each_hosts_backend(),
        _remember_method_names_per_class(),
    ]


@contextmanager
def installed() -> Iterator[None]:
    """The speed-ups for the duration of a block (for tests that compare with and without)."""
    restores = install()
    try:
        yield
    finally:
        for restore in reversed(restores):
            restore()


def _undo_all(restores: list[_Restore]) -> _Restore:
    """One undo for several patches, taken out in reverse order."""

    def restore() -> None:
        for undo in reversed(restores):
            undo()

    return restore


def _set(owner: Any, name: str, value: Any) -> _Restore:
    """Replace ``owner.name`` and return a function that puts the original back."""
    missing = object()
    original = owner.__dict__.get(name, missing)
    setattr(owner, name, value)

    def restore() -> None:
        if original is missing:
            delattr(owner, name)
        else:
            setattr(owner, name, original)

    return restore


def _parse_each_update_expression_once() -> _Restore:
    # UpdateItem parses its expression in the response layer and twice more in the backend.
    # The tree is only read, or copied before it is changed (moto's validators copy it first),
    # so one parsed tree per expression text serves every request.
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.__dict__["make"]
    parse = original.__func__

    @functools.lru_cache(maxsize=PARSED_EXPRESSIONS)
    def parsed(cls: type, expression: str) -> Any:
        tree = parse(cls, expression)
        _remember_pickled(tree)
        return tree

    def make(cls: type, expression: Any) -> Any:
        if isinstance(expression, str):
            return parsed(cls, expression)
        return parse(cls, expression)

    return _set(UpdateExpressionParser, "make", classmethod(make))


#: The pickled form of each remembered parsed tree (by id, with the tree, which never changes),
#: so that copying one costs only the unpickling.
_PICKLED: dict[int, tuple[Any, bytes]] = {}


def _remember_pickled(tree: Any) -> None:
    if len(_PICKLED) >= 2 * PARSED_EXPRESSIONS:
        _PICKLED.clear()
    try:
        _PICKLED[id(tree)] = (tree, pickle.dumps(tree, pickle.HIGHEST_PROTOCOL))
    except Exception:
        _PICKLED.pop(id(tree), None)


def _fast_deepcopy(value: Any) -> Any:
    """``copy.deepcopy`` of a syntax tree, through pickle (the same copy, several times faster)."""
    known = _PICKLED.get(id(value))
    if known is not None and known[0] is value:
        return pickle.loads(known[1])
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return copy.deepcopy(value)


def _lex_each_condition_once() -> _Restore:
    # Condition expressions are cut into tokens three times per request. The tokens depend
    # only on the text; each parse gets its own fresh copies of them.
    from collections import deque

    from moto.dynamodb.comparisons import ConditionExpressionParser

    original = ConditionExpressionParser._lex_condition_expression

    @functools.lru_cache(maxsize=PARSED_EXPRESSIONS)
    def tokens_of(text: str) -> tuple[Any, ...]:
        return tuple(original(ConditionExpressionParser(text, None, None)))

    def _lex_condition_expression(self: Any) -> Any:
        text = self.condition_expression
        if not isinstance(text, str):
            return original(self)
        return deque(token._replace(children=[]) for token in tokens_of(text))

    return _set(ConditionExpressionParser, "_lex_condition_expression", _lex_condition_expression)


def _parse_each_condition_once_per_request() -> _Restore:
    # DynamoDB's response layer parses a request's condition expression to check the names and
    # values it uses, and then the backend parses the same text, with the very same names and
    # values, again. Within one request the second parse takes the first one's tree and
    # findings. The tree is only evaluated, never changed; a parse that fails is not kept.
    import threading

    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.responses import DynamoHandler

    request = threading.local()
    original_parse = ConditionExpressionParser.parse
    original_call_action = DynamoHandler.__dict__["call_action"]

    def call_action(self: Any) -> Any:
        outer = getattr(request, "parsed", None)
        request.parsed = []
        try:
            return original_call_action(self)
        finally:
            request.parsed = outer

    def parse(self: Any) -> Any:
        parsed: list[tuple[Any, ...]] | None = getattr(request, "parsed", None)
        text = self.condition_expression
        if parsed is None or not isinstance(text, str):
            return original_parse(self)
        names, values = self.expression_attribute_names, self.expression_attribute_values
        for seen_text, seen_names, seen_values, found_names, found_values, tree in parsed:
            if seen_text == text and seen_names is names and seen_values is values:
                self.expr_attr_names_found.extend(found_names)
                self.expr_attr_values_found.extend(found_values)
                return tree
        tree = original_parse(self)
        found = (list(self.expr_attr_names_found), list(self.expr_attr_values_found))
        parsed.append((text, names, values, *found, tree))
        return tree

    restores = [
        _set(DynamoHandler, "call_action", functools.wraps(original_call_action)(call_action)),
        _set(ConditionExpressionParser, "parse", parse),
    ]

    return _undo_all(restores)


def _copy_syntax_trees_by_pickling() -> _Restore:
    # Every validation starts from a private deep copy of the parsed tree.
    from moto.dynamodb.parsing import validators

    return _set(validators, "deepcopy", _fast_deepcopy)


def _dispatch_tree_walkers_by_node_type() -> _Restore:
    # moto's walkers rebuild their {node class: handler} table and run ABC isinstance checks
    # at every node of every walk; validating one update walks the tree ten times. Here each
    # kind of walker works out once per node type which handler applies (in moto's order),
    # and walks without descending into leaves that are not nodes.
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    not_a_node = object()
    unknown = object()
    tables: dict[type, dict[type, Any]] = {}

    def handler_for(walker: Any, kind: type) -> Any:
        if not issubclass(kind, Node):
            return not_a_node
        for node_class, handler in walker._processing_map().items():
            if issubclass(kind, node_class):
                unbound = getattr(handler, "__func__", None)
                if unbound is None:  # not a method: look it up on each walker
                    return lambda each, node: each._processing_map()[node_class](node)
                return unbound
        return None

    def walk(walker: Any, table: dict[type, Any], node: Any, child_id: int) -> Any:
        kind = type(node)
        handler = table.get(kind, unknown)
        if handler is unknown:
            handler = table[kind] = handler_for(walker, kind)
        if handler is not_a_node:
            return node
        parent_node = node.parent
        children = node.children
        if children is not None:
            before_child = walker.pre_processing_of_child
            for index, child in enumerate(children):
                before_child(node, index)
                if table.get(type(child)) is not not_a_node:
                    walk(walker, table, child, index)
        if handler is not None:
            node = handler(walker, node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        table = tables.get(type(self))
        if table is None:
            table = tables[type(self)] = {}
        return walk(self, table, node, child_id)

    return _set(DepthFirstTraverser, "traverse_node_recursively", traverse_node_recursively)


def _skip_checks_an_expression_has_passed() -> _Restore:
    # Three of the validators judge only the expression itself: one SET/REMOVE/ADD/DELETE
    # clause of each kind, no overlapping paths, no key attribute changed. Their verdict
    # depends on the expression text, its attribute names and the table's key, never on the
    # item or the values, yet moto re-runs them (quadratically) for every request. Once an
    # expression has passed validation with some names on some table, later validations with
    # the same names and key skip them. One that fails is checked in full every time, so it
    # fails the same way.
    from moto.dynamodb.parsing.validators import (
        ActionCountValidator,
        OverlappingPathsValidator,
        UpdateExpressionValidator,
        UpdateHashRangeKeyValidator,
    )

    static_checks = (ActionCountValidator, OverlappingPathsValidator, UpdateHashRangeKeyValidator)
    original_init = UpdateExpressionValidator.__init__
    original_processors = UpdateExpressionValidator.get_ast_processors
    original_validate = UpdateExpressionValidator.validate

    # The verdicts are kept beside the trees, not on them: a remembered tree never changes.
    passed: dict[int, tuple[Any, set[tuple[Any, ...]]]] = {}

    def passed_for(source: Any) -> set[tuple[Any, ...]]:
        known = passed.get(id(source))
        if known is None or known[0] is not source:
            if len(passed) >= 2 * PARSED_EXPRESSIONS:
                passed.clear()
            known = passed[id(source)] = (source, set())
        return known[1]

    def verdict_key(validator: Any) -> tuple[Any, ...]:
        names = validator.expression_attribute_names or {}
        return (frozenset(names.items()), tuple(validator.table.table_key_attrs))

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        self._labkit_source = expression
        original_init(self, expression, *args, **kwargs)

    def get_ast_processors(self: Any) -> list[Any]:
        # Called by moto's __init__ once the names and the table are set.
        processors: list[Any] = original_processors(self)
        source = self.__dict__.get("_labkit_source")
        if source is None:
            return processors
        self._labkit_verdict_key = verdict_key(self)
        if self._labkit_verdict_key in passed_for(source):
            processors = [p for p in processors if not isinstance(p, static_checks)]
        return processors

    def validate(self: Any) -> Any:
        result = original_validate(self)
        source = self.__dict__.get("_labkit_source")
        if source is not None:
            passed_for(source).add(self._labkit_verdict_key)
        return result

    restores = [
        _set(UpdateExpressionValidator, "__init__", __init__),
        _set(UpdateExpressionValidator, "get_ast_processors", get_ast_processors),
        _set(UpdateExpressionValidator, "validate", validate),
    ]

    return _undo_all(restores)


#: Update expression nodes that read nothing from the item, when they sit where SET allows them.
_ITEM_FREE_NODES = frozenset(
    {
        "UpdateExpression",
        "UpdateExpressionSetClause",
        "UpdateExpressionSetActions",
        "UpdateExpressionSetAction",
        "UpdateExpressionValue",
        "ExpressionAttributeValue",
        "ExpressionValueOperator",
    }
)
_TOP_LEVEL_NAMES = frozenset({"ExpressionAttribute", "ExpressionAttributeName"})


def reads_nothing_from_the_item(tree: Any) -> bool:
    """True for an update expression made only of ``SET name = value`` actions whose values are
    expression attribute values, or sums and differences of them: no attribute read, no nested
    path, no function. Validating such an expression never looks into the item."""

    def item_free(node: Any) -> bool:
        kind = type(node).__name__
        if kind == "UpdateExpressionSetAction":
            path, value = node.children
            return (
                type(path).__name__ == "UpdateExpressionPath"
                and len(path.children) == 1
                and type(path.children[0]).__name__ in _TOP_LEVEL_NAMES
                and item_free(value)
            )
        if kind not in _ITEM_FREE_NODES:
            return False
        if kind in {"ExpressionAttributeValue", "ExpressionValueOperator"}:
            return True
        return all(item_free(child) for child in node.children)

    try:
        return item_free(tree)
    except (AttributeError, TypeError, ValueError):
        return False


def _validate_each_insert_once() -> _Restore:
    # For an item that does not exist yet, moto's update_item validates the update expression
    # twice: against an empty item (before it creates anything) and then against the new item
    # that holds only its key. When the expression reads nothing from the item (see
    # reads_nothing_from_the_item), both validations check the same things and build the same
    # tree, so within one update_item call the second one takes the first one's tree (moto
    # discards the first tree unused). Anything else is validated twice, as moto does.
    import threading

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.parsing.ast_nodes import UpdateExpression
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    calls = threading.local()
    item_free: dict[int, tuple[Any, bool]] = {}
    nothing_to_copy = UpdateExpression(children=[])
    original_update_item = DynamoDBBackend.update_item
    original_init = UpdateExpressionValidator.__init__
    original_validate = UpdateExpressionValidator.validate

    def reads_nothing(tree: Any) -> bool:
        known = item_free.get(id(tree))
        if known is None or known[0] is not tree:
            if len(item_free) >= PARSED_EXPRESSIONS:
                item_free.clear()
            known = item_free[id(tree)] = (tree, reads_nothing_from_the_item(tree))
        return known[1]

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(calls, "active", False)
        calls.active = True
        calls.first = None  # (inputs, key, validated tree) of this call's first validation
        try:
            return original_update_item(self, *args, **kwargs)
        finally:
            calls.active = outer
            calls.first = None

    def same_inputs(one: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
        return all(a is b for a, b in zip(one, other, strict=True))

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        bound = _bind_validator_arguments(expression, *args, **kwargs)
        inputs = (expression, bound["names"], bound["values"], bound["table"])
        item = bound["item"]
        first = getattr(calls, "first", None)
        if (
            first is not None
            and same_inputs(first[0], inputs)
            and first[1] == (item.hash_key, item.range_key)
            and set(item.attrs) <= set(bound["table"].table_key_attrs)
        ):
            calls.first = None
            original_init(self, nothing_to_copy, *args, **kwargs)
            self._labkit_reuse = first[2]
            return
        original_init(self, expression, *args, **kwargs)
        self._labkit_reuse = None
        self._labkit_inputs = inputs

    def validate(self: Any) -> Any:
        reused = self.__dict__.get("_labkit_reuse")
        if reused is not None:
            return reused
        result = original_validate(self)
        inputs = self.__dict__.get("_labkit_inputs")
        if (
            getattr(calls, "active", False)
            and inputs is not None
            and not self.item.attrs
            and reads_nothing(inputs[0])
        ):
            calls.first = (inputs, (self.item.hash_key, self.item.range_key), result)
        return result

    restores = [
        _set(DynamoDBBackend, "update_item", functools.wraps(original_update_item)(update_item)),
        _set(UpdateExpressionValidator, "__init__", __init__),
        _set(UpdateExpressionValidator, "validate", validate),
    ]

    return _undo_all(restores)


def _bind_validator_arguments(expression: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The names moto's ``Validator.__init__`` gives its arguments, however they were passed."""
    names = ("names", "values", "item", "table")
    keywords = {
        "expression_attribute_names": "names",
        "expression_attribute_values": "values",
        "item": "item",
        "table": "table",
    }
    bound = dict(zip(names, args, strict=False))
    bound.update({keywords[key]: value for key, value in kwargs.items()})
    return bound


def _draw_random_strings_in_one_call() -> _Restore:
    # Every response carries a 52-character request id, drawn one character at a time.
    # ``choices`` draws them at once from the same alphabet (and the same seeded generator).
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    return _set(MotoRandom, "get_random_string", get_random_string)


def _remember_each_hosts_backend() -> _Restore:
    # moto finds the service behind a host name by matching it against the URL patterns of
    # every service it knows, for every request. A host always maps to the same service.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        known: dict[str | None, Any] | None = self.__dict__.get("_labkit_backends")
        if known is None:
            known = self.__dict__["_labkit_backends"] = {}
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    return _set(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)


def _remember_method_names_per_class() -> _Restore:
    # Every request lists the public methods of its response class through ``inspect``.
    from moto.core import responses, utils

    original = utils.method_names_from_class
    remembered = functools.lru_cache(maxsize=None)(original)
    restore_utils = _set(utils, "method_names_from_class", remembered)
    restore_responses = (
        _set(responses, "method_names_from_class", remembered)
        if hasattr(responses, "method_names_from_class")
        else (lambda: None)
    )

    def restore() -> None:
        restore_responses()
        restore_utils()

    return restore
