# ruff: noqa: E501  (markdown tables in the notebooks' text are wider than code lines)
"""Write the learner notebooks (notebooks/) and the solved ones (solutions/) from one source.

Each notebook is a list of cells. An exercise cell has two versions: what the learner starts
with (runnable, and harmless when left as it is) and the reference solution. The learner
notebooks are written without outputs; the solved notebooks are then executed so that they
carry the outputs nbval compares against (``--execute``).

    python solutions/build_notebooks.py            # write both sets of notebooks
    python solutions/build_notebooks.py --execute  # ... and run the solved ones for outputs
    python solutions/build_notebooks.py --check    # exit 1 if a notebook's cells are stale
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labkit.lab.names import CodeVersion, FunctionId
from labkit.lab.packages import source

ROOT = Path(__file__).resolve().parents[1]
LEARNER_DIR = ROOT / "notebooks"
SOLUTION_DIR = ROOT / "solutions"
IGNORE = "nbval-ignore-output"


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    solution: str | None = None  # the solved version of an exercise cell
    tags: tuple[str, ...] = field(default=())

    def text(self, solved: bool) -> str:
        chosen = self.solution if solved and self.solution is not None else self.source
        return chosen.strip("\n")


def md(text: str) -> Cell:
    return Cell("markdown", text)


def code(text: str, *tags: str) -> Cell:
    return Cell("code", text, tags=tags)


def exercise(learner: str, solution: str, *tags: str) -> Cell:
    return Cell("code", learner, solution, ("exercise", *tags))


def setup(imports: tuple[str, ...] = (), extra: str = "") -> str:
    """The first code cell: imports (the standard ones plus ``imports``), the lab, names."""
    stdlib = "".join(f"import {name}\n" for name in sorted(i for i in imports if i != "pandas"))
    pandas = "import pandas as pd\n" if "pandas" in imports else ""
    return (
        (stdlib + "\n" if stdlib else "")
        + "import boto3\n"
        + pandas
        + "\nimport labkit\n\n"
        + 'lab = labkit.Lab()  # on AWS: labkit.Lab(backend="aws", region="us-west-2")\n'
        + "names = lab.names\n"
        + "STATE_TABLE, REDUCE_TABLE = names.state_table, names.reduce_table\n"
        + "AGGREGATE_TABLE, PARAMETER_TABLE = names.aggregate_table, names.parameter_table\n"
        + 'REDUCE_LAMBDA = names.prefix + "ReduceLambda"\n'
        + 'dynamodb = boto3.client("dynamodb")\n'
        + extra
        + "lab"
    )


# ---------------------------------------------------------------------------------------------
# 00 welcome

WELCOME = [
    md("""\
# Welcome: a stream-processing pipeline you build, break and fix

In this workshop you connect AWS Lambda functions to DynamoDB Streams, watch a live scoreboard
check your pipeline's results to the cent, and then make the pipeline give exact results even
when deliveries are repeated and functions fail half-way.

Everything runs on a **local cloud** on your machine: no AWS account, no Docker, no network.
You write plain `boto3`, exactly as the AWS documentation shows; the same notebooks run
against a real AWS account when you create the lab with `labkit.Lab(backend="aws", ...)`.

The notebooks, in order:

| notebook | you will … | step |
|---|---|---|
| 00-welcome | meet the pipeline and the tools | |
| 01-tables-and-streams | create the four tables and their streams | `lab1.step1` |
| 02-iam-policies | give ReduceLambda's role the permissions it lacks | `lab1.step2` |
| 03-connect-reduce-lambda | connect ReduceLambda to its stream and score points | `lab1.step3` |
| 04-exactly-once | make the pipeline exact under retries and failures | `lab2.step1`, `lab2.step2` |"""),
    md("""\
## Start the lab

`labkit.Lab()` finds the local cloud, or starts it if it is not running (it keeps running in
the background, also after this notebook closes; `labkit down` in a terminal stops it). It
also points `boto3` at it, so `boto3.client("dynamodb")` needs no arguments.

The cell also defines the names of the lab's tables. Locally they are `StateTable` and so on;
on AWS labkit puts `labkit-` in front, so that the lab stays apart from anything else in your
account. Use the names from `lab.names` and your code works on both."""),
    code(setup()),
    md("""\
## The pipeline

