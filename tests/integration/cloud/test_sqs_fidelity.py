"""SQS on the local cloud behaves as AWS does where the labs' queues depend on it."""

from __future__ import annotations

import json

from labkit.testing import RunningCloud


def test_setting_one_attribute_keeps_the_access_policy(cloud: RunningCloud) -> None:
    """SetQueueAttributes changes only the attributes it names: a queue's policy survives a
    new visibility timeout."""
    sqs = cloud.client("sqs")
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FromS3",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": "arn:aws:sqs:us-east-1:123456789012:kept-policy",
                }
            ],
        }
    )
    url = sqs.create_queue(QueueName="kept-policy", Attributes={"Policy": policy})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60"})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "60"
    assert json.loads(attributes["Policy"])["Statement"][0]["Sid"] == "FromS3"
    sqs.delete_queue(QueueUrl=url)
