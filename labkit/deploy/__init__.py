"""Deploying resources: plain-data plans made by one executor, and deterministic packages.

* :mod:`~labkit.deploy.resources` — what should exist (frozen dataclasses);
* :mod:`~labkit.deploy.state` — what exists, read through the :class:`StateReader` protocol;
* :mod:`~labkit.deploy.planner` — :func:`plan_stack` turns the two into a :class:`Plan`;
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
from .planner import plan_stack
from .resources import Environment, Stack
from .state import Boto3StateReader, StateReader

__all__ = [
    "Boto3Executor",
    "Boto3StateReader",
    "Call",
    "DeployError",
    "DisplayExecutor",
    "Environment",
    "ExecutionReport",
    "Package",
    "Plan",
    "Progress",
    "Ref",
    "Stack",
    "StateReader",
    "code_sha256",
    "deterministic_zip",
    "plan_stack",
]
