"""Tiered hints for every step: a nudge, then more detail, then the answer.

``lab.hint(step)`` reveals the next tier each time it is called (the tier reached is saved
with the check results, so it survives a kernel restart); ``labkit hint STEP`` does the same
in a terminal. The answer tier is code a learner can paste.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lab3_hints import HINTS as LAB3_HINTS
from .lab4_hints import HINTS as LAB4_HINTS
from .lab5_hints import HINTS as LAB5_HINTS

__all__ = ["HINTS", "Hint", "hint_tiers"]

TIER_NAMES = ("nudge", "more", "answer")


@dataclass(frozen=True)
class Hint:
    """One revealed tier of a step's hints."""

    step: str
    tier: int  # 1, 2 or 3
    text: str

    @property
    def name(self) -> str:
        return TIER_NAMES[self.tier - 1]

    @property
    def last(self) -> bool:
        return self.tier == len(TIER_NAMES)

    def __str__(self) -> str:
        more = "" if self.last else f'\n(call lab.hint("{self.step}") again for more)'
        return f"Hint {self.tier}/3 for {self.step} ({self.name}):\n{self.text}{more}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from labkit.ui.html import AMBER, GREY, box, code, heading, rich_html

        body = heading(f"Hint {self.tier}/3 for {self.step} — {self.name}", AMBER)
        body += rich_html(self.text)
        if not self.last:
            body += (
                f'<div style="color:{GREY};font-size:12px">Call '
                f"{code(f'lab.hint({chr(34)}{self.step}{chr(34)})')} again for more.</div>"
            )
        return box(body, AMBER)


