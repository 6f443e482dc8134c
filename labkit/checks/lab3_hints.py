"""Hints for lab 3, three tiers per step: a nudge, more, then the answer."""

from __future__ import annotations

__all__ = ["HINTS"]

HINTS: dict[str, tuple[str, str, str]] = {
    "lab3.step1": (
        "logfile is a provisioned table with one string key and one index, GSI_1, by host. "
        "Load the 500-row file before you think about streams.",
        "create_table needs AttributeDefinitions for PK and GSI_1_PK (both S), "
        "ProvisionedThroughput 5/5 for the table and for GSI_1, and GSI_1's Projection "
        "INCLUDE with only bytessent. Then lab.load_logfile(names.logfile, "
        "files['logfile_small1.csv']).",
        "dynamodb.create_table(TableName=names.logfile, KeySchema=[{'AttributeName': 'PK', "
        "'KeyType': 'HASH'}], AttributeDefinitions=[{'AttributeName': 'PK', 'AttributeType': "
        "'S'}, {'AttributeName': 'GSI_1_PK', 'AttributeType': 'S'}], ProvisionedThroughput="
        "{'ReadCapacityUnits': 5, 'WriteCapacityUnits': 5}, GlobalSecondaryIndexes=[{"
        "'IndexName': 'GSI_1', 'KeySchema': [{'AttributeName': 'GSI_1_PK', 'KeyType': "
        "'HASH'}], 'Projection': {'ProjectionType': 'INCLUDE', 'NonKeyAttributes': "
        "['bytessent']}, 'ProvisionedThroughput': {'ReadCapacityUnits': 5, "
        "'WriteCapacityUnits': 5}}]); wait with dynamodb.get_waiter('table_exists'), then "
        "lab.load_logfile(names.logfile, files['logfile_small1.csv']).",
    ),
    "lab3.step2": (
        "Read the material's create-table command for the replica closely: it is not a copy "
        "of logfile.",
        "The replica has 10 reads (logfile 5), its GSI_1 has 10 reads too, it projects "
        "bytessent, requestid and host, and it carries the tag "
        "workshop-design-patterns=targeted-for-cleanup.",
        "dynamodb.create_table(TableName=names.replica, KeySchema=[{'AttributeName': 'PK', "
        "'KeyType': 'HASH'}], AttributeDefinitions=[{'AttributeName': 'PK', 'AttributeType': "
        "'S'}, {'AttributeName': 'GSI_1_PK', 'AttributeType': 'S'}], ProvisionedThroughput="
        "{'ReadCapacityUnits': 10, 'WriteCapacityUnits': 5}, Tags=[{'Key': "
        "'workshop-design-patterns', 'Value': 'targeted-for-cleanup'}], "
        "GlobalSecondaryIndexes=[{'IndexName': 'GSI_1', 'KeySchema': [{'AttributeName': "
        "'GSI_1_PK', 'KeyType': 'HASH'}], 'Projection': {'ProjectionType': 'INCLUDE', "
        "'NonKeyAttributes': ['bytessent', 'requestid', 'host']}, 'ProvisionedThroughput': "
        "{'ReadCapacityUnits': 10, 'WriteCapacityUnits': 5}}]).",
    ),
    "lab3.step3": (
        "AWS refuses two things in the material: read the error messages, they say what. "
        "Then narrow the policy's resources.",
        'A statement\'s key is "Resource", not "Resources" (MalformedPolicyDocument), and '
        "python3.7 is retired (InvalidParameterValueException): use python3.12. The function "
        "needs DescribeStream, GetRecords and GetShardIterator on logfile's stream, and PutItem "
        "and DeleteItem on the replica.",
        "iam.create_policy_version(PolicyArn=<DDBReplicationPolicy's ARN>, SetAsDefault=True, "
        "PolicyDocument=json.dumps(policy)) where policy allows the three stream actions on "
        "arn:aws:dynamodb:<region>:<account>:table/<logfile>/stream/*, dynamodb:PutItem and "
        "dynamodb:DeleteItem on the replica's table ARN, and the logs actions on its log "
        "group; then lambda_client.create_function(FunctionName=names.function, "
        "Runtime='python3.12', Role=<DDBReplicationRole's ARN>, Handler="
        "'lambda_function.lambda_handler', Timeout=60, Environment={'Variables': "
        "{'REPLICA_TABLE': names.replica}}, Code={'ZipFile': zip_bytes}).",
    ),
    "lab3.step4": (
        "Three pieces: a stream that carries the new item, a mapping, and a handler that "
        "handles every kind of record and lets failures fail.",
        "Turn on StreamViewType NEW_IMAGE, map LatestStreamArn with BatchSize=100 and "
        "StartingPosition='TRIM_HORIZON'. In the handler, delete the item for a REMOVE "
        "record, and take the try/except away so a failed write fails the batch.",
        "dynamodb.update_table(TableName=names.logfile, StreamSpecification={'StreamEnabled': "
        "True, 'StreamViewType': 'NEW_IMAGE'}); lambda_client.create_event_source_mapping("
        "FunctionName=names.function, EventSourceArn=<LatestStreamArn>, BatchSize=100, "
        "StartingPosition='TRIM_HORIZON'); in the loop: if record['eventName'] == 'REMOVE': "
        "dynamodb.delete_item(TableName=REPLICA_TABLE, Key=record['dynamodb']['Keys']) else "
        "dynamodb.put_item(TableName=REPLICA_TABLE, Item=record['dynamodb']['NewImage']), no "
        "except; deploy with lab.deploy('ddbreplica_lambda', source).",
    ),
    "lab3.step5": (
        "Load the stream file into logfile, not into the replica: the stream does the rest.",
        "lab.load_logfile(names.logfile, files['logfile_stream.csv']) writes 2,000 requests; "
        "wait for the mapping with lab.wait_idle(), then compare the tables. The 500 older "
        "rows stay in logfile only.",
        "lab.load_logfile(names.logfile, files['logfile_stream.csv']); lab.wait_idle(); "
        "lab.check('lab3.step5'). If nothing arrived, the mapping started at LATEST after the "
        "load: delete it, create it with TRIM_HORIZON, and load again.",
    ),
}
