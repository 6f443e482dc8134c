"""Lab 4 built with plain boto3 on the shared local cloud, one prefix per test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from labkit.deploy.resources import Environment, trust_policy
from labkit.lab.counters.names import (
    BY_DATE,
    DATA_PREFIX,
    CounterFunction,
    CounterNames,
    upload_key,
)
from labkit.lab.counters.packages import package, package_with
from labkit.lab.counters.policies import policy_document
from labkit.testing import RunningCloud

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = Environment("aws", REGION, ACCOUNT)


@dataclass
class CounterLab:
    """Lab 4 on the local cloud: each ``stepN`` builds that step's solution."""

    cloud: RunningCloud
    names: CounterNames
    topic_arn: str = ""
    stream_arn: str = ""
    mapping_uuid: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.cloud.client(service)
        return self._clients[service]

    @property
    def bucket(self) -> str:
        return self.names.bucket(ACCOUNT)

    def function_arn(self, function: CounterFunction) -> str:
        return ENV.function_arn(self.names.function(function))

    # ----- lab4.step1 ---------------------------------------------------------------------
    def topic_policy(self, source_arn: str | None = None) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowBucketToPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "SNS:Publish",
                    "Resource": self.topic_arn,
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": source_arn or f"arn:aws:s3:::{self.bucket}"}
                    },
                }
            ],
        }

    def notification(
        self, prefix: str = DATA_PREFIX, events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    ) -> dict[str, Any]:
        config: dict[str, Any] = {
            "Id": "counter-uploads",
            "TopicArn": self.topic_arn,
            "Events": list(events),
        }
        if prefix:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}
        return {"TopicConfigurations": [config]}

    def step1(
        self,
        *,
        policy: dict[str, Any] | None = None,
        notification: dict[str, Any] | None = None,
        versioned: bool = True,
    ) -> None:
        s3, sns = self.client("s3"), self.client("sns")
        s3.create_bucket(Bucket=self.bucket)
        if versioned:
            s3.put_bucket_versioning(
                Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        self.topic_arn = sns.create_topic(Name=self.names.topic)["TopicArn"]
        sns.set_topic_attributes(
            TopicArn=self.topic_arn,
            AttributeName="Policy",
            AttributeValue=json.dumps(policy or self.topic_policy()),
        )
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration=notification or self.notification(),
            SkipDestinationValidation=policy is not None,
        )

    # ----- functions ----------------------------------------------------------------------
    def make_function(
        self, function: CounterFunction, *, code: bytes, document: dict[str, Any]
    ) -> None:
        iam, awslambda = self.client("iam"), self.client("lambda")
        role = self.names.role(function)
        role_arn = iam.create_role(
            RoleName=role, AssumeRolePolicyDocument=json.dumps(trust_policy("lambda.amazonaws.com"))
        )["Role"]["Arn"]
        iam.put_role_policy(RoleName=role, PolicyName="main", PolicyDocument=json.dumps(document))
        awslambda.create_function(
            FunctionName=self.names.function(function),
            Runtime="python3.12",
            Role=role_arn,
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code},
            Timeout=30,
            Environment={
                "Variables": {
                    "STATE_TABLE": self.names.state_table,
                    "AGGREGATE_TABLE": self.names.aggregate_table,
                }
            },
        )

    def deploy(
        self, function: CounterFunction, version: str = "solution", source: str | None = None
    ) -> None:
        code = (
            package_with(function, source).zip_bytes
            if source is not None
            else package(function, version).zip_bytes
        )
        self.client("lambda").update_function_code(
            FunctionName=self.names.function(function), ZipFile=code
        )

    def policy(self, function: CounterFunction, *, batch: bool = False) -> dict[str, Any]:
        return policy_document(self.names, function, self.bucket, batch=batch).to_dict(ENV)

    # ----- lab4.step2 ---------------------------------------------------------------------
    def step2(
        self,
        version: str = "solution",
        *,
        source: str | None = None,
        permission: bool = True,
        subscribe: bool = True,
        document: dict[str, Any] | None = None,
    ) -> None:
        self.client("dynamodb").create_table(
            TableName=self.names.state_table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "Counter", "KeyType": "HASH"},
                {"AttributeName": "Date", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "Counter", "AttributeType": "S"},
                {"AttributeName": "Date", "AttributeType": "S"},
            ],
        )
        processor = CounterFunction.PROCESSOR
        code = (
            package_with(processor, source) if source is not None else package(processor, version)
        )
        self.make_function(
            processor, code=code.zip_bytes, document=document or self.policy(processor)
        )
        if permission:
            self.client("lambda").add_permission(
                FunctionName=self.names.processor,
                StatementId="sns-invoke",
                Action="lambda:InvokeFunction",
                Principal="sns.amazonaws.com",
                SourceArn=self.topic_arn,
            )
        if subscribe:
            self.client("sns").subscribe(
                TopicArn=self.topic_arn, Protocol="lambda", Endpoint=self.function_arn(processor)
            )

    # ----- lab4.step3 ---------------------------------------------------------------------
    def step3(
        self,
        version: str = "solution",
        *,
        view: str = "NEW_IMAGE",
        document: dict[str, Any] | None = None,
        gsi: bool = True,
        mapping: bool = True,
    ) -> None:
        ddb = self.client("dynamodb")
        self.stream_arn = ddb.update_table(
            TableName=self.names.state_table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )["TableDescription"]["LatestStreamArn"]
        table: dict[str, Any] = {
            "TableName": self.names.aggregate_table,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "Counter", "KeyType": "HASH"},
                {"AttributeName": "Date", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "Counter", "AttributeType": "S"},
                {"AttributeName": "Date", "AttributeType": "S"},
            ],
        }
        if gsi:
            table["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": BY_DATE,
                    "KeySchema": [{"AttributeName": "Date", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        ddb.create_table(**table)
        aggregator = CounterFunction.AGGREGATOR
        self.make_function(
            aggregator,
            code=package(aggregator, version).zip_bytes,
            document=document or self.policy(aggregator, batch=True),
        )
        if mapping:
            self.mapping_uuid = self.client("lambda").create_event_source_mapping(
                EventSourceArn=self.stream_arn,
                FunctionName=self.names.aggregator,
                StartingPosition="TRIM_HORIZON",
                BatchSize=100,
            )["UUID"]

    # ----- using it -------------------------------------------------------------------------
    def upload(self, instance: str, text: str, date: str = "2015-11-16") -> dict[str, Any]:
        answer: dict[str, Any] = self.client("s3").put_object(
            Bucket=self.bucket, Key=upload_key(date, instance), Body=text.encode()
        )
        return answer

    def state(self, counter: str, date: str = "2015-11-16") -> dict[str, int]:
        item = (
            self.client("dynamodb")
            .get_item(
                TableName=self.names.state_table,
                Key={"Counter": {"S": counter}, "Date": {"S": date}},
            )
            .get("Item", {})
        )
        return {k: int(v["N"]) for k, v in item.get("InstanceValues", {}).get("M", {}).items()}

    def totals(self, date: str = "2015-11-16") -> dict[str, int]:
        found = self.client("dynamodb").query(
            TableName=self.names.aggregate_table,
            IndexName=BY_DATE,
            KeyConditionExpression="#date = :date",
            ExpressionAttributeNames={"#date": "Date"},
            ExpressionAttributeValues={":date": {"S": date}},
        )["Items"]
        return {item["Counter"]["S"]: int(item["Value"]["N"]) for item in found}


MakeLab = Callable[[], CounterLab]


@pytest.fixture
def make_lab(cloud: RunningCloud) -> MakeLab:
    """A fresh lab 4 with its own names (nothing built yet)."""

    def make() -> CounterLab:
        return CounterLab(cloud, CounterNames(f"t{uuid.uuid4().hex[:8]}-"))

    return make