Trades arrive on a Kinesis stream. Each stage reads the changes of the stage before it and
writes its own result to a table; a table's **stream** tells the next stage what changed.

```mermaid
flowchart LR
  board([scoreboard]) -- rounds of trades --> kin[(IncomingDataStream)]
  kin -- batches of 100 --> state[StateLambda]
  state -- latest version of each trade --> st[(StateTable)]
  st -- stream: old and new image --> map[MapLambda]
  map -- totals of one batch --> rt[(ReduceTable)]
  rt -- stream: new image --> reduce[ReduceLambda]
  reduce -- adds the totals --> at[(AggregateTable)]
  at -- compared with what was sent --> board
```

The same, for viewers without diagrams:

```
scoreboard ──trades──▶ IncomingDataStream ──▶ StateLambda ──▶ StateTable
                                                                  │ stream (old + new image)
                                                                  ▼
 AggregateTable ◀── ReduceLambda ◀── stream (new image) ── ReduceTable ◀── MapLambda
       │
       └──▶ scoreboard compares every total with what it sent
```

* **StateLambda** keeps the latest version of every trade in StateTable.
* **MapLambda** turns a batch of StateTable changes into totals per aggregate key (a trade
  that changed takes its old value out and puts its new one in) and stores them in ReduceTable,
  one item per batch.
* **ReduceLambda** adds each batch's totals to AggregateTable in one transaction. In
  lab 1 it is not connected yet: that is your job.
* **ParameterTable** holds the lab's settings, the score, and (in lab 2) the failure rates.

Each *event source mapping* (the arrows into the functions) is Lambda's poller: it reads a
batch from a stream and calls the function with it, over and over. If the function fails,
the mapping calls it again with the very same batch."""),
    md("""\
## Your tools

| call | what it does |
|---|---|
| `lab.check("lab1.step1")` | checks a step against the real state and says what is left, with a hint next to each ✗ |
| `lab.hint("lab1.step1")` | the next hint: first a nudge, then more, then the answer |
| `lab.solve("lab1.step1")` | applies the reference solution, so you can catch up |
| `lab.reset("lab1.step1")` | puts a step back to its start, to try it again |
| `lab.scoreboard()` | the live scoreboard |
| `lab.logs("ReduceLambda")` | a function's log lines, newest first, with a filter box |
| `lab.progress()` | which steps are done |

The same from a terminal: `labkit check lab1.step1`, `labkit hint lab1.step1`,
`labkit solve lab1.step1`, `labkit reset lab1.step1` (and `labkit check --all`).

First, labkit sets up what the workshop gives you ready-made: the Kinesis stream, the four
functions with their roles and policies. Running it again is safe: what is already right is
left as it is."""),
    code('lab.provision("lab1.step1")', IGNORE),
    md("""\
Nothing is done yet, and the check says so. This is what a check looks like: every line is
one thing it looked at in your lab, and a ✗ comes with what to do."""),
    code('lab.check("lab1.step1")'),
    code("lab.progress()"),
    md("Next: **01-tables-and-streams**."),
]

# ---------------------------------------------------------------------------------------------
# 01 tables and streams

TABLES = [
    md("""\
# 1 · Tables and streams (`lab1.step1`)

The pipeline keeps its state in four DynamoDB tables. Two of them must also tell the next
stage about every change, and that is what a **DynamoDB stream** does: an ordered log of the
item-level changes of a table, kept for 24 hours, which Lambda can read in batches.

A stream record can carry the key only, the item as it is after the change (`NEW_IMAGE`), as
it was before (`OLD_IMAGE`), or both. What each stage needs decides the choice:

| table | key (string) | stream | why |
|---|---|---|---|
| StateTable | `id` | `NEW_AND_OLD_IMAGES` | when a trade changes, MapLambda takes its old value out of the old total and puts the new value in |
| ReduceTable | `MessageId` | `NEW_IMAGE` | ReduceLambda only needs the totals of each new item |
| AggregateTable | `Identifier` | none | nothing reads its changes |
| ParameterTable | `parameter` | none | settings and the score |

All four use **on-demand** capacity (`BillingMode="PAY_PER_REQUEST"`), so bursts of trades
are never throttled."""),
    code(setup(("pandas",))),
    code('lab.provision("lab1.step1")', IGNORE),
    md("""\
