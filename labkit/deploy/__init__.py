"""Deploying resources: plain-data plans made by one executor, and deterministic packages.

* :mod:`~labkit.deploy.resources` — what should exist (frozen dataclasses): streams, tables
  (keys, indexes, capacity), policies and roles, log groups, functions, permissions and
  mappings, queues, topics and subscriptions, buckets and their notifications;
* :mod:`~labkit.deploy.state` — what exists, read through the :class:`StateReader` protocol;
* :mod:`~labkit.deploy.planner` — :func:`plan_stack` turns the two into a :class:`Plan`
  (one module per resource kind; a :class:`PlanPolicy` such as :data:`ADD_MISSING` limits
  what a plan may change);
* :mod:`~labkit.deploy.executor` — :class:`Boto3Executor` makes the calls,
  :class:`DisplayExecutor` only shows them; failures become one :class:`DeployError`;
* :mod:`~labkit.deploy.packaging` — zips with a stable ``CodeSha256``;
* :mod:`~labkit.deploy.cloudformation` — the same resources as a CloudFormation template.

This package speaks only boto3, so the same plan runs on the local cloud and on AWS.
"""

from __future__ import annotations

from .executor import Boto3Executor, DeployError, DisplayExecutor, ExecutionReport, Progress
from .packaging import Package, code_sha256, deterministic_zip
from .plan import Call, Plan, Ref
from .planner import ADD_MISSING, CONVERGE, KEEP_EXTRA, PlanPolicy, plan_stack
from .resources import Environment, Stack
from .state import Boto3StateReader, StateReader

__all__ = [
    "ADD_MISSING",
    "CONVERGE",
    "KEEP_EXTRA",
    "Boto3Executor",
    "Boto3StateReader",
    "Call",
    "DeployError",
    "DisplayExecutor",
    "Environment",
    "ExecutionReport",
    "Package",
    "Plan",
    "PlanPolicy",
    "Progress",
    "Ref",
    "Stack",
    "StateReader",
    "code_sha256",
    "deterministic_zip",
    "plan_stack",
]
