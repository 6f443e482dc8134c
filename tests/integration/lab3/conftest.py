"""Lab 3 against a live local cloud: a lab per test, isolated by a name prefix.

The learner's actions (creating the tables, loading, the policy, the function, the stream and
the mapping) are made with plain boto3 exactly as notebook 05 makes them; the workshop
provisions what a step starts from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from labkit.checks import Report
from labkit.lab.names import CodeVersion
from labkit.lab.replication import functions, logdata
from labkit.lab.replication.loader import load_logfile
from labkit.lab.replication.names import CLEANUP_TAG, REPLICA_VARIABLE, ReplicationNames
from labkit.lab.replication.policy import replication_policy
from labkit.lab.replication.tables import LOGFILE_DESIGN, REPLICA_DESIGN, TableDesign
from labkit.testing import RunningCloud
from tests.integration.checks.conftest import LabUnderTest, make_lab


def table_request(name: str, design: TableDesign, **changes: Any) -> dict[str, Any]:
    """create_table's arguments for ``design`` (as the notebook writes them), changed."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "GSI_1_PK", "AttributeType": "S"},
        ],
        "ProvisionedThroughput": {
            "ReadCapacityUnits": design.read,
            "WriteCapacityUnits": design.write,
        },
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "GSI_1",
                "KeySchema": [{"AttributeName": "GSI_1_PK", "KeyType": "HASH"}],
                "Projection": design.index_projection(),
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": design.index_read,
                    "WriteCapacityUnits": design.index_write,
                },
            }
        ],
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


@dataclass
class Lab3:
    """One isolated replication lab and the learner's actions on it."""

    lab: LabUnderTest

    @property
    def cloud(self) -> RunningCloud:
        return self.lab.cloud

    @property
    def names(self) -> ReplicationNames:
        return ReplicationNames(self.lab.names.prefix)

    def client(self, service: str) -> Any:
        return self.lab.client(service)

    def check(self, step: str) -> Report:
        return self.lab.check(step)

    def provision(self, step: str, *, solved: bool = False) -> None:
        self.lab.provision(step, solved=solved)

    # ----- steps 1 and 2 ---------------------------------------------------------------------
    def create_logfile(self, **changes: Any) -> None:
        self.client("dynamodb").create_table(
            **table_request(self.names.logfile, LOGFILE_DESIGN, **changes)
        )

    def load(self, spec: logdata.LogFileSpec, table: str | None = None) -> None:
        files = logdata.write(self.cloud.data_dir / "logs", (spec,))
        load_logfile(
            self.client("dynamodb"), table or self.names.logfile, files[spec.name], progress=False
        )

    def create_replica(self, **changes: Any) -> None:
        key, value = CLEANUP_TAG
        changes.setdefault("Tags", [{"Key": key, "Value": value}])
        self.client("dynamodb").create_table(
            **table_request(self.names.replica, REPLICA_DESIGN, **changes)
        )

    def tables(self) -> None:
        """Steps 1 and 2 done the learner's way."""
        self.create_logfile()
        self.load(logdata.SMALL)
        self.create_replica()

    # ----- step 3 ----------------------------------------------------------------------------
    def policy_arn(self) -> str:
        account = self.lab.ctx.account
        return f"arn:aws:iam::{account}:policy/{self.names.policy}"

    def put_policy(self, document: dict[str, Any]) -> None:
        iam = self.client("iam")
        arn = self.policy_arn()
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )

    def good_policy(self) -> dict[str, Any]:
        """The finished policy, as the lab's solution has it (ARNs filled in)."""
        env = self.lab.workshop.reader().environment
        return replication_policy(self.names).to_dict(env)

    def role_arn(self) -> str:
        return str(self.client("iam").get_role(RoleName=self.names.role)["Role"]["Arn"])

    def create_function(self, source: str | None = None, **changes: Any) -> None:
        code = functions.package_with(source or functions.source(CodeVersion.STARTER))
        request: dict[str, Any] = {
            "FunctionName": self.names.function,
            "Runtime": "python3.12",
            "Role": self.role_arn(),
            "Handler": "lambda_function.lambda_handler",
            "Timeout": 60,
            "Environment": {"Variables": {REPLICA_VARIABLE: self.names.replica}},
            "Code": {"ZipFile": code.zip_bytes},
        }
        request.update(changes)
        self.client("lambda").create_function(**{k: v for k, v in request.items() if v})
        self.client("lambda").get_waiter("function_active_v2").wait(
            FunctionName=self.names.function
        )

    # ----- step 4 ----------------------------------------------------------------------------
    def enable_stream(self, view: str = "NEW_IMAGE") -> str:
        ddb = self.client("dynamodb")
        ddb.update_table(
            TableName=self.names.logfile,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        return str(ddb.describe_table(TableName=self.names.logfile)["Table"]["LatestStreamArn"])

    def map_stream(self, position: str = "TRIM_HORIZON", batch: int = 100) -> str:
        stream = self.client("dynamodb").describe_table(TableName=self.names.logfile)["Table"][
            "LatestStreamArn"
        ]
        created = self.client("lambda").create_event_source_mapping(
            FunctionName=self.names.function,
            EventSourceArn=stream,
            BatchSize=batch,
            StartingPosition=position,
        )
        uuid = str(created["UUID"])
        for _ in range(200):  # the local cloud enables a mapping within moments
            state = self.client("lambda").get_event_source_mapping(UUID=uuid)["State"]
            if state == "Enabled":
                break
            time.sleep(0.05)
        return uuid

    def deploy(self, source: str) -> None:
        lam = self.client("lambda")
        lam.update_function_code(
            FunctionName=self.names.function, ZipFile=functions.package_with(source).zip_bytes
        )
        lam.get_waiter("function_updated_v2").wait(FunctionName=self.names.function)

    def wait_idle(self) -> None:
        self.cloud.wait_idle(60)


@pytest.fixture
def lab3(cloud: RunningCloud) -> Iterator[Lab3]:
    """A replication lab of this test's own, nothing provisioned; torn down afterwards."""
    lab = Lab3(make_lab(cloud))
    yield lab
    lab.lab.workshop.teardown()
