"""SQS, SNS and Kinesis publishers on the moto server, against the publisher contract; each
reads its messages back from the real (emulated) service."""

from __future__ import annotations

import time
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn_aws.sinks.kinesis import KinesisPublisher
from corefn_aws.sinks.sns import SnsPublisher
from corefn_aws.sinks.sqs import SqsPublisher
from tests.fixtures.emulators import MotoServer
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique


def _sqs_queue(name: str, **attributes: str) -> str:
    import boto3

    return str(boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def _sqs_receiver(queue_url: str) -> Receive:
    import boto3

    sqs = boto3.client("sqs")

    def receive(count: int, timeout: float = 15.0) -> list[Received]:
        got: list[Received] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            answer = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                MessageAttributeNames=["All"], AttributeNames=["All"],
            )  # fmt: skip
            for message in answer.get("Messages", ()):
                attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
                got.append(Received(message["Body"].encode(), attributes, message.get("Attributes", {}).get("MessageGroupId")))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return got

    return receive


class TestSqs(PublisherContract):
    @pytest.fixture
    def queue(self, aws_env: MotoServer) -> tuple[str, str]:
        name = unique("q")
        return name, _sqs_queue(name)

    @pytest.fixture
    def publisher(self, queue: tuple[str, str]) -> SqsPublisher:
        return SqsPublisher(make_spec("publisher", "orders"), f"sqs://{queue[0]}")

    @pytest.fixture
    def receive(self, queue: tuple[str, str]) -> Receive:
        return _sqs_receiver(queue[1])


class TestSqsFifo(TestSqs):
    ordered = True

    @pytest.fixture
    def queue(self, aws_env: MotoServer) -> tuple[str, str]:
        name = unique("q") + ".fifo"
        return name, _sqs_queue(name, FifoQueue="true")

    def test_group_becomes_message_group_id(self, publisher: SqsPublisher, receive: Receive) -> None:
        publisher.send("a", group="device-1")
        publisher.send("b")
        got = {m.body: m.group for m in receive(2)}
        assert got == {b"a": "device-1", b"b": "default"}


class TestSns(PublisherContract):
    """SNS has no read API: an SQS queue subscribed with raw message delivery reads it back."""

    @pytest.fixture
    def topic(self, aws_env: MotoServer) -> tuple[str, str]:
        import boto3

        name = unique("topic")
        arn = boto3.client("sns").create_topic(Name=name)["TopicArn"]
        queue_url = _sqs_queue(unique("sub"))
        queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        return name, queue_url

    @pytest.fixture
    def publisher(self, topic: tuple[str, str]) -> SnsPublisher:
        return SnsPublisher(make_spec("publisher", "alerts"), f"sns://{topic[0]}")

    @pytest.fixture
    def receive(self, topic: tuple[str, str]) -> Receive:
        return _sqs_receiver(topic[1])

    def test_entries_the_service_rejects_are_raised(self, publisher: SnsPublisher, receive: Receive) -> None:
        from corefn.errors import SinkError

        with pytest.raises(SinkError, match="1 of 3 messages were not sent") as caught:
            publisher.send_batch(["small", "x" * 262_145, "small too"])  # SNS: 256 KiB at most
        assert "InvalidParameter" in str(caught.value)
        assert sorted(m.body for m in receive(2)) == [b"small", b"small too"]

    def test_arn_url_needs_no_lookup(self, topic: tuple[str, str], receive: Receive) -> None:
        arn = f"arn:aws:sns:us-east-1:123456789012:{topic[0]}"
        publisher = SnsPublisher(make_spec("publisher", "alerts"), f"sns://{arn}")
        assert publisher.topic_arn == arn
        publisher.send("by arn")
        assert [m.body for m in receive(1)] == [b"by arn"]


class TestKinesis(PublisherContract):
    supports_attributes = False
    ordered = True  # one shard here, and a group is one partition key anyway

    @pytest.fixture
    def stream(self, aws_env: MotoServer) -> str:
        import boto3

        name = unique("stream")
        client = boto3.client("kinesis")
        client.create_stream(StreamName=name, ShardCount=1)
        client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        return name

    @pytest.fixture
    def publisher(self, stream: str) -> KinesisPublisher:
        return KinesisPublisher(make_spec("publisher", "telemetry", target="stream"), f"kinesis://{stream}")

    @pytest.fixture
    def receive(self, stream: str) -> Receive:
        import boto3

        client = boto3.client("kinesis")
        shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator: list[Any] = [client.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]]

        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            got: list[Received] = []
            deadline = time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                answer = client.get_records(ShardIterator=iterator[0], Limit=100)
                iterator[0] = answer["NextShardIterator"]
                got.extend(Received(r["Data"], {}, r["PartitionKey"]) for r in answer["Records"])
                if not answer["Records"]:
                    time.sleep(0.1)
            return got

        return receive

    def test_group_is_the_partition_key(self, publisher: KinesisPublisher, receive: Receive) -> None:
        publisher.send(b"\x00\xffbinary is fine here", group="device-9")
        (record,) = receive(1)
        assert record.body == b"\x00\xffbinary is fine here" and record.group == "device-9"


