"""What learners get wrong in lab 3 (replicating logfile into logfile_replica), with hints.

Each entry's hint is filled in with the specifics the check found (names carry the backend's
prefix). ``tests/integration/lab3`` makes every mistake against a live local cloud and asserts
the check names it by its code.
"""

from __future__ import annotations

from .mistake import Mistake

__all__ = ["ENTRIES"]

ENTRIES: tuple[Mistake, ...] = (
    # ---- lab3.step1: the logfile table ------------------------------------------------------
    Mistake(
        "lab3-table-missing",
        "lab3.step1",
        "The table was not created, or under another name (LogFile, log_file).",
        "Create it as the notebook shows: dynamodb.create_table(TableName='{table}', ...). {found}",
    ),
    Mistake(
        "lab3-unprefixed-name",
        "lab3.step1",
        "A table name was typed in by hand ('logfile'), which breaks on the aws backend, where "
        "every name of the lab carries a prefix.",
        "On this backend the lab's tables are called {table}, but you created {found}. Take "
        "names from the lab (names.logfile, names.replica) instead of typing them; delete "
        "{found} (dynamodb.delete_table(TableName='{found}')) and create {table}.",
    ),
    Mistake(
        "lab3-on-demand",
        "lab3.step1",
        "The table was made on-demand (PAY_PER_REQUEST) instead of with the material's "
        "provisioned capacity.",
        "This lab uses provisioned capacity, as the material does: "
        "dynamodb.update_table(TableName='{table}', BillingMode='PROVISIONED', "
        "ProvisionedThroughput={{'ReadCapacityUnits': {read}, 'WriteCapacityUnits': {write}}}, "
        "GlobalSecondaryIndexUpdates=[{{'Update': {{'IndexName': 'GSI_1', "
        "'ProvisionedThroughput': {{'ReadCapacityUnits': {index_read}, "
        "'WriteCapacityUnits': {index_write}}}}}}}]).",
    ),
    Mistake(
        "lab3-index-missing",
        "lab3.step1",
        "GSI_1 was left out (or named differently), so nothing can be looked up by host.",
        "Queries by host use the index GSI_1 on GSI_1_PK (a string). Add it in place: "
        "dynamodb.update_table(TableName='{table}', AttributeDefinitions=[{{'AttributeName': "
        "'GSI_1_PK', 'AttributeType': 'S'}}], GlobalSecondaryIndexUpdates=[{{'Create': "
        "{{'IndexName': 'GSI_1', 'KeySchema': [{{'AttributeName': 'GSI_1_PK', 'KeyType': "
        "'HASH'}}], 'Projection': {projection}, 'ProvisionedThroughput': "
        "{{'ReadCapacityUnits': {index_read}, 'WriteCapacityUnits': {index_write}}}}}}}]).",
    ),
    Mistake(
        "lab3-wrong-projection",
        "lab3.step1",
        "GSI_1 projects other attributes than the step asks for (ALL, KEYS_ONLY, or another list).",
        "{table}'s GSI_1 should project {wanted} (INCLUDE). An index's projection cannot be "
        "changed: delete the index (GlobalSecondaryIndexUpdates=[{{'Delete': {{'IndexName': "
        "'GSI_1'}}}}]) and create it again with Projection={projection}.",
    ),
    Mistake(
        "lab3-stream-too-early",
        "lab3.step1",
        "The stream was turned on before the first load, so the 500 old rows would flow into "
        "the replica too.",
        "In this lab the 500 rows are history that exists before anyone listens. Turn the "
        "stream off for now (dynamodb.update_table(TableName='{table}', StreamSpecification="
        "{{'StreamEnabled': False}})); step 4 turns it on. Records already in the old stream "
        "are not read by a mapping you create on the new one.",
    ),
    Mistake(
        "lab3-rows-missing",
        "lab3.step1",
        "The 500-row file was not loaded (or only partly).",
        "Load it: lab.load_logfile('{table}', files['{file}']) (or, in a terminal, labkit "
        "load-logfile {table} <path>). Loading again is harmless: the same rows are written "
        "again.",
    ),
    Mistake(
        "lab3-numbers-as-text",
        "lab3.step1",
        "The numeric columns were stored as strings (requestid '17' instead of 17), so "
        "numeric comparisons and sums do not work.",
        "The loader stores requestid, hourofday, responsecode and bytessent as numbers "
        "({{'N': '17'}}). Load with lab.load_logfile('{table}', ...), which puts every row "
        "again with the right types.",
    ),
    # ---- lab3.step2: the replica ------------------------------------------------------------
    Mistake(
        "lab3-projection-copied",
        "lab3.step2",
        "The replica's GSI_1 was copied from logfile (projecting only bytessent), following "
        "the material's 'same properties as the original'.",
        "The material's CLI gives the replica's GSI_1 the attributes bytessent, requestid and "
        "host, so a query by host returns the request and the host too. Delete the index and "
        "create it again with Projection={projection}.",
    ),
    Mistake(
        "lab3-capacity-copied",
        "lab3.step2",
        "The replica got logfile's 5 reads per second instead of the material's 10.",
        "Change it in place: dynamodb.update_table(TableName='{table}', ProvisionedThroughput="
        "{{'ReadCapacityUnits': {read}, 'WriteCapacityUnits': {write}}}).",
    ),
    Mistake(
        "lab3-cleanup-tag",
        "lab3.step2",
        "The replica was created without the material's cleanup tag.",
        "Add it: dynamodb.tag_resource(ResourceArn='{arn}', Tags=[{{'Key': '{key}', "
        "'Value': '{value}'}}]).",
    ),
    # ---- lab3.step3: the role's policy and the function -------------------------------------
    Mistake(
        "lab3-not-provisioned",
        "lab3.step3",
        "The lab's role is not there (a fresh cloud, or after a teardown).",
        "Create the step's starting point: lab.reset('{step}').",
    ),
    Mistake(
        "lab3-permission-missing",
        "lab3.step3",
        "DDBReplicationPolicy does not yet allow something the replicator needs (often "
        "DeleteItem, or reading the stream).",
        "{fix}",
    ),
    Mistake(
        "lab3-grant-on-star",
        "lab3.step3",
        'The material\'s policy grants its actions on every resource ("*").',
        "It works, but it lets the function read every stream and change every table in the "
        "account. Name the resources instead: {fix}",
        warning_only=True,
    ),
    Mistake(
        "lab3-function-missing",
        "lab3.step3",
        "The function was not created (often because AWS refused python3.7 and the error "
        "went unnoticed).",
        "Create it with a supported runtime: lambda_client.create_function(FunctionName="
        "'{function}', Runtime='python3.12', Role=<{role}'s ARN>, Handler="
        "'lambda_function.lambda_handler', Timeout=60, Environment={{'Variables': "
        "{{'REPLICA_TABLE': '{replica}'}}}}, Code={{'ZipFile': <the zip>}}).",
    ),
    Mistake(
        "lab3-replica-variable",
        "lab3.step3",
        "The function has no REPLICA_TABLE variable (or it names another table), so it "
        "cannot know where to write.",
        "Set it: lambda_client.update_function_configuration(FunctionName='{function}', "
        "Environment={{'Variables': {{'REPLICA_TABLE': '{replica}'}}}}).",
    ),
    Mistake(
        "lab3-wrong-role",
        "lab3.step3",
        "The function runs with another role than DDBReplicationRole.",
        "Give it the lab's role: lambda_client.update_function_configuration(FunctionName="
        "'{function}', Role='{role_arn}').",
    ),
    # ---- lab3.step4: the stream, the mapping and the handler --------------------------------
    Mistake(
        "lab3-stream-off",
        "lab3.step4",
        "logfile's stream is not turned on, so there is nothing to map.",
        "Turn it on: dynamodb.update_table(TableName='{table}', StreamSpecification="
        "{{'StreamEnabled': True, 'StreamViewType': 'NEW_IMAGE'}}).",
    ),
    Mistake(
        "lab3-stream-view",
        "lab3.step4",
        "KEYS_ONLY or OLD_IMAGE was chosen for the stream, so the records do not carry the "
        "item as it is now.",
        "The replicator writes each record's NewImage, which a {view} stream does not carry. "
        "A view type cannot change: turn the stream off (StreamSpecification={{'StreamEnabled':"
        " False}}), then on again with StreamViewType 'NEW_IMAGE', and map the new stream.",
    ),
    Mistake(
        "lab3-mapping-missing",
        "lab3.step4",
        "The stream is not connected to the function (or the mapping reads an older stream of "
        "logfile).",
        "Create the mapping: lambda_client.create_event_source_mapping(FunctionName="
        "'{function}', EventSourceArn='{stream}', BatchSize=100, "
        "StartingPosition='TRIM_HORIZON').{extra}",
    ),
    Mistake(
        "lab3-mapping-latest",
        "lab3.step4",
        "The mapping starts at LATEST, so whatever was written before it existed (a load done "
        "first) never reaches the replica.",
        "TRIM_HORIZON reads the stream from its oldest record. A mapping's starting position "
        "cannot change: delete it (lambda_client.delete_event_source_mapping(UUID='{uuid}')) "
        "and create it again with StartingPosition='TRIM_HORIZON'.",
    ),
    Mistake(
        "lab3-mapping-disabled",
        "lab3.step4",
        "The mapping exists but is disabled.",
        "Turn it on: lambda_client.update_event_source_mapping(UUID='{uuid}', Enabled=True).",
    ),
    Mistake(
        "lab3-handler-failing",
        "lab3.step4",
        "The handler fails on ordinary records (a mistake in the new code, or a write the role "
        "may not make).",
        "Its calls fail with {error}. Read its logs: lab.logs('{function}'). The mapping "
        "retries the failed batch until the handler can write it.",
    ),
    Mistake(
        "lab3-hard-coded-name",
        "lab3.step4",
        "The handler writes to a table name typed into the code, which is not the replica on "
        "this backend (names carry a prefix on aws).",
        "The handler tried to write {found}, but the replica here is {replica}. Read the name "
        "from the environment: REPLICA_TABLE = os.environ['REPLICA_TABLE'].",
    ),
    Mistake(
        "lab3-remove-ignored",
        "lab3.step4",
        "The handler ignores REMOVE records (as the material's does), so deleted items stay "
        "in the replica.",
        "For a record whose eventName is 'REMOVE', delete the item from the replica with the "
        "record's key: dynamodb.delete_item(TableName=REPLICA_TABLE, "
        "Key=record['dynamodb']['Keys']).",
    ),
    Mistake(
        "lab3-change-missed",
        "lab3.step4",
        "An item that changed in logfile did not change in the replica (MODIFY records "
        "skipped, or the old image written).",
        "Treat MODIFY like INSERT: put the record's NewImage into the replica.",
    ),
    Mistake(
        "lab3-errors-swallowed",
        "lab3.step4",
        "A catch-all except prints the error and returns, so a batch whose writes failed "
        "counts as done and its items are lost.",
        "Remove the try/except around the loop (or re-raise after logging). Then a failed "
        "write fails the batch, and Lambda retries it instead of dropping it.",
    ),
    Mistake(
        "lab3-not-replicating",
        "lab3.step4",
        "Items written to logfile never reached the replica, and the handler reported no error.",
        "{what} Read the function's logs (lab.logs('{function}')) and the mapping's "
        "LastProcessingResult.",
    ),
    # ---- lab3.step5: the load through the stream --------------------------------------------
    Mistake(
        "lab3-not-loaded",
        "lab3.step5",
        "The 2,000-row file was not loaded into logfile yet.",
        "Load it: lab.load_logfile('{table}', files['{file}']).",
    ),
    Mistake(
        "lab3-loaded-before-mapping",
        "lab3.step5",
        "The file was loaded, but the replica stayed empty: the mapping started at LATEST after "
        "the load, or the stream was turned on after it.",
        "A stream only carries changes made while it is on, and a LATEST mapping only what "
        "comes after it. Delete the mapping, create it with StartingPosition='TRIM_HORIZON' "
        "(with the stream on), and load the file again{note}.",
    ),
    Mistake(
        "lab3-replica-incomplete",
        "lab3.step5",
        "Some of the loaded requests never reached the replica.",
        "{count} of {total} requests are missing from {replica}, for example {example}. {why}",
    ),
    Mistake(
        "lab3-old-rows-replicated",
        "lab3.step5",
        "The replica also holds requests of the 500-row file (the stream was on during the "
        "first load, or they were copied by hand).",
        "{count} requests of {file} are in {replica}, which should hold only what passed "
        "through the stream since step 4. Delete them from the replica (their PKs are "
        "request#1 … request#500).",
    ),
    Mistake(
        "lab3-items-differ",
        "lab3.step5",
        "Replicated items differ from logfile's (numbers turned into text, attributes lost).",
        "{why} The handler should write each record's NewImage as it is: it is already in "
        "DynamoDB's typed form.",
    ),
    Mistake(
        "lab3-query-differs",
        "lab3.step5",
        "A GSI_1 query for one host returns other items on the replica than on logfile.",
        "{why}",
    ),
)
