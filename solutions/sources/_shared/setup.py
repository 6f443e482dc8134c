import json
import time

import boto3
import pandas as pd

import labkit

lab = labkit.Lab()  # on AWS: labkit.Lab(backend="aws", region="us-west-2")
names = lab.names
STATE_TABLE, REDUCE_TABLE = names.state_table, names.reduce_table
AGGREGATE_TABLE, PARAMETER_TABLE = names.aggregate_table, names.parameter_table
REDUCE_LAMBDA = names.prefix + "ReduceLambda"
dynamodb = boto3.client("dynamodb")