## Exercise 1: StateTable

Create StateTable with `dynamodb.create_table`: its name is in `STATE_TABLE`, its partition
key `id` is a string (`S`), billing is on-demand, and its stream carries both images.
(`lab.hint("lab1.step1")` helps if you are stuck.)"""),
    exercise(
        "# Your code here: dynamodb.create_table(TableName=STATE_TABLE, ...)\n",
        """\
dynamodb.create_table(
    TableName=STATE_TABLE,
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
)["TableDescription"]["TableStatus"]""",
    ),
    md("""\
## Exercise 2: ReduceTable

The same for ReduceTable (`REDUCE_TABLE`): key `MessageId`, a stream with the new image."""),
    exercise(
        "# Your code here: dynamodb.create_table(TableName=REDUCE_TABLE, ...)\n",
        """\
dynamodb.create_table(
    TableName=REDUCE_TABLE,
    KeySchema=[{"AttributeName": "MessageId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "MessageId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
)["TableDescription"]["TableStatus"]""",
    ),
    md("""\
## Exercise 3: AggregateTable and ParameterTable

Two tables without a stream: AggregateTable (key `Identifier`) and ParameterTable (key
`parameter`). A loop over `(name, key)` pairs keeps it short."""),
    exercise(
        "# Your code here: AGGREGATE_TABLE keyed Identifier, PARAMETER_TABLE keyed parameter\n",
        """\
for table, key in [(AGGREGATE_TABLE, "Identifier"), (PARAMETER_TABLE, "parameter")]:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )""",
    ),
    md("""\
On AWS a new table takes a few seconds to become `ACTIVE`; a waiter waits for that (locally
it returns at once). Then a table of your tables, read back with `describe_table`:"""),
    code("""\
def table_row(table):
    try:
        found = dynamodb.describe_table(TableName=table)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        return {"table": table, "status": "missing"}
    key = found["KeySchema"][0]["AttributeName"]
    types = {a["AttributeName"]: a["AttributeType"] for a in found["AttributeDefinitions"]}
    stream = found.get("StreamSpecification", {})
    return {
        "table": table,
        "status": found["TableStatus"],
        "key": f"{key} ({types[key]})",
        "capacity": found.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "stream": stream.get("StreamViewType", "-") if stream.get("StreamEnabled") else "-",
    }


ALL_TABLES = [STATE_TABLE, REDUCE_TABLE, AGGREGATE_TABLE, PARAMETER_TABLE]
for table in ALL_TABLES:
    if table_row(table)["status"] != "missing":
        dynamodb.get_waiter("table_exists").wait(TableName=table)
pd.DataFrame([table_row(t) for t in ALL_TABLES]).set_index("table")"""),
    md("""\
A stream has its own ARN: the table's ARN, then `/stream/` and a label (the time the stream
was created). Lambda's event source mappings are connected to that ARN, not to the table's."""),
    code("""\
for table in (STATE_TABLE, REDUCE_TABLE):
    found = table_row(table)
    if found["status"] != "missing":
        print(dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn"))"""),
    md("## Check your work"),
    code('lab.check("lab1.step1")'),
    md("Next: **02-iam-policies**."),
]

# ---------------------------------------------------------------------------------------------
# 02 IAM policies

