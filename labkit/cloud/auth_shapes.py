"""Requests checked against botocore's service models before moto sees them.

moto trusts its input: a JSON request without its table name, or with a number where a map
belongs, makes it fail with an internal error. AWS answers those with a 400 that names the
problem; so does the local cloud, from the operation's input shape in botocore's model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 32
#: Services that sign with another service's name (DynamoDB Streams signs as dynamodb).
SIGNING_ALIASES = {"dynamodb": ("dynamodb", "dynamodbstreams")}


@functools.lru_cache(maxsize=64)
def _model(service: str) -> Any:
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except Exception:
        return None


@functools.lru_cache(maxsize=1024)
def _operation(service: str, name: str) -> Any:
    model = _model(service)
    if model is None or name not in model.operation_names:
        return None
    return model.operation_model(name)


def json_problem(service: str, target: str, document: dict[str, Any]) -> tuple[str, str] | None:
    """(refusal kind, message) for a JSON-protocol request its model does not allow."""
    prefix, _, name = target.partition(".")
    candidates = [_model(each) for each in SIGNING_ALIASES.get(service, (service,))]
    if not any(candidates):
        return None  # a service botocore does not know by this name: moto decides
    operation = None
    for model in candidates:
        if model is not None and prefix == model.metadata.get("targetPrefix"):
            operation = _operation(model.service_name, name)
    if operation is None:
        return "unknown_operation", f"{target[:100]!r} is not an operation of {service}."
    shape = operation.input_shape
    if shape is None:
        return None
    problem = _check(shape, document, "", 0)
    return None if problem is None else ("validation", problem)


def query_problem(service: str, form: dict[str, str]) -> tuple[str, str] | None:
    """(refusal kind, message) for a query-protocol request without a known Action or with a
    required parameter missing."""
    model = _model(service)
    if model is None:
        return None
    action = form.get("Action", "")
    operation = _operation(service, action)
    if operation is None:
        return "unknown_operation", f"Could not find operation {action[:100]!r}."
    shape = operation.input_shape
    for member in shape.required_members if shape is not None else ():
        if member not in form and not any(key.startswith(member + ".") for key in form):
            return "validation", f"The parameter {member} is required."
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "structure": (dict,),
    "list": (list,),
    "map": (dict,),
}


@dataclass(frozen=True)
class _Plan:
    """What a shape asks of a value, read once from botocore's (slow to query) shape."""

    type_name: str
    kinds: tuple[type, ...] | None
    required: tuple[str, ...]
    members: dict[str, Any]
    element: Any


_PLANS: dict[int, _Plan] = {}


def _plan(shape: Any) -> _Plan:
    found = _PLANS.get(id(shape))
    if found is None:
        type_name = shape.type_name
        found = _Plan(
            type_name,
            _TYPES.get(type_name),
            tuple(shape.required_members) if type_name == "structure" else (),
            dict(shape.members) if type_name == "structure" else {},
            shape.member if type_name == "list" else shape.value if type_name == "map" else None,
        )
        _PLANS[id(shape)] = found
        _KEEP.append(shape)  # the id stays this shape's while the plan is cached
    return found


_KEEP: list[Any] = []


def _check(shape: Any, value: Any, where: str, depth: int) -> str | None:
    plan = _plan(shape)
    if depth > MAX_DEPTH:
        return f"The request nests deeper than {MAX_DEPTH} levels at {where.rstrip('.')}."
    kinds = plan.kinds
    if kinds is not None and (
        not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))
    ):
        place = where.rstrip(".") or "The request"
        return f"{place} must be a {plan.type_name}, not {type(value).__name__}."
    if plan.type_name == "structure":
        for member in plan.required:
            if value.get(member) is None:
                return (
                    f"1 validation error detected: Value null at '{where}{member}' failed to "
                    "satisfy constraint: Member must not be null"
                )
        members = plan.members
        for name, item in value.items():
            if item is not None and name in members:
                problem = _check(members[name], item, f"{where}{name}.", depth + 1)
                if problem is not None:
                    return problem
    elif plan.type_name == "list":
        for index, item in enumerate(value):
            problem = _check(plan.element, item, f"{where}{index}.", depth + 1)
            if problem is not None:
                return problem
    elif plan.type_name == "map":
        for key, item in value.items():
            problem = _check(plan.element, item, f"{where}{key}.", depth + 1)
            if problem is not None:
                return problem
    return None
