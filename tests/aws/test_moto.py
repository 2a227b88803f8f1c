"""Real records from a real moto server (S3 → SQS notifications, DynamoDB Streams, Kinesis),
wrapped exactly as Lambda's event source mappings wrap them, through the Lambda handler.

The wrapping is the only thing built here: Lambda's poller is not part of moto. Each wrapper
follows the documented Lambda event format field for field."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from corefn_aws.runtime import handler
from tests.aws import fixture_app
from tests.aws.conftest import LambdaContext

pytestmark = [pytest.mark.emulator, pytest.mark.usefixtures("lambda_env")]


@pytest.fixture
def aws(reset_moto: Any) -> Iterator[Any]:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=reset_moto.region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=reset_moto.endpoint_url)

    client.region = reset_moto.region  # type: ignore[attr-defined]
    yield client


def lambda_json(value: Any) -> Any:
    """What Lambda's JSON has where boto3 gives Python objects: base64 for bytes, epoch
    seconds for times."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: lambda_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lambda_json(v) for v in value]
    return value


# ------------------------------------------------------------------------------- S3 → SQS


def sqs_event(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One received SQS message as Lambda's SQS event source mapping delivers it."""
    attributes = {
        name: {
            "stringValue": attr.get("StringValue"),
            "binaryValue": base64.b64encode(attr["BinaryValue"]).decode() if "BinaryValue" in attr else None,
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": attr["DataType"],
        }
        for name, attr in message.get("MessageAttributes", {}).items()
    }
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": attributes,
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        ]
    }


def receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(found) < count and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=1
        )
        found.extend(answer.get("Messages", []))
    return found


def test_s3_notification_through_sqs_skips_the_test_event_and_decodes_the_key(aws: Any) -> None:
    sqs, s3 = aws("sqs"), aws("s3")
    url = sqs.create_queue(QueueName="photo-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="photo-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="photo-uploads",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket="photo-uploads", Key="my photo+1.jpg", Body=b"\xff" * 1234)

    test_message, notification = receive(sqs, url, 2)
    assert "s3:TestEvent" in test_message["Body"]  # S3 announces the configuration first

    answer = handler(sqs_event(test_message, arn, aws.region), LambdaContext())
    assert answer == {"batchItemFailures": []} and fixture_app.RECEIVED == []

    answer = handler(sqs_event(notification, arn, aws.region), LambdaContext())
    assert answer == {"batchItemFailures": []}
    ((name, event),) = fixture_app.RECEIVED
    assert name == "photo_uploads"
    assert (event.bucket, event.key, event.size, event.operation) == ("photo-uploads", "my photo+1.jpg", 1234, "created")
    assert s3.get_object(Bucket=event.bucket, Key=event.key)["ContentLength"] == 1234  # the key really names the object


def test_failed_s3_notification_is_reported_by_its_sqs_message_id(aws: Any) -> None:
    sqs, s3 = aws("sqs"), aws("s3")
    url = sqs.create_queue(QueueName="photo-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="photo-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="photo-uploads",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket="photo-uploads", Key="bad.jpg", Body=b"x")
    _, notification = receive(sqs, url, 2)
    fixture_app.FAIL.add("bad.jpg")
    answer = handler(sqs_event(notification, arn, aws.region), LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": notification["MessageId"]}]}


# -------------------------------------------------------------------------- DynamoDB Streams


def test_dynamodb_stream_records_are_unmarshalled(aws: Any) -> None:
    ddb, streams = aws("dynamodb"), aws("dynamodbstreams")
    table = ddb.create_table(
        TableName="devices",
        KeySchema=[{"AttributeName": "deviceId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "deviceId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    key = {"deviceId": {"S": "dev-1"}}
    ddb.put_item(TableName="devices", Item={**key, "temp": {"N": "21.5"}, "tags": {"SS": ["a", "b"]}, "raw": {"B": b"\x00\xff"}})
    ddb.update_item(TableName="devices", Key=key, UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "temp"}, ExpressionAttributeValues={":t": {"N": "22"}})
    ddb.delete_item(TableName="devices", Key=key)

    arn = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    event = {"Records": [{**lambda_json(r), "eventSource": "aws:dynamodb", "eventSourceARN": arn} for r in records]}

    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    changes = [e for n, e in fixture_app.RECEIVED if n == "devices"]
    assert [c.operation for c in changes] == ["insert", "modify", "remove"]
    insert, modify, remove = changes
    assert insert.table == "devices" and dict(insert.keys) == {"deviceId": "dev-1"} and insert.old is None
    assert dict(insert.new) == {"deviceId": "dev-1", "temp": 21.5, "tags": ["a", "b"], "raw": "AP8="}
    assert modify.old["temp"] == 21.5 and modify.new["temp"] == 22
    assert remove.new is None and remove.old["temp"] == 22
    assert insert.sequence == records[0]["dynamodb"]["SequenceNumber"]

    fixture_app.reset()
    fixture_app.FAIL.add(records[1]["eventID"])
    assert handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}


# ---------------------------------------------------------------------------------- Kinesis


def test_kinesis_records_keep_data_partition_key_and_sequence(aws: Any) -> None:
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName="telemetry", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="telemetry")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.put_record(StreamName="telemetry", Data=b'{"temp": 21.5}', PartitionKey="sensor-1")
    kinesis.put_record(StreamName="telemetry", Data=b"\xff\xfe\x00", PartitionKey="sensor-2")
    shard = kinesis.list_shards(StreamName="telemetry")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="telemetry", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    event = {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                "awsRegion": aws.region,
                "eventSourceARN": arn,
            }
            for r in records
        ]
    }
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    first, second = (e for _, e in fixture_app.RECEIVED)
    assert (first.stream, first.partition, first.key, first.sequence) == ("telemetry", shard, "sensor-1", records[0]["SequenceNumber"])
    assert first.json() == {"temp": 21.5}
    assert second.data.content == b"\xff\xfe\x00" and second.to_dict()["data_encoding"] == "base64"
    assert first.time is not None and abs(first.time.timestamp() - records[0]["ApproximateArrivalTimestamp"].timestamp()) < 0.001

    fixture_app.reset()
    fixture_app.FAIL.add(records[0]["SequenceNumber"])
    assert handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": records[0]["SequenceNumber"]}]}
    assert len(fixture_app.RECEIVED) == 1  # the second record waits for the first