POLICIES = [
    md("""\
# 2 · ReduceLambda's permissions (`lab1.step2`)

Every Lambda function runs with an **execution role**, and what the role's policies allow is
all the function (and its event source mapping) may do. Two things ReduceLambda's role cannot
do yet:

1. **Read ReduceTable's stream.** The event source mapping polls the stream *on the function's
   behalf, with the function's role*: it calls `DescribeStream`, `GetShardIterator` and
   `GetRecords`. These actions act on the **stream**, whose ARN ends in `/stream/<label>`,
   not on the table.
2. **Add to the totals in AggregateTable.** ReduceLambda writes with `TransactWriteItems`, but
   DynamoDB authorises each action inside a transaction as the plain item action: an
   `Update` needs `dynamodb:UpdateItem` on AggregateTable.

You will write the policy, check it offline with `labkit.iam` (which evaluates policies with
AWS's logic), and then put it in place."""),
    code(setup(("json",))),
    code('lab.provision("lab1.step2")', IGNORE),
    md("## The policy as it is now"),
    code("""\
iam = boto3.client("iam")
account = boto3.client("sts").get_caller_identity()["Account"]
POLICY_ARN = f"arn:aws:iam::{account}:policy/{names.prefix}ReduceLambdaPolicy"
REDUCE_ROLE = names.prefix + "ReduceLambdaRole"

default_version = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]["DefaultVersionId"]
current = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId=default_version)
current = current["PolicyVersion"]["Document"]
current = json.loads(current) if isinstance(current, str) else current
print(json.dumps(current, indent=2))"""),
    md("""\
`labkit.iam.is_allowed` answers one question the way AWS would: may this policy do this
action on this resource? Ask it about the stream:"""),
    code("""\
import labkit.iam

STREAM_ARN = dynamodb.describe_table(TableName=REDUCE_TABLE)["Table"]["LatestStreamArn"]
labkit.iam.is_allowed(current, "dynamodb:GetRecords", STREAM_ARN)"""),
    md("""\
`labkit.iam.check_least_privilege` compares a policy with everything a step needs
(`lab.policy_requirements()` lists it) and reports what is **missing** and what is granted
**beyond** the need, each with what to change:"""),
    code("""\
needs = lab.policy_requirements()
labkit.iam.check_least_privilege({"ReduceLambdaPolicy": current}, needs)"""),
    md("""\
What "beyond the need" means shows best on a careless policy. This one would work, and it
would also let ReduceLambda delete any table in the account:"""),
    code("""\
careless = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "logs:*"], "Resource": "*"}],
}
labkit.iam.check_least_privilege({"careless": careless}, needs)"""),
    md("""\
## Exercise 1: write the two statements

Keep the statements the policy already has and add two:

* one that allows the three stream-reading actions on ReduceTable's stream. The label of a
  stream changes if it is ever re-created, so end the ARN with `/stream/*`;
* one that allows `dynamodb:UpdateItem` on AggregateTable.

ARNs are literal text: if you copy an example with `{Region}` or `{Account}` in it, replace the
whole placeholder, braces included (a `*` works for both)."""),
    exercise(
        """\
stream_statement = {
    # Your statement: read ReduceTable's stream
}
write_statement = {
    # Your statement: add to the totals in AggregateTable
}
reduce_policy = {
    "Version": "2012-10-17",
    "Statement": current["Statement"] + [s for s in (stream_statement, write_statement) if s],
}""",
        """\
stream_statement = {
    "Sid": "ReadReduceTableStream",
    "Effect": "Allow",
    "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
    "Resource": f"arn:aws:dynamodb:*:*:table/{REDUCE_TABLE}/stream/*",
}
write_statement = {
    "Sid": "UpdateAggregateTable",
    "Effect": "Allow",
    "Action": "dynamodb:UpdateItem",
    "Resource": f"arn:aws:dynamodb:*:*:table/{AGGREGATE_TABLE}",
}
reduce_policy = {
    "Version": "2012-10-17",
    "Statement": current["Statement"] + [s for s in (stream_statement, write_statement) if s],
}""",
    ),
    md("Review your draft before it goes anywhere near IAM:"),
    code('labkit.iam.check_least_privilege({"ReduceLambdaPolicy": reduce_policy}, needs)'),
    md("""\
## Exercise 2: put it in place

ReduceLambdaPolicy is a *managed* policy with versions; the default version is the one in
force. Create a new version from `reduce_policy` and make it the default
(`iam.create_policy_version(..., SetAsDefault=True)`; the document goes in as JSON text).

A managed policy keeps at most five versions, so the cell above the exercise first removes
older ones that are not in use."""),
    code("""\
for version in iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]:
    if not version["IsDefaultVersion"]:
        iam.delete_policy_version(PolicyArn=POLICY_ARN, VersionId=version["VersionId"])"""),
    exercise(
        "# Your code here: a new default version of POLICY_ARN with reduce_policy\n",
        """\
iam.create_policy_version(
    PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(reduce_policy), SetAsDefault=True
)["PolicyVersion"]["IsDefaultVersion"]""",
    ),
    md("The question from before, asked of the policy now in force:"),
    code("""\
in_force = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]["DefaultVersionId"]
document = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId=in_force)
document = document["PolicyVersion"]["Document"]
document = json.loads(document) if isinstance(document, str) else document
labkit.iam.is_allowed(document, "dynamodb:GetRecords", STREAM_ARN)"""),
    md("## Check your work"),
    code('lab.check("lab1.step2")'),
    md("Next: **03-connect-reduce-lambda**."),
]

