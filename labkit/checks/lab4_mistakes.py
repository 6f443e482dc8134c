"""Lab 4's catalogue of mistakes: what learners get wrong, and the hint each check gives.

Several come from the material itself, which is from 2015: Python 2 code, the object body read
as bytes, a ``dynamodb:DescribeStreams`` action that does not exist, and the claim that the
command line cannot enable a stream. Each entry has an integration test that makes the mistake
on a live local cloud and asserts the check names it by its code.
"""

from __future__ import annotations

from .mistake import Mistake

__all__ = ["ENTRIES"]

ENTRIES: tuple[Mistake, ...] = (
    # ---- lab4.step1: bucket, topic, policy, notification --------------------------------
    Mistake(
        "lab4-bucket-missing",
        "lab4.step1",
        "The upload bucket does not exist.",
        "Create it: `s3.create_bucket(Bucket={bucket!r})` (outside us-east-1 add "
        "`CreateBucketConfiguration={{'LocationConstraint': region}}`).",
    ),
    Mistake(
        "lab4-bucket-not-versioned",
        "lab4.step1",
        "Versioning is off, so an event cannot name the exact version that was uploaded.",
        "Turn it on: `s3.put_bucket_versioning(Bucket={bucket!r}, "
        "VersioningConfiguration={{'Status': 'Enabled'}})`. Step 5 replays an old version.",
    ),
    Mistake(
        "lab4-topic-missing",
        "lab4.step1",
        "The topic does not exist.",
        "Create it: `sns.create_topic(Name={topic!r})` (it returns the TopicArn).",
    ),
    Mistake(
        "lab4-topic-policy-bucket",
        "lab4.step1",
        "The topic's policy does not let the bucket publish (S3 refuses the notification with "
        "'Unable to validate the following destination configurations').",
        'Add a statement with `"Principal": {{"Service": "s3.amazonaws.com"}}`, '
        '`"Action": "SNS:Publish"`, `"Resource"` the topic ARN and the condition '
        '`{{"ArnEquals": {{"aws:SourceArn": "{bucket_arn}"}}}}`, then '
        "`sns.set_topic_attributes(TopicArn=..., AttributeName='Policy', AttributeValue=...)`.",
    ),
    Mistake(
        "lab4-topic-policy-open",
        "lab4.step1",
        "The topic's policy lets any bucket (in any account) publish to it.",
        "Limit the S3 statement to this bucket with the condition "
        '`{{"ArnEquals": {{"aws:SourceArn": "{bucket_arn}"}}}}`.',
    ),
    Mistake(
        "lab4-notification-missing",
        "lab4.step1",
        "The bucket sends no notification to the topic.",
        "`s3.put_bucket_notification_configuration(Bucket=..., NotificationConfiguration="
        "{{'TopicConfigurations': [{{'TopicArn': ..., 'Events': ['s3:ObjectCreated:*'], "
        "'Filter': {{'Key': {{'FilterRules': [{{'Name': 'prefix', 'Value': 'path/to/data/'}}]}}}}"
        "}}]}})`.",
    ),
    Mistake(
        "lab4-notification-prefix",
        "lab4.step1",
        "The notification is not limited to the prefix path/to/data/.",
        "Add the filter rule `{{'Name': 'prefix', 'Value': 'path/to/data/'}}` (with the "
        "trailing slash) under `Filter.Key.FilterRules`.",
    ),
    Mistake(
        "lab4-probe-no-message",
        "lab4.step1",
        "An upload under the prefix reached nobody through the topic.",
        "Look at the notification's TopicArn and Events (`s3:ObjectCreated:*`), and at the "
        "topic policy's condition: S3 drops events the policy does not allow.",
    ),
    # ---- lab4.step2: state table and counter-upload-processor ---------------------------
    Mistake(
        "lab4-state-table",
        "lab4.step2",
        "The state table is missing or has other keys.",
        "Create {table} with partition key `Counter` (S) and sort key `Date` (S), "
        "`BillingMode='PAY_PER_REQUEST'`.",
    ),
    Mistake(
        "lab4-function-missing",
        "lab4.step2",
        "A lab function does not exist.",
        "Create {function} (runtime python3.12, handler lambda_function.lambda_handler) with "
        "its role; `lab.solve('{step}')` builds the reference if you are stuck.",
    ),
    Mistake(
        "lab4-processor-policy",
        "lab4.step2",
        "The processor's role cannot do what the function does.",
        "It needs its logs, `s3:GetObject` and `s3:GetObjectVersion` on "
        "`arn:aws:s3:::{bucket}/path/to/data/*`, and `dynamodb:UpdateItem` on the state table.",
    ),
    Mistake(
        "lab4-sns-permission",
        "lab4.step2",
        "The function's resource policy does not let the topic invoke it, so SNS delivers "
        "nothing (the failure is in the log group sns/REGION/ACCOUNT/TOPIC/Failure).",
        "`lambda_client.add_permission(FunctionName={function!r}, StatementId='sns-invoke', "
        "Action='lambda:InvokeFunction', Principal='sns.amazonaws.com', SourceArn=topic_arn)`.",
    ),
    Mistake(
        "lab4-subscription-missing",
        "lab4.step2",
        "The function is not subscribed to the topic.",
        "`sns.subscribe(TopicArn=topic_arn, Protocol='lambda', Endpoint=function_arn)`.",
    ),
    Mistake(
        "lab4-python2",
        "lab4.step2",
        "The code is Python 2 (a `print` statement, `urllib.unquote` …), as in the material.",
        "Lambda runs Python 3: `print(...)` is a function and the decoder is "
        "`urllib.parse.unquote_plus`. The error was: {error}",
    ),
    Mistake(
        "lab4-test-event",
        "lab4.step2",
        "The function fails on the s3:TestEvent S3 sends when notifications are set up.",
        "The test message has no `Records`: loop over `message.get('Records', [])`. "
        "The error was: {error}",
    ),
    Mistake(
        "lab4-key-encoded",
        "lab4.step2",
        "The object key is used as it arrives: S3 sends it URL-encoded (a space as +).",
        "Decode it first: `key = urllib.parse.unquote_plus(record['s3']['object']['key'])`. "
        "The error was: {error}",
    ),
    Mistake(
        "lab4-body-bytes",
        "lab4.step2",
        "The file's body is used as bytes, so DynamoDB gets binary keys and refuses them.",
        "Decode it: `body = response['Body'].read().decode('utf-8')`. The error was: {error}",
    ),
    Mistake(
        "lab4-processor-error",
        "lab4.step2",
        "The processor failed on an upload.",
        "The error was: {error}. `lab.logs('{function}')` shows the whole traceback.",
    ),
    Mistake(
        "lab4-values-not-stored",
        "lab4.step2",
        "The processor ran but stored no value for the uploaded instance.",
        "`store` must set `InstanceValues.<instance>` of item (Counter, Date); a "
        "ConditionalCheckFailedException there means the value was already set.",
    ),
    Mistake(
        "lab4-map-overwritten",
        "lab4.step2",
        "Storing one instance's value wiped the other instances' values.",
        "Create the map only when it is missing: `SET InstanceValues = :empty` with "
        "`ConditionExpression='attribute_not_exists(InstanceValues)'`; then set "
        "`InstanceValues.#instance` alone.",
    ),
    Mistake(
        "lab4-upload-not-processed",
        "lab4.step2",
        "A real upload did not reach the state table (S3 → topic → function).",
        "The function works when invoked directly, so the path to it is broken: the "
        "subscription, the Lambda permission for the topic, or the notification.",
    ),
    # ---- lab4.step3: stream, aggregate table, aggregator --------------------------------
    Mistake(
        "lab4-stream-missing",
        "lab4.step3",
        "The state table has no stream. (The material says the command line cannot enable "
        "one; it has been able to for years.)",
        "`dynamodb.update_table(TableName={table!r}, StreamSpecification={{'StreamEnabled': "
        "True, 'StreamViewType': 'NEW_IMAGE'}})`, or `aws dynamodb update-table "
        "--stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE`.",
    ),
    Mistake(
        "lab4-stream-view",
        "lab4.step3",
        "The stream does not carry the new image the aggregator sums.",
        "Use StreamViewType NEW_IMAGE (disable the stream, then enable it again with it).",
    ),
    Mistake(
        "lab4-aggregate-table",
        "lab4.step3",
        "aggregate-counters is missing, has other keys, or lacks the ByDate index.",
        "Keys `Counter` (HASH, S) and `Date` (RANGE, S), and a global secondary index "
        "`ByDate` with `Date` as its HASH key and `Projection={{'ProjectionType': 'ALL'}}`.",
    ),
    Mistake(
        "lab4-describe-streams",
        "lab4.step3",
        "The aggregator's policy grants dynamodb:DescribeStreams, which is not an action "
        "(the material has it).",
        "Use `dynamodb:DescribeStream` (singular), with GetRecords and GetShardIterator, on "
        "the state table's stream ARN.",
    ),
    Mistake(
        "lab4-aggregator-policy",
        "lab4.step3",
        "The aggregator's role cannot read the stream or update the totals.",
        "Grant `dynamodb:DescribeStream`, `GetRecords`, `GetShardIterator` on "
        "`…:table/{state_table}/stream/*` and `dynamodb:UpdateItem` on {aggregate_table}.",
    ),
    Mistake(
        "lab4-mapping-missing",
        "lab4.step3",
        "No enabled mapping feeds the state table's stream to the aggregator.",
        "`lambda_client.create_event_source_mapping(EventSourceArn=stream_arn, "
        "FunctionName={function!r}, StartingPosition='TRIM_HORIZON', BatchSize=100)`.",
    ),
    Mistake(
        "lab4-totals-wrong",
        "lab4.step3",
        "The aggregator stored a wrong total (or none) for a state item.",
        "Sum every number in `NewImage['InstanceValues']['M']` and store it as `Value` of "
        "(Counter, Date). {sums}",
    ),
    Mistake(
        "lab4-aggregator-error",
        "lab4.step3",
        "The aggregator failed on a stream record.",
        "The error was: {error}. `lab.logs('{function}')` shows the whole traceback.",
    ),
    # ---- lab4.step4: the worked example -------------------------------------------------
    Mistake(
        "lab4-example-missing",
        "lab4.step4",
        "The ByDate query for 2015-11-16 finds no totals.",
        "Upload the five files of the example, in order, under "
        "`path/to/data/2015-11-16/values_<instance>`, then query again.",
    ),
    Mistake(
        "lab4-example-totals",
        "lab4.step4",
        "The totals of the worked example are not the material's.",
        "COUNTER1 must be 191122 and COUNTER2 54321; found {found}. An instance's new upload "
        "replaces its value (i-deadbeef: 123456, not 12345 + 123456).",
    ),
    # ---- lab4.step5: the lost update ----------------------------------------------------
    Mistake(
        "lab4-lost-update",
        "lab4.step5",
        "A retried old delivery, processed after a newer one, put the old value back.",
        "Store each instance's S3 `sequencer` beside its value (left-padded to one width) and "
        "add `attribute_not_exists(#seq.#instance) OR #seq.#instance < :seq` to the update.",
    ),
)
