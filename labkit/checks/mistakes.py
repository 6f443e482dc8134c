"""The catalogue of mistakes the checks recognise, each with the hint a learner gets for it.

Every entry is a realistic slip seen in workshops like this one. A check that recognises one
returns a failed (or warning) :class:`~labkit.checks.report.CheckItem` whose ``code`` is the
entry's code and whose hint is the entry's hint, filled in with the specifics (table names,
values found). ``tests/integration/checks`` makes each mistake against a live local cloud and
asserts the check names it.
"""

from __future__ import annotations

from .lab3_mistakes import ENTRIES as LAB3_ENTRIES
from .lab4_mistakes import ENTRIES as LAB4_ENTRIES
from .lab5_mistakes import ENTRIES as LAB5_ENTRIES
from .mistake import Mistake

__all__ = ["MISTAKES", "Mistake", "mistakes_for"]


_ENTRIES = (
    # ---- lab1.step1: tables and streams ------------------------------------------------------
    Mistake(
        "table-missing",
        "lab1.step1",
        "A table was not created (often ParameterTable or AggregateTable, which have no stream).",
        "Create {table} with `dynamodb.create_table` (the exercise in notebook "
        "01-tables-and-streams); the step's task says which key{stream} it needs. Stuck? "
        '`lab.hint("lab1.step1")` gives a nudge, then more.',
    ),
    Mistake(
        "table-name-typo",
        "lab1.step1",
        "The table name is spelt differently (Statetable, state_table).",
        "Table names are case-sensitive and the functions look for {table} exactly. Delete "
        "{found} (`dynamodb.delete_table(TableName='{found}')`) and create {table}.",
    ),
    Mistake(
        "table-not-active",
        "lab1.step1",
        "The check ran while a table was still being created (on AWS this takes seconds).",
        "Wait until it is ready: "
        "`dynamodb.get_waiter('table_exists').wait(TableName='{table}')`, then check again.",
    ),
    Mistake(
        "wrong-key-name",
        "lab1.step1",
        "The partition key has another name than the one the functions write (Id, TradeID).",
        "The functions write items keyed '{key}', and names are case-sensitive. A key cannot "
        "be renamed: delete {table} and create it again with the partition key `{key}`.",
    ),
    Mistake(
        "wrong-key-type",
        "lab1.step1",
        "The partition key was declared as a number (N) instead of a string (S).",
        "Trade IDs, batch hashes and aggregate names are text, so `{key}` must have "
        "`AttributeType` `'S'`. A key's type cannot change: delete {table} and create it again.",
    ),
    Mistake(
        "sort-key",
        "lab1.step1",
        "A sort key (RANGE) was added to a table that needs a partition key only.",
        "The functions find each item by `{key}` alone; with a sort key as well, their writes "
        "are rejected. Delete {table} and create it again with only the HASH key `{key}`.",
    ),
    Mistake(
        "provisioned-capacity",
        "lab1.step1",
        "The table uses provisioned capacity (the create_table default) instead of on-demand.",
        "Bursts of trades would be throttled. Switch it in place: "
        "`dynamodb.update_table(TableName='{table}', BillingMode='PAY_PER_REQUEST')`.",
    ),
    Mistake(
        "stream-not-enabled",
        "lab1.step1",
        "The table was created without a stream (StreamSpecification left out).",
        "{reader} learns about changes only through this stream. Turn it on in place: "
        "`dynamodb.update_table(TableName='{table}', StreamSpecification={{'StreamEnabled': "
        "True, 'StreamViewType': '{view}'}})`.",
    ),
    Mistake(
        "wrong-stream-view",
        "lab1.step1",
        "The stream records carry the wrong images (KEYS_ONLY, NEW_IMAGE on StateTable ...).",
        "{why} A stream's view type cannot be changed. The table holds nothing yet, so delete "
        "it (`dynamodb.delete_table(TableName='{table}')`) and create it again with "
        "`StreamViewType` `'{view}'`.",
    ),
    Mistake(
        "unneeded-stream",
        "lab1.step1",
        "A stream was switched on for a table nobody reads a stream from.",
        "Nothing reads {table}'s stream. It does no harm; you may leave it or turn it off.",
        warning_only=True,
    ),
    # ---- lab1.step2: ReduceLambdaPolicy ------------------------------------------------------
    Mistake(
        "lab-not-provisioned",
        "lab1.step2",
        "The lab's roles and functions are not there (a fresh cloud, or after teardown).",
        'Create the lab\'s starting point for this step: `lab.reset("{step}")`.',
    ),
    Mistake(
        "placeholder-left",
        "lab1.step2",
        "A placeholder such as {Region} or {Account} was copied into an ARN, braces included.",
        "AWS does not fill in placeholders: an ARN with braces matches nothing. {fix}",
    ),
    Mistake(
        "table-arn-for-stream",
        "lab1.step2",
        "The stream-read actions were granted on the table's ARN instead of its stream's.",
        "A table and its stream are different resources: GetRecords, GetShardIterator and "
        "DescribeStream act on the stream, whose ARN is the table's ARN plus "
        "/stream/<label>. {fix}",
    ),
    Mistake(
        "putitem-instead-of-updateitem",
        "lab1.step2",
        "dynamodb:PutItem was granted on AggregateTable instead of dynamodb:UpdateItem.",
        "ReduceLambda adds to existing totals with an Update action inside a transaction, and "
        "DynamoDB authorises a transaction's Update as dynamodb:UpdateItem. {fix}",
    ),
    Mistake(
        "wrong-table",
        "lab1.step2",
        "A permission names the wrong table (ReduceTable instead of AggregateTable, or back).",
        "ReduceLambda reads ReduceTable's stream and writes AggregateTable. {fix}",
    ),
    Mistake(
        "old-stream-label",
        "lab1.step2",
        "A stream ARN with a fixed label was copied; the label changed when the stream was "
        "re-created.",
        "A stream's label (the date after /stream/) changes whenever the stream is turned off "
        "and on or the table is re-created. {fix}",
    ),
    Mistake(
        "action-typo",
        "lab1.step2",
        "An action name is misspelt (dynamodb:GetRecord, dynamodb:UpdateItems).",
        "IAM ignores actions it does not know, silently. {fix}",
    ),
    Mistake(
        "permission-missing",
        "lab1.step2",
        "A permission the function needs is not granted at all (the step is not done yet).",
        "No statement of ReduceLambdaPolicy allows {actions} on {resource} yet. Add it (the "
        'exercise in notebook 02-iam-policies); for a nudge: `lab.hint("{step}")`.',
    ),
    Mistake(
        "arn-mismatch",
        "lab1.step2",
        "A Resource is close to the ARN needed but differs: another region or account ID "
        "written in, or another part of the ARN.",
        "An ARN must match the resource in every part. {fix}",
    ),
    Mistake(
        "denied",
        "lab1.step2",
        "A Deny statement (often copied from an example) blocks an action the function needs.",
        "A Deny always wins over any Allow, so no statement you add helps while it is there. {fix}",
    ),
    Mistake(
        "too-broad",
        "lab1.step2",
        'The policy grants far more than the step needs ("dynamodb:*", Resource "*").',
        "Least privilege: grant only the actions and resources the function uses. {fix}",
    ),
    Mistake(
        "policy-error",
        "lab1.step2",
        "The policy has something that does not belong in it (a Principal copied from the "
        "role's trust policy, an ARN that fits no action).",
        "{fix}",
    ),
    Mistake(
        "version-not-default",
        "lab1.step2",
        "A new policy version was created without SetAsDefault=True, so it is not in force.",
        "Only a managed policy's default version applies. Make yours the default: "
        "`iam.set_default_policy_version(PolicyArn='{policy_arn}', VersionId='{version}')`.",
    ),
    Mistake(
        "policy-not-attached",
        "lab1.step2",
        "The permissions were written into a new policy that is not attached to the role.",
        "{policy} grants what is missing but is not attached to {role}. Either attach it "
        "(`iam.attach_role_policy(RoleName='{role}', PolicyArn='{policy_arn}')`) or, as the "
        "lab intends, put the statements into {expected} as a new default version.",
    ),
    # ---- lab1.step3: connect ReduceLambda ----------------------------------------------------
    Mistake(
        "function-missing",
        "lab1.step3",
        "The function to connect does not exist (the lab is not provisioned).",
        'Create the lab\'s starting point for this step: `lab.reset("{step}")`.',
    ),
    Mistake(
        "concurrency-not-set",
        "lab1.step3",
        "Reserved concurrency was not set, so several ReduceLambda calls run at once.",
        "Parallel transactions on the same AggregateTable items conflict and are cancelled, "
        "so {function} must run one call at a time: reserve its concurrency (the exercise in "
        'notebook 03-connect-reduce-lambda). For a nudge: `lab.hint("lab1.step3")`.',
    ),
    Mistake(
        "concurrency-zero",
        "lab1.step3",
        "Reserved concurrency was set to 0, which stops the function altogether.",
        "0 means 'throttle everything': the mapping waits and nothing is added. Set it to 1: "
        "`lambda_client.put_function_concurrency(FunctionName='{function}', "
        "ReservedConcurrentExecutions=1)`.",
    ),
    Mistake(
        "concurrency-wrong",
        "lab1.step3",
        "Reserved concurrency was set to another number than 1.",
        "With {found} calls at once, transactions on the same aggregate items conflict. Set it "
        "to 1: `lambda_client.put_function_concurrency(FunctionName='{function}', "
        "ReservedConcurrentExecutions=1)`.",
    ),
    Mistake(
        "mapping-missing",
        "lab1.step3",
        "The mapping was created before the policy allowed reading the stream, so AWS refused "
        "it ('Cannot access stream ...') and nothing was connected.",
        "{policy_state}Then connect ReduceTable's stream to {function} with "
        "`lambda_client.create_event_source_mapping` (the exercise in notebook "
        '03-connect-reduce-lambda); for a nudge: `lab.hint("lab1.step3")`.',
    ),
    Mistake(
        "mapping-wrong-source",
        "lab1.step3",
        "The mapping reads another stream (StateTable's, or a Kinesis stream).",
        "ReduceLambda sums the totals MapLambda writes to ReduceTable, so it must read "
        "ReduceTable's stream. Delete this mapping "
        "(`lambda_client.delete_event_source_mapping(UUID='{uuid}')`) and map {stream} "
        "instead.",
    ),
    Mistake(
        "mapping-old-stream",
        "lab1.step3",
        "The mapping points at an old stream of ReduceTable (the stream was re-created).",
        "ReduceTable's current stream is {stream}; this mapping reads one that no longer gets "
        "records. Delete it (`lambda_client.delete_event_source_mapping(UUID='{uuid}')`) and "
        "map the current `LatestStreamArn`.",
    ),
    Mistake(
        "mapping-disabled",
        "lab1.step3",
        "The mapping exists but is disabled (Enabled=False).",
        "Turn it on: `lambda_client.update_event_source_mapping(UUID='{uuid}', Enabled=True)`. "
        "It resumes where it stopped.",
    ),
    Mistake(
        "batch-size",
        "lab1.step3",
        "BatchSize was left at its default of 100 (or set to another value than 1000).",
        "With one call at a time, small batches mean many more transactions and the aggregates "
        "fall behind. Change it in place: `lambda_client.update_event_source_mapping("
        "UUID='{uuid}', BatchSize=1000)`.",
    ),
    Mistake(
        "starting-latest",
        "lab1.step3",
        "StartingPosition LATEST was chosen, so totals stored before the mapping are skipped.",
        "LATEST skips what ReduceTable's stream already holds; TRIM_HORIZON would have added "
        "those totals too. New rounds score either way.",
        warning_only=True,
    ),
    Mistake(
        "runtime-access-denied",
        "lab1.step3",
        "ReduceLambda runs but its writes are denied (the policy lacks UpdateItem on "
        "AggregateTable).",
        "Its calls fail with AccessDeniedException: {error}. Fix ReduceLambdaPolicy "
        '(`lab.check("lab1.step2")` says what is missing); the mapping retries the batch.',
    ),
    Mistake(
        "function-failing",
        "lab1.step3",
        "ReduceLambda fails on the batches it receives.",
        "Its last calls failed with {error}. Read its logs: `lab.logs('{function}')`.",
    ),
    Mistake(
        "aggregates-empty",
        "lab1.step3",
        "Trades went through, but nothing reached AggregateTable.",
        "ReduceTable holds totals, but AggregateTable is still empty. Read ReduceLambda's logs "
        "(`lab.logs('{function}')`) and the mapping's `LastProcessingResult`.",
    ),
    # ---- lab2.step1: StateLambda keeps only newer versions -----------------------------------
    Mistake(
        "state-not-deployed",
        "lab2.step1",
        "The fix was never deployed, or the starter code was deployed unchanged, so "
        "StateLambda still runs the starter code.",
        "StateLambda runs the starter code, unchanged (what the lab started with, or the "
        "same code deployed again). Make the change the TODO in its `lambda_handler` asks "
        "for, as notebook 04-exactly-once shows, deploy it "
        '(`lab.deploy("StateLambda", path_or_source)`) and check again.',
    ),
    Mistake(
        "no-version-condition",
        "lab2.step1",
        "StateLambda writes every message, so an older version overwrites a newer one.",
        "StateLambda's write must only happen when the message is newer than what "
        "StateTable holds: give `update_item` a `ConditionExpression` on the stored Version. "
        'For a nudge: `lab.hint("lab2.step1")`.',
    ),
    Mistake(
        "condition-rejects-new",
        "lab2.step1",
        "The condition forgot attribute_not_exists(id), so a trade seen for the first time is "
        "never stored.",
        "A comparison with a missing attribute is false, so `#version < :version` alone "
        "rejects every new trade. Let a trade that is not stored yet through as well: "
        "`attribute_not_exists(id) OR #version < :version`.",
    ),
    Mistake(
        "condition-rejects-newer",
        "lab2.step1",
        "The comparison is the wrong way round (#version > :version), so newer versions are "
        "rejected.",
        "Keep the stored item only if it is older than the message: the write may happen when "
        "the stored `#version < :version`.",
    ),
    Mistake(
        "condition-not-handled",
        "lab2.step1",
        "ConditionalCheckFailedException is not caught, so a duplicate fails the whole batch.",
        "A rejected write is the expected outcome for a duplicate or an older version. Catch "
        "botocore's `ClientError`, and if `error.response['Error']['Code'] == "
        "'ConditionalCheckFailedException'` skip that message; otherwise re-raise.",
    ),
    Mistake(
        "catch-all",
        "lab2.step1",
        "StateLambda catches every exception, so real failures (throttling, denied access, "
        "invalid data) are swallowed and their messages lost.",
        "Only ConditionalCheckFailedException means 'nothing to do'. Re-raise every other "
        "error, so the mapping retries the batch instead of dropping it.",
    ),
    Mistake(
        "probe-error",
        "lab2.step1",
        "The function fails on an ordinary message (a syntax or logic error in the new code).",
        "{function} failed on a well-formed message: {error}. Read its logs: "
        "`lab.logs('{function}')`.",
    ),
    # ---- lab2.step2: ReduceLambda idempotent -------------------------------------------------
    Mistake(
        "reduce-not-deployed",
        "lab2.step2",
        "The fix was never deployed, or the starter code was deployed unchanged, so "
        "ReduceLambda still runs the starter code.",
        "ReduceLambda runs the starter code, unchanged (what the lab started with, or the "
        "same code deployed again). Make the change the TODO in its `lambda_handler` asks "
        "for, as notebook 04-exactly-once shows, deploy it "
        '(`lab.deploy("ReduceLambda", path_or_source)`) and check again.',
    ),
    Mistake(
        "counted-twice",
        "lab2.step2",
        "No ClientRequestToken, or one that changes on every attempt (uuid4(), time.time(), "
        "context.aws_request_id), so a retried batch is added twice.",
        "A retry must send the same `ClientRequestToken` as the first attempt, so derive it "
        "from the batch itself. `uuid4()`, `time.time()` and `context.aws_request_id` are new "
        'on every attempt. For a nudge: `lab.hint("lab2.step2")`.',
    ),
    Mistake(
        "token-unstable",
        "lab2.step2",
        "The token is computed from something whose order or hash changes between processes "
        "(a set, hash(), a dict built from a set).",
        "On AWS a retry may run in another execution environment. A set's order and Python's "
        "`hash()` differ from one process to the next, so the token changed and the batch was "
        "added twice. Hash the records list as it arrives (it is retried identically).",
    ),
    Mistake(
        "token-too-long",
        "lab2.step2",
        "The token is longer than DynamoDB allows (a sha256 hex digest has 64 characters).",
        "A `ClientRequestToken` may have at most 36 characters, so every call fails with "
        "ValidationException. md5's `hexdigest()` has 32.",
    ),
    Mistake(
        "token-constant",
        "lab2.step2",
        "The same token is used for every batch (a constant, or a hash of something that does "
        "not change), so every batch after the first is ignored.",
        "DynamoDB treats a repeated token as the same request: {what}. Make the token depend on "
        "the batch's records.",
    ),
    Mistake(
        "put-overwrites",
        "lab2.step2",
        "The totals are written with Put (or SET) instead of added with ADD, so each batch "
        "replaces the total instead of adding to it.",
        "Keep the Update action with `UpdateExpression='ADD #value :value'`: the aggregate is "
        "a running sum over all batches.",
    ),
    Mistake(
        "reduce-not-adding",
        "lab2.step2",
        "ReduceLambda ran without error but added nothing to AggregateTable.",
        "It returned normally, but the totals of the test batch never reached "
        "AggregateTable. Make sure the transaction is still sent (and to `AGGREGATE_TABLE`).",
    ),
    Mistake(
        "reduce-error",
        "lab2.step2",
        "ReduceLambda fails on an ordinary batch (a syntax or logic error in the new code).",
        "{function} failed on a well-formed batch: {error}. Read its logs: "
        "`lab.logs('{function}')`.",
    ),
)

#: The core lab's entries, then each further lab's (``labkit/checks/labN_mistakes.py``).
_ALL: tuple[Mistake, ...] = (*_ENTRIES, *LAB3_ENTRIES, *LAB4_ENTRIES, *LAB5_ENTRIES)

MISTAKES: dict[str, Mistake] = {entry.code: entry for entry in _ALL}
assert len(MISTAKES) == len(_ALL), "mistake codes are unique across labs"


def mistakes_for(step: str) -> list[Mistake]:
    """The catalogue entries of one step, in order."""
    return [m for m in _ALL if m.step == step]