# ---------------------------------------------------------------------------------------------
# 03 connect ReduceLambda

CONNECT = [
    md("""\
# 3 · Connect ReduceLambda (`lab1.step3`)

Two settings decide how ReduceLambda is fed:

* **Reserved concurrency 1.** Every call adds a batch's totals to the *same* few
  AggregateTable items in one transaction. Transactions that touch the same items at the same
  time conflict and are cancelled, so one call at a time is both simpler and faster here.
* **Batch size 1000.** With one call at a time, each call should carry as much as it can: the
  mapping hands over up to 1000 stream records per call (a DynamoDB stream returns at most
  1000 per read). The default of 100 would mean ten times as many transactions.

Then you connect the stream. And, as in the reference lab, you will first see what AWS says
when the role cannot read the stream."""),
    code(
        setup(
            ("time", "pandas"),
            'lambda_client = boto3.client("lambda")\n'
            "ROUND = 200  # trades per round (the reference lab sends 10,000 a minute)\n",
        )
    ),
    code('lab.provision("lab1.step3")', IGNORE),
    md("""\
## Exercise 1: reserved concurrency

Reserve a concurrency of 1 for ReduceLambda (`lambda_client.put_function_concurrency`)."""),
    exercise(
        "# Your code here: lambda_client.put_function_concurrency(...)\n",
        """\
lambda_client.put_function_concurrency(FunctionName=REDUCE_LAMBDA, ReservedConcurrentExecutions=1)""",
        IGNORE,
    ),
    code("""\
lambda_client.get_function_concurrency(FunctionName=REDUCE_LAMBDA).get(
    "ReservedConcurrentExecutions", "not set"
)"""),
    md("""\
## The error everyone meets once

A mapping is connected to the stream's ARN:"""),
    code("""\
stream_arn = dynamodb.describe_table(TableName=REDUCE_TABLE)["Table"]["LatestStreamArn"]
stream_arn"""),
    md("""\
In the reference lab, people add the trigger before they fix the policy, and AWS refuses it.
You fixed the policy in notebook 02, so to see the refusal we take ReduceLambdaPolicy off the
role for a moment, try, and put it back. Read the message: it names the actions the role
needs and tells you where the problem is."""),
    code("""\
iam = boto3.client("iam")
account = boto3.client("sts").get_caller_identity()["Account"]
POLICY_ARN = f"arn:aws:iam::{account}:policy/{names.prefix}ReduceLambdaPolicy"
REDUCE_ROLE = names.prefix + "ReduceLambdaRole"

iam.detach_role_policy(RoleName=REDUCE_ROLE, PolicyArn=POLICY_ARN)
try:
    attempt = lambda_client.create_event_source_mapping(
        FunctionName=REDUCE_LAMBDA,
        EventSourceArn=stream_arn,
        BatchSize=1000,
        StartingPosition="TRIM_HORIZON",
    )
    # On AWS, IAM changes take a few seconds to reach Lambda, so this can still succeed.
    lambda_client.delete_event_source_mapping(UUID=attempt["UUID"])
    print("Accepted this time: the role's old permissions were still cached.")
except lambda_client.exceptions.InvalidParameterValueException as error:
    print("Refused:", error.response["Error"]["Message"])
finally:
    iam.attach_role_policy(RoleName=REDUCE_ROLE, PolicyArn=POLICY_ARN)
    time.sleep(0 if lab.backend.is_local else 15)  # let IAM catch up on AWS"""),
    md("""\
## Exercise 2: the mapping

With the policy back on the role, connect the stream: `lambda_client.create_event_source_mapping`
with ReduceLambda, `stream_arn`, a batch size of 1000 and `StartingPosition="TRIM_HORIZON"`
(read the stream from its oldest record, so totals that MapLambda stored before you connected
are added too)."""),
    exercise(
        "# Your code here: lambda_client.create_event_source_mapping(...)\n",
        """\
mapping = lambda_client.create_event_source_mapping(
    FunctionName=REDUCE_LAMBDA,
    EventSourceArn=stream_arn,
    BatchSize=1000,
    StartingPosition="TRIM_HORIZON",
)""",
    ),
    code("""\
found = lambda_client.list_event_source_mappings(FunctionName=REDUCE_LAMBDA)
pd.DataFrame(
    [
        {"reads": m["EventSourceArn"].split(":table/")[-1], "batch size": m["BatchSize"]}
        for m in found["EventSourceMappings"]
    ],
    columns=["reads", "batch size"],
)"""),
    md("""\
## The scoreboard

Each round the scoreboard sends a burst of trades, knows exactly what every total must change
by, waits until the pipeline has processed everything, and compares AggregateTable key by key.
A round scores 100 points only if every key is exact to the cent.

In JupyterLab the board below is live: it updates as rounds are played, and has buttons to
play a round or refresh. `board.start()` keeps playing rounds in the background (like the
reference lab's generator, once a minute) until `board.stop()`."""),
    code("board = lab.scoreboard(messages=ROUND)\nboard", IGNORE),
    md("""\
Play three rounds. At 300 points the workshop moves on to lab 2 by itself, as in the
reference lab: the failures of the next notebook switch on."""),
    code("board.play(3)", IGNORE),
    md("AggregateTable now holds the totals: 12 leaf keys, their roll-ups, and a message count."),
    code(
        """\
items = dynamodb.scan(TableName=AGGREGATE_TABLE, ConsistentRead=True)["Items"]
pd.DataFrame(
    [{"Identifier": i["Identifier"]["S"], "Value": float(i["Value"]["N"])} for i in items],
    columns=["Identifier", "Value"],
).sort_values("Identifier").set_index("Identifier")""",
        IGNORE,
    ),
    md("""\
## ReduceLambda's logs

Every call writes START, END and REPORT lines to CloudWatch Logs (`/aws/lambda/ReduceLambda`),
with anything the function prints in between. The viewer shows the newest first; type in the
filter box (for example `error`) to narrow it down."""),
    code('lab.logs("ReduceLambda", limit=15)', IGNORE),
    md("## Check your work"),
    code('lab.check("lab1.step3")'),
    md("Next: **04-exactly-once**."),
]

