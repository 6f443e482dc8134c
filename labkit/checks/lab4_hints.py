"""Lab 4's hints, three tiers per step: a nudge, more, then the answer."""

from __future__ import annotations

__all__ = ["HINTS"]

HINTS: dict[str, tuple[str, str, str]] = {
    "lab4.step1": (
        "Three resources and two permissions: a versioned bucket, a topic, a topic policy that "
        "lets S3 publish for this bucket only, and the bucket's notification to the topic.",
        "S3 checks the topic policy when you put the notification: with the default policy it "
        "answers 'Unable to validate the following destination configurations'. The statement "
        "for S3 needs `Principal` `{'Service': 's3.amazonaws.com'}` and a condition on "
        "`aws:SourceArn`. The notification wants `Events=['s3:ObjectCreated:*']` and a filter "
        "rule `prefix` = `path/to/data/`.",
        "`s3.create_bucket(Bucket=bucket)`; `s3.put_bucket_versioning(Bucket=bucket, "
        "VersioningConfiguration={'Status': 'Enabled'})`; `topic = sns.create_topic(Name="
        "'counter-upload-events')['TopicArn']`; add the statement `{'Sid': 'S3Publishes', "
        "'Effect': 'Allow', 'Principal': {'Service': 's3.amazonaws.com'}, 'Action': "
        "'SNS:Publish', 'Resource': topic, 'Condition': {'ArnEquals': {'aws:SourceArn': "
        "f'arn:aws:s3:::{bucket}'}}}` with `sns.set_topic_attributes(TopicArn=topic, "
        "AttributeName='Policy', AttributeValue=json.dumps(policy))`; then "
        "`s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration="
        "{'TopicConfigurations': [{'TopicArn': topic, 'Events': ['s3:ObjectCreated:*'], "
        "'Filter': {'Key': {'FilterRules': [{'Name': 'prefix', 'Value': 'path/to/data/'}]}}}]})`.",
    ),
    "lab4.step2": (
        "The state table, the function with its role, a Lambda permission for the topic, the "
        "subscription, and the two conditional updates in `store`.",
        "DynamoDB cannot set `InstanceValues.#instance` while `InstanceValues` does not "
        "exist, and setting the whole map would wipe the other instances. So: first create the "
        "map only if it is missing (`attribute_not_exists`), then set this instance's entry "
        "only if it differs (`NOT InstanceValues.#instance = :value`). Decode the key with "
        "`unquote_plus` and the body with `.decode('utf-8')`.",
        "In `store`: `ignore_unchanged(table.update_item, Key=key, UpdateExpression='SET #v = "
        ":empty', ConditionExpression='attribute_not_exists(#v)', ExpressionAttributeNames="
        "{'#v': 'InstanceValues'}, ExpressionAttributeValues={':empty': {}})` and "
        "`ignore_unchanged(table.update_item, Key=key, UpdateExpression='SET #v.#i = :value', "
        "ConditionExpression='NOT #v.#i = :value', ExpressionAttributeNames={'#v': "
        "'InstanceValues', '#i': instance}, ExpressionAttributeValues={':value': value})`. "
        "Then `lambda_client.add_permission(FunctionName='counter-upload-processor', "
        "StatementId='sns-invoke', Action='lambda:InvokeFunction', Principal="
        "'sns.amazonaws.com', SourceArn=topic)` and `sns.subscribe(TopicArn=topic, "
        "Protocol='lambda', Endpoint=function_arn)`. `lab.solve('lab4.step2')` deploys it all.",
    ),
    "lab4.step3": (
        "A NEW_IMAGE stream on the state table, aggregate-counters with its ByDate index, and "
        "the aggregator connected to the stream.",
        "Streams are a table setting: `update_table(StreamSpecification=...)` (the command "
        "line can do it too, whatever the material says). The aggregator's role reads the "
        "stream with `dynamodb:DescribeStream`, `GetRecords` and `GetShardIterator` (there is "
        "no `DescribeStreams`). Sum `NewImage['InstanceValues']['M']` and write the total with "
        "the condition `NOT #value = :total`.",
        "`dynamodb.update_table(TableName='counter-upload-processor-state', "
        "StreamSpecification={'StreamEnabled': True, 'StreamViewType': 'NEW_IMAGE'})`; create "
        "aggregate-counters with keys Counter/Date and `GlobalSecondaryIndexes=[{'IndexName': "
        "'ByDate', 'KeySchema': [{'AttributeName': 'Date', 'KeyType': 'HASH'}], 'Projection': "
        "{'ProjectionType': 'ALL'}}]`; then `lambda_client.create_event_source_mapping("
        "EventSourceArn=stream_arn, FunctionName='counter-upload-aggregator', "
        "StartingPosition='TRIM_HORIZON', BatchSize=100)`. `lab.solve('lab4.step3')` does it.",
    ),
    "lab4.step4": (
        "Upload the material's five files for 2015-11-16, in order, then query ByDate.",
        "Each file is `path/to/data/2015-11-16/values_<instance>`. i-deadbeef uploads twice: its "
        "second value replaces the first, it does not add to it.",
        "Upload 'COUNTER1 12345' (i-deadbeef), 'COUNTER1 12345' (i-beefdead), "
        "'COUNTER1 54321\\nCOUNTER2 54321' (i-foobazzled), 'COUNTER1 123456' (i-deadbeef), "
        "'COUNTER1 1000' (i-flub); `lab.wait_idle()`; then `dynamodb.query(TableName="
        "'aggregate-counters', IndexName='ByDate', KeyConditionExpression='#d = :d', "
        "ExpressionAttributeNames={'#d': 'Date'}, ExpressionAttributeValues={':d': {'S': "
        "'2015-11-16'}})` gives 191122 and 54321.",
    ),
    "lab4.step5": (
        "A retry of an old delivery must not overwrite a newer value: the update needs to know "
        "which of two uploads came later.",
        "Every S3 event carries `sequencer`, a hexadecimal string that grows for each event on "
        "one key (and the key is per instance and day). Keep it per instance beside the value, "
        "and update only if the stored one is smaller. Left-pad it to one width first: "
        "sequencers may differ in length, and DynamoDB compares strings.",
        "Create both maps at once (`SET #v = :empty, #s = :empty` if `attribute_not_exists(#v)`), "
        "then `UpdateExpression='SET #v.#i = :value, #s.#i = :seq'` with `ConditionExpression="
        "'attribute_not_exists(#s.#i) OR #s.#i < :seq'`, `#s` = 'InstanceSequencers' and "
        "`:seq` = `record['s3']['object']['sequencer'].rjust(32, '0')`. "
        "`lab.source('counter-upload-processor', 'ordered')` is the reference.",
    ),
}
