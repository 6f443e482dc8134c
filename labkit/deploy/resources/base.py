"""Names, tags, the account a plan is for, and ARN templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Tags = tuple[tuple[str, str], ...]
Pairs = tuple[tuple[str, str], ...]

LAMBDA_SERVICE = "lambda.amazonaws.com"


def tags_of(mapping: Mapping[str, str]) -> Tags:
    """Tags as a sorted tuple of pairs (hashable, stable order)."""
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True)
class Environment:
    """Where ARN templates get their values: the account the plan is for."""

    partition: str
    region: str
    account: str

    def fill(self, template: str) -> str:
        return (
            template.replace("${AWS::Partition}", self.partition)
            .replace("${AWS::Region}", self.region)
            .replace("${AWS::AccountId}", self.account)
        )

    def kinesis_stream_arn(self, name: str) -> str:
        return f"arn:{self.partition}:kinesis:{self.region}:{self.account}:stream/{name}"

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{name}"

    def policy_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:policy/{name}"

    def function_arn(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def log_group_arn(self, name: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{name}"

    def queue_arn(self, name: str) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{name}"

    def topic_arn(self, name: str) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{name}"

    def bucket_arn(self, name: str) -> str:
        return f"arn:{self.partition}:s3:::{name}"


# --- ARN templates for policies ---------------------------------------------------------------
_PREFIX = "arn:${AWS::Partition}"
_WHERE = "${AWS::Region}:${AWS::AccountId}"
#: The account a plan is for, as a template (a resource policy's ``aws:SourceAccount``).
ACCOUNT_ID = "${AWS::AccountId}"


def table_arn_template(table: str) -> str:
    return f"{_PREFIX}:dynamodb:{_WHERE}:table/{table}"


def table_stream_arn_template(table: str) -> str:
    """Every stream of a table (the label changes each time the stream is re-enabled)."""
    return f"{_PREFIX}:dynamodb:{_WHERE}:table/{table}/stream/*"


def table_index_arn_template(table: str, index: str = "*") -> str:
    """A table's global secondary index (every index with ``*``), for ``dynamodb:Query``."""
    return f"{_PREFIX}:dynamodb:{_WHERE}:table/{table}/index/{index}"


def kinesis_stream_arn_template(stream: str) -> str:
    return f"{_PREFIX}:kinesis:{_WHERE}:stream/{stream}"


def log_group_arn_template(group: str) -> str:
    return f"{_PREFIX}:logs:{_WHERE}:log-group:{group}"


def function_arn_template(function: str) -> str:
    return f"{_PREFIX}:lambda:{_WHERE}:function:{function}"


def queue_arn_template(queue: str) -> str:
    return f"{_PREFIX}:sqs:{_WHERE}:{queue}"


def topic_arn_template(topic: str) -> str:
    return f"{_PREFIX}:sns:{_WHERE}:{topic}"


def bucket_arn_template(bucket: str) -> str:
    """A bucket's ARN (S3 ARNs carry neither region nor account)."""
    return f"{_PREFIX}:s3:::{bucket}"


def aws_managed_policy_arn_template(path_and_name: str) -> str:
    """An AWS managed policy, e.g. ``service-role/AWSLambdaBasicExecutionRole``."""
    return f"{_PREFIX}:iam::aws:policy/{path_and_name}"


TargetKind = Literal["sqs", "sns", "lambda"]


@dataclass(frozen=True)
class Target:
    """Where something is sent: a queue, a topic or a function, by name.

    Used by an event source mapping's on-failure destination (``sqs``/``sns``), an SNS
    subscription's endpoint (``lambda``/``sqs``) and an S3 notification (all three).
    """

    kind: TargetKind
    name: str

    def arn(self, env: Environment) -> str:
        return env.fill(self.arn_template())

    def arn_template(self) -> str:
        if self.kind == "sqs":
            return queue_arn_template(self.name)
        if self.kind == "sns":
            return topic_arn_template(self.name)
        return function_arn_template(self.name)

    def describe(self) -> str:
        return {"sqs": "queue", "sns": "topic", "lambda": "function"}[self.kind] + f" {self.name}"