# ---------------------------------------------------------------------------------------------
# 04 exactly once

# The functions' code, as the learner starts with it and as the reference fixes it: the same
# files labkit deploys (``lab.provision`` the starter, ``lab.solve`` the solution).
STATE_STARTER = source(FunctionId.STATE, CodeVersion.STARTER)
STATE_SOLVED = source(FunctionId.STATE, CodeVersion.SOLUTION)
REDUCE_STARTER = source(FunctionId.REDUCE, CodeVersion.STARTER)
REDUCE_SOLVED = source(FunctionId.REDUCE, CodeVersion.SOLUTION)

EXACTLY_ONCE = [
    md("""\
# 4 · Exactly-once results from at-least-once delivery (`lab2.step1`, `lab2.step2`)

Lab 2 switches on what real pipelines live with:

* **Functions fail now and then, after their writes.** StateLambda fails in 5 % of its calls,
  MapLambda and ReduceLambda in 10 %. The event source mapping then sends *the very same
  batch* again. What the failed call already wrote stays written.
* **The generator sends duplicates and out-of-order versions.** Each batch of 40 trades has 5
  exact copies of earlier messages, and some trades are sent again as an *older* version
  after a newer one.

Event source mappings promise **at-least-once** delivery: every record is processed, some of
them more than once. Exact results therefore need every stage to be *idempotent* (doing it
twice is the same as doing it once) and to ignore stale data. MapLambda already is: it writes
each batch's totals only if no item with that batch's hash exists. StateLambda and ReduceLambda
are not, and the scoreboard will show it."""),
    code(
        setup(
            ("pandas",), "ROUND = 200\nWORK = lab.workdir  # your copies of the functions' code\n"
        )
    ),
    code('lab.provision("lab2.step1")', IGNORE),
    md("""\
## Watch the score drift

The failures are random. So that everyone in the room sees the same thing, fix the sequence
they follow (a setting in ParameterTable; remove it and they are random again). Then play two
rounds and look at the keys that are off, and at how far."""),
    code(
        """\
dynamodb.put_item(
    TableName=PARAMETER_TABLE,
    Item={"parameter": {"S": "FAILURE_SEED"}, "value": {"N": "39"}},
)
board = lab.scoreboard(messages=ROUND)
board.play(2)""",
        IGNORE,
    ),
    md("""\
Why? The event source mappings keep a record of every call they made. A call that failed is
followed by another one with the **same batch** (the same first sequence number) and a retry
count. When ReduceLambda's first attempt had already committed its transaction, the retry adds
the totals a second time. (`lab.invocations()` is a view of the local cloud; on AWS the same
story is in the functions' logs and in Lambda's metrics.)"""),
    code(
        """\
calls = pd.DataFrame(
    lab.invocations(),
    columns=["function", "first_sequence", "batch_size", "retry_count", "outcome", "error_type"],
)
again = calls[calls.duplicated(["function", "first_sequence"], keep=False)]
again.sort_values(["function", "first_sequence", "retry_count"]).tail(10)""",
        IGNORE,
    ),
    code('lab.logs("ReduceLambda", filter="on purpose", limit=5)', IGNORE),
    md("""\
**Think first, then read on:** which wrong keys come from ReduceLambda's retries, and which
from StateLambda?

* ReduceLambda: a retried batch is added twice, so totals grow too large.
* StateLambda: a retried Kinesis batch is harmless (writing the same values again changes
  nothing, so DynamoDB writes no stream record), but an *older version* that arrives after a
  newer one overwrites it. MapLambda then moves the trade's value back to the old version's
  key and amount.

## Fix 1: StateLambda keeps only newer versions (`lab2.step1`)

Make the write conditional, so that DynamoDB itself refuses it unless the trade is new or the
message's version is higher than the stored one: `ConditionExpression="attribute_not_exists(id)
OR #version < :version"`. A refused write raises `ConditionalCheckFailedException`, which here
just means "nothing to do": skip that message. Every *other* error must still fail the call,
or the mapping would think the batch succeeded and drop it.

Edit the function below and run the cell: it writes the file."""),
    exercise(
        "%%writefile {WORK}/state_lambda.py\n" + STATE_STARTER,
        "%%writefile {WORK}/state_lambda.py\n" + STATE_SOLVED,
        IGNORE,
    ),
    md("Deploy it (labkit adds the shared `pipeline.py` and updates the function's code):"),
    code('lab.deploy("StateLambda", WORK / "state_lambda.py")'),
    md("""\
The check sends your deployed StateLambda a new trade, a newer version, an older version, an
exact duplicate, and a message DynamoDB must reject, and looks at what it did:"""),
    code('lab.check("lab2.step1")'),
    md("""\
## Fix 2: ReduceLambda adds each batch once (`lab2.step2`)

`transact_write_items` accepts a `ClientRequestToken`. If the same token comes again within
10 minutes, DynamoDB does not apply the transaction again (and if it comes with a *different*
request, it raises `IdempotentParameterMismatchException`). So the token must be:

* the **same** on every attempt of one batch: compute it from the records, which a retry
  delivers identically (not `uuid4()`, the time or the request id);
* **different** for different batches;
* at most 36 characters: an md5 hex digest has 32.

Beware of anything whose order or value changes from one process to the next, such as a set
or Python's `hash()`: on AWS a retry may run in a new execution environment."""),
    exercise(
        "%%writefile {WORK}/reduce_lambda.py\n" + REDUCE_STARTER,
        "%%writefile {WORK}/reduce_lambda.py\n" + REDUCE_SOLVED,
        IGNORE,
    ),
    code('lab.deploy("ReduceLambda", WORK / "reduce_lambda.py")'),
    md("""\
This check sends your ReduceLambda one batch twice, then again to a freshly published version
(a new execution environment), then a different batch, and compares the totals:"""),
    code('lab.check("lab2.step2")'),
    md("""\
## Watch the score recover

The failures are still on, and so are the duplicates. With both fixes the rounds are exact
again."""),
    code("board.play(2)", IGNORE),
    code("lab.progress()"),
    md("""\
## What to take away

* Delivery is at least once: design every stage so that a repeat changes nothing.
* Decide with a condition *in the database* (a version check, a "does not exist yet"), not with
  a read followed by a write.
* Give a transaction an idempotency token derived from its input, stable across processes.
* Catch only the errors that mean "already done"; let everything else fail the batch.
* A token protects for 10 minutes only. A mapping retrying for longer (a poisoned batch) needs
  a bound: `MaximumRetryAttempts`, `MaximumRecordAgeInSeconds` and an on-failure destination."""),
    code('lab.check("lab2.step2")'),
]