def test_sqs_binary_body_is_refused(aws_env: MotoServer) -> None:
    publisher = SqsPublisher(make_spec("publisher", "orders"), "sqs://whatever")
    with pytest.raises(ConfigurationError, match="base64"):
        publisher.send(b"\xff\xfe")


def test_sqs_missing_queue_is_not_found(aws_env: MotoServer) -> None:
    publisher = SqsPublisher(make_spec("publisher", "orders"), "sqs://no-such-queue")
    with pytest.raises(SinkNotFoundError):
        publisher.send("x")


def test_sqs_queue_url_is_looked_up_once(aws_env: MotoServer) -> None:
    name = unique("q")
    url = _sqs_queue(name)
    publisher = SqsPublisher(make_spec("publisher", "orders"), f"sqs://{name}")
    calls: list[str] = []
    publisher.client.meta.events.register("before-call.sqs.GetQueueUrl", lambda **_: calls.append("lookup"))
    publisher.send("1")
    publisher.send("2")
    publisher.send_batch(["3", "4"])
    assert publisher.queue_url == url and calls == ["lookup"]


def test_sqs_rejected_batch_is_a_sink_error(aws_env: MotoServer) -> None:
    from corefn.errors import SinkError

    name = unique("q")
    _sqs_queue(name, MaximumMessageSize="1024")
    publisher = SqsPublisher(make_spec("publisher", "orders"), f"sqs://{name}")
    with pytest.raises(SinkError, match="InvalidParameterValue") as caught:
        publisher.send_batch(["small", "x" * 2048, "small too"])
    assert caught.value.cause is not None


def test_permissions() -> None:
    assert SqsPublisher.permissions("sqs://orders", "publisher")[0].resource == "arn:aws:sqs:*:*:orders"
    assert SnsPublisher.permissions("sns://alerts", "publisher")[0].actions == ("sns:Publish",)
    assert SnsPublisher.permissions("sns://arn:aws:sns:eu-west-1:1:alerts", "publisher")[0].resource == "arn:aws:sns:eu-west-1:1:alerts"
    assert KinesisPublisher.permissions("kinesis://telemetry", "publisher")[0].resource == "arn:aws:kinesis:*:*:stream/telemetry"


def test_cloudevents_on_sqs_are_structured_mode(aws_env: MotoServer) -> None:
    """SQS has no CloudEvents binding: with ``cloudevents=True`` the sink resolver wraps the backend
    so each body is the JSON form of the message's CloudEvent (attributes inside it, the group
    still SQS's message group), read back from moto as the same corefn message."""
    import json

    from corefn.cloudevents import from_json_form
    from corefn.cloudevents.publisher import StructuredPublisher
    from corefn.events import QueueMessage
    from corefn.sinks import open_sink

    name = unique("q") + ".fifo"
    receive = _sqs_receiver(_sqs_queue(name, FifoQueue="true", ContentBasedDeduplication="true"))
    publisher = open_sink(make_spec("publisher", "orders", target="queue", cloudevents=True), f"sqs://{name}")
    assert isinstance(publisher, StructuredPublisher) and isinstance(publisher.backend, SqsPublisher)
    publisher.send({"n": 1}, {"kind": "order"}, group="customer-7")
    publisher.send_batch(["a", "b"])
    got = receive(3)
    forms = [json.loads(m.body) for m in got]
    assert all(f["specversion"] == "1.0" and f["type"] == "dev.corefn.queue.message" for f in forms)
    assert [m.attributes for m in got] == [{}, {}, {}] and got[0].group == "customer-7"
    first = from_json_form(forms[0])
    assert isinstance(first, QueueMessage) and first.queue == "orders" and first.group == "customer-7"
    assert first.body.json() == {"n": 1} and first.attributes == {"kind": "order"}
    assert sorted(from_json_form(f).body.text for f in forms[1:]) == ["a", "b"]  # type: ignore[attr-defined]
    assert open_sink(make_spec("publisher", "orders"), f"sqs://{name}").__class__ is SqsPublisher  # opt-in only