_CORE_HINTS: dict[str, tuple[str, str, str]] = {
    "lab1.step1": (
        "Four tables, each with one string partition key and on-demand capacity. Only the two "
        "tables whose changes another function must hear about need a stream.",
        "StateTable's stream feeds MapLambda, which must see a trade before and after a change "
        "(`NEW_AND_OLD_IMAGES`). ReduceTable's stream feeds ReduceLambda, which only needs the "
        "new item (`NEW_IMAGE`). AggregateTable and ParameterTable need no stream. Keys: "
        "StateTable `id`, ReduceTable `MessageId`, AggregateTable `Identifier`, ParameterTable "
        '`parameter`. On-demand is `BillingMode="PAY_PER_REQUEST"`.',
        "One call per table; for example StateTable:\n\n"
        "    dynamodb.create_table(\n"
        "        TableName=STATE_TABLE,\n"
        '        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],\n'
        '        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],\n'
        '        BillingMode="PAY_PER_REQUEST",\n'
        '        StreamSpecification={"StreamEnabled": True,\n'
        '                             "StreamViewType": "NEW_AND_OLD_IMAGES"},\n'
        "    )\n\n"
        "ReduceTable (`REDUCE_TABLE`) is the same with `MessageId` and `NEW_IMAGE`; "
        "AggregateTable (`Identifier`) and ParameterTable (`parameter`) leave out "
        "`StreamSpecification`.",
    ),
    "lab1.step2": (
        "ReduceLambda's role must do two new things: read ReduceTable's stream (that is what "
        "the event source mapping does on its behalf) and add to the totals in AggregateTable.",
        "Reading a stream takes `dynamodb:DescribeStream`, `dynamodb:GetShardIterator` and "
        "`dynamodb:GetRecords`, on the stream's ARN: the table's ARN followed by `/stream/` and "
        "a label, so end it with `/stream/*`. A transaction's Update is authorised as "
        "`dynamodb:UpdateItem` on the table. Keep the statements the policy already has (logs "
        "and ParameterTable).",
        "Add two statements to the ones the policy has (`current`), then make it the new "
        "default version:\n\n"
        "    stream_statement = {\n"
        '        "Sid": "ReadReduceTableStream",\n'
        '        "Effect": "Allow",\n'
        '        "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords",\n'
        '                   "dynamodb:GetShardIterator"],\n'
        '        "Resource": f"arn:aws:dynamodb:*:*:table/{REDUCE_TABLE}/stream/*",\n'
        "    }\n"
        "    write_statement = {\n"
        '        "Sid": "UpdateAggregateTable",\n'
        '        "Effect": "Allow",\n'
        '        "Action": "dynamodb:UpdateItem",\n'
        '        "Resource": f"arn:aws:dynamodb:*:*:table/{AGGREGATE_TABLE}",\n'
        "    }\n"
        '    reduce_policy = {**current, "Statement": [\n'
        '        *current["Statement"], stream_statement, write_statement]}\n'
        "    iam.create_policy_version(PolicyArn=POLICY_ARN,\n"
        "                              PolicyDocument=json.dumps(reduce_policy),\n"
        "                              SetAsDefault=True)",
    ),
    "lab1.step3": (
        "Two settings on the Lambda side: how many copies of ReduceLambda may run at once, and "
        "how it is fed from ReduceTable's stream.",
        "`put_function_concurrency` sets the reserved concurrency (1: one transaction at a "
        "time on AggregateTable). `create_event_source_mapping` connects the stream: it needs "
        'the stream\'s ARN (`describe_table(...)["Table"]["LatestStreamArn"]`), '
        "`BatchSize=1000` and a `StartingPosition`. If AWS answers 'Cannot access stream', the "
        "role cannot read the stream yet: see lab1.step2. (That message also names "
        "`ListStreams`: it lists a table's streams and is not needed to read one, so the "
        'lab\'s policy leaves it out; adding it on `"*"` does no harm.)',
        "    lambda_client.put_function_concurrency(\n"
        "        FunctionName=REDUCE_LAMBDA, ReservedConcurrentExecutions=1)\n"
        "    stream_arn = dynamodb.describe_table(TableName=REDUCE_TABLE)[\n"
        '        "Table"]["LatestStreamArn"]\n'
        "    lambda_client.create_event_source_mapping(\n"
        "        FunctionName=REDUCE_LAMBDA, EventSourceArn=stream_arn,\n"
        '        BatchSize=1000, StartingPosition="TRIM_HORIZON")',
    ),
    "lab2.step1": (
        "Messages can arrive twice or out of order. StateLambda should store a message only if "
        "it is newer than what StateTable already holds for that trade, and let DynamoDB "
        "decide that atomically.",
        "Give `update_item` a `ConditionExpression`: write if the item does not exist yet, or "
        "if its stored Version is lower than the message's. When the condition fails, DynamoDB "
        "raises `ConditionalCheckFailedException`: that one is expected, skip the message. Any "
        "other error must still fail the invocation, so the batch is retried.",
        "Inside the loop over records:\n\n"
        "    try:\n"
        "        dynamodb.update_item(\n"
        "            ...,  # as before\n"
        '            ConditionExpression="attribute_not_exists(id) OR #version < :version",\n'
        "        )\n"
        "    except ClientError as error:\n"
        '        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":\n'
        "            raise\n"
        '        print("Skipped an old or duplicate message for", trade["TradeID"])\n\n'
        "(with `from botocore.exceptions import ClientError`), then deploy with "
        '`lab.deploy("StateLambda", state_source)`.',
    ),
    "lab2.step2": (
        "When ReduceLambda fails after its transaction committed, the mapping sends the very "
        "same batch again, and the totals are added a second time. DynamoDB can recognise a "
        "repeated transaction, if you tell it which request this is.",
        "`transact_write_items` accepts a `ClientRequestToken` (at most 36 characters). A "
        "repeat with the same token within 10 minutes is not applied again. The token must be "
        "the same on every attempt of one batch, and different for different batches: compute "
        "it from the records themselves, which a retry delivers identically.",
        "Before the transaction:\n\n"
        "    token = hashlib.md5(str(event['Records']).encode()).hexdigest()  # 32 characters\n"
        "    dynamodb.transact_write_items(TransactItems=..., ClientRequestToken=token)\n\n"
        "and treat `IdempotentParameterMismatchException` (the same token with a different "
        "request) as 'already done'. Deploy with `lab.deploy(\"ReduceLambda\", reduce_source)`.",
    ),
}


#: The core lab's hints, then each further lab's (``labkit/checks/labN_hints.py``).
HINTS: dict[str, tuple[str, str, str]] = {**_CORE_HINTS, **LAB3_HINTS, **LAB4_HINTS, **LAB5_HINTS}


def hint_tiers(step: str) -> tuple[str, str, str]:
    """The three tiers of ``step``'s hints; ``ValueError`` for an unknown step."""
    try:
        return HINTS[step]
    except KeyError:
        raise ValueError(
            f"There are no hints for {step!r}. The steps are: {', '.join(HINTS)}."
        ) from None