#: ReduceLambdaPolicy once lab1.step2 is done (local names; on AWS they carry the prefix).
REDUCE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                "arn:aws:logs:*:*:log-group:/aws/lambda/ReduceLambda",
                "arn:aws:logs:*:*:log-group:/aws/lambda/ReduceLambda:*",
            ],
        },
        {
            "Sid": "ReadParameterTable",
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:*:*:table/ParameterTable",
        },
        {
            "Sid": "ReadReduceTableStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Resource": "arn:aws:dynamodb:*:*:table/ReduceTable/stream/*",
        },
        {
            "Sid": "UpdateAggregateTable",
            "Effect": "Allow",
            "Action": "dynamodb:UpdateItem",
            "Resource": "arn:aws:dynamodb:*:*:table/AggregateTable",
        },
    ],
}

#: The reference sources kept next to the solved notebooks. The fixed functions' code lives in
#: the package: labkit/lab/functions/*/solution/lambda_function.py.
SOURCES: dict[str, str] = {
    "reduce_lambda_policy.json": json.dumps(REDUCE_POLICY, indent=2) + "\n",
}

NOTEBOOKS: dict[str, list[Cell]] = {
    "00-welcome": WELCOME,
    "01-tables-and-streams": TABLES,
    "02-iam-policies": POLICIES,
    "03-connect-reduce-lambda": CONNECT,
    "04-exactly-once": EXACTLY_ONCE,
}


def build(name: str, solved: bool) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    cells = []
    for index, cell in enumerate(NOTEBOOKS[name]):
        text = cell.text(solved)
        if cell.kind == "markdown":
            new = nbformat.v4.new_markdown_cell(text)
        else:
            new = nbformat.v4.new_code_cell(text)
        new.id = f"{name[:2]}-{index:02d}"
        if cell.tags:
            new.metadata["tags"] = list(cell.tags)
        cells.append(new)
    notebook.cells = cells
    return notebook


def path_for(name: str, solved: bool) -> Path:
    return (SOLUTION_DIR if solved else LEARNER_DIR) / f"{name}.ipynb"


def sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    return [
        (c.cell_type, c.source, list(c.get("metadata", {}).get("tags", []))) for c in notebook.cells
    ]


def stale() -> list[Path]:
    """Notebooks whose cells (and reference sources whose text) differ from this source."""
    found = [
        SOLUTION_DIR / name
        for name, text in SOURCES.items()
        if not (SOLUTION_DIR / name).exists() or (SOLUTION_DIR / name).read_text() != text
    ]
    for name in NOTEBOOKS:
        for solved in (False, True):
            path = path_for(name, solved)
            if not path.exists():
                found.append(path)
                continue
            on_disk = nbformat.read(path, as_version=4)
            if sources(on_disk) != sources(build(name, solved)):
                found.append(path)
    return found


def execute_solutions() -> None:
    """Run the solved notebooks in order, on a fresh local cloud, and store their outputs."""
    from nbclient import NotebookClient

    from labkit.cloud import control
    from labkit.testing import free_port

    data_dir = Path(tempfile.mkdtemp(prefix="labkit-solutions-"))
    os.environ["LABKIT_DATA_DIR"] = str(data_dir)
    os.environ["LABKIT_PORT"] = str(free_port())
    try:
        for name in NOTEBOOKS:
            path = path_for(name, True)
            notebook = nbformat.read(path, as_version=4)
            client = NotebookClient(
                notebook, timeout=600, kernel_name="python3", record_timing=False
            )
            client.execute(cwd=str(SOLUTION_DIR))
            nbformat.write(notebook, path)
            print(f"executed {path.relative_to(ROOT)}")
    finally:
        control.stop(data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--execute", action="store_true", help="run the solved notebooks")
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if outdated else 0
    for name in NOTEBOOKS:
        for solved in (False, True):
            nbformat.write(build(name, solved), path_for(name, solved))
    for name, text in SOURCES.items():
        (SOLUTION_DIR / name).write_text(text)
    if args.execute:
        execute_solutions()
    return 0


if __name__ == "__main__":
    sys.exit(main())
