"""``corefn dead ... --cloud NAME`` against the emulators: SQS on moto, Queue Storage poison queues
on Azurite, Pub/Sub dead-letter subscriptions on the Pub/Sub emulator."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from corefn.cli import main
from tests.fixtures.emulators import Azurite, MotoServer, PubsubEmulator

APP = "tests.reliability.app:app"


def dead(*args: str) -> Any:
    return CliRunner().invoke(main, ["dead", APP, *args], catch_exceptions=False)


def test_supports_says_what_each_cloud_cannot_do() -> None:
    table = json.loads(dead("supports", "--json").output)
    assert table["aws"]["show"] and "by id" in table["aws"]["show"]
    assert table["aws"]["redrive"] is None and table["aws"]["redrive_ids"] is None
    assert table["gcp"]["count"] and "num_undelivered_messages" in table["gcp"]["count"] and table["gcp"]["show"]
    assert all(v is None for v in table["azure"].values())
    assert "no dead-letter operations" in table["openwhisk"]["redrive"]  # OpenWhisk has no dead-letter queue
    bus = dead("list", "--cloud", "azure", "--queue", "servicebus://ns/orders")
    assert bus.exit_code == 2 and "Service Bus dead-letter subqueues are not supported" in bus.output
    text = dead("supports", "--cloud", "aws").output
    assert "show         no: SQS reads no message by id" in text and "redrive      yes" in text


# -------------------------------------------------------------------------------------- AWS


@pytest.fixture
def dlq(aws_env: MotoServer) -> str:
    import boto3

    sqs = boto3.client("sqs")
    dlq_url: str = sqs.create_queue(QueueName=f"orders-dlq-{time.monotonic_ns()}")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=f"order-{n}", MessageAttributes={"trace": {"DataType": "String", "StringValue": f"t{n}"}})
    return dlq_url


def test_sqs_count_and_list_leave_the_messages_in_place(dlq: str) -> None:
    listed = json.loads(dead("list", "--cloud", "aws", "--queue", dlq, "--json").output)
    assert listed["count"] == 3
    assert sorted(m["body"] for m in listed["messages"]) == ["order-0", "order-1", "order-2"]
    assert {m["attributes"]["trace"] for m in listed["messages"]} == {"t0", "t1", "t2"}
    again = json.loads(dead("list", "--cloud", "aws", "--queue", dlq, "--json").output)
    assert again["count"] == 3 and len(again["messages"]) == 3  # still there, still visible


def test_sqs_show_is_refused_with_the_reason(dlq: str) -> None:
    shown = dead("show", "abc", "--cloud", "aws", "--queue", dlq)
    assert shown.exit_code == 2 and "SQS reads no message by id" in shown.output


def test_sqs_redrive_of_chosen_ids_moves_only_them(dlq: str) -> None:
    import boto3

    sqs = boto3.client("sqs")
    main = sqs.create_queue(QueueName=f"orders-main-{time.monotonic_ns()}")["QueueUrl"]
    listed = json.loads(dead("list", "--cloud", "aws", "--queue", dlq, "--json").output)["messages"]
    chosen = [m["id"] for m in listed if m["body"] in ("order-0", "order-2")]
    no_source = dead("redrive", chosen[0], "--cloud", "aws", "--queue", dlq)  # moto sets no DeadLetterQueueSourceArn
    assert no_source.exit_code == 2 and "--to" in no_source.output
    moved = dead("redrive", *chosen, "--cloud", "aws", "--queue", dlq, "--to", main)
    assert moved.exit_code == 0 and "moved 2 message(s)" in moved.output, moved.output
    got = sqs.receive_message(QueueUrl=main, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert sorted((m["Body"], m["MessageAttributes"]["trace"]["StringValue"]) for m in got) == [("order-0", "t0"), ("order-2", "t2")]
    left = json.loads(dead("list", "--cloud", "aws", "--queue", dlq, "--json").output)
    assert [m["body"] for m in left["messages"]] == ["order-1"]  # the other one is visible again at once


def test_sqs_destination_comes_from_the_source_arn() -> None:
    from corefn_aws.deadletters import destination_of

    message = {"MessageId": "m", "Attributes": {"DeadLetterQueueSourceArn": "arn:aws:sqs:eu-west-1:123456789012:orders"}}
    assert destination_of(message, None) == "arn:aws:sqs:eu-west-1:123456789012:orders"
    assert destination_of(message, "https://queue/x") == "https://queue/x"


def test_sqs_redrive_starts_a_message_move_task(dlq: str) -> None:
    """moto (5.2) does not implement StartMessageMoveTask, so this one call is checked by
    botocore's Stubber, which validates the request against the SQS service model (a stub,
    said here); the queue ARN lookup before it is stubbed too, with what moto answered."""
    from botocore.stub import Stubber

    from corefn_aws.sinks._aws import client

    sqs = client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    target = arn.replace("orders-dlq", "orders-main")
    with Stubber(sqs) as stub:
        stub.add_response("get_queue_attributes", {"Attributes": {"QueueArn": arn}}, {"QueueUrl": dlq, "AttributeNames": ["QueueArn"]})
        stub.add_response("start_message_move_task", {"TaskHandle": "task-1"}, {"SourceArn": arn, "DestinationArn": target})
        moved = dead("redrive", "--all", "--cloud", "aws", "--queue", dlq, "--to", target)
        stub.assert_no_pending_responses()
    assert moved.exit_code == 0, moved.output
    assert "message move task started to " + target in moved.output and "task-1" in moved.output


# ------------------------------------------------------------------------------------ Azure


@pytest.fixture
def poison(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, list[str]]]:
    from azure.storage.queue import QueueServiceClient

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    for name in ("AzureWebJobsStorage", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    service = QueueServiceClient.from_connection_string(azurite.connection_string)
    name = f"orders{time.monotonic_ns()}"
    main_queue, poison_queue = service.create_queue(name), service.create_queue(f"{name}-poison")
    ids = [poison_queue.send_message(base64.b64encode(f"order-{n}".encode()).decode()).id for n in range(3)]
    yield main_queue, poison_queue, ids
    service.delete_queue(name)
    service.delete_queue(f"{name}-poison")


def bodies(queue: Any) -> list[str]:
    return sorted(base64.b64decode(m.content).decode() for m in queue.peek_messages(max_messages=32))


def test_azure_poison_queue_list_show_and_redrive(poison: tuple[Any, Any, list[str]]) -> None:
    main_queue, poison_queue, ids = poison
    name = main_queue.queue_name
    listed = json.loads(dead("list", "--cloud", "azure", "--queue", name, "--json").output)
    assert listed["count"] == 3 and sorted(m["body"] for m in listed["messages"]) == ["order-0", "order-1", "order-2"]
    shown = json.loads(dead("show", ids[1], "--cloud", "azure", "--queue", f"{name}-poison", "--json").output)
    assert shown["body"] == "order-1" and shown["id"] == ids[1]

    one = dead("redrive", ids[1], "--cloud", "azure", "--queue", name)
    assert one.exit_code == 0 and "moved 1 message(s)" in one.output
    assert bodies(main_queue) == ["order-1"] and bodies(poison_queue) == ["order-0", "order-2"]
    rest = dead("redrive", "--all", "--cloud", "azure", "--queue", name)
    assert rest.exit_code == 0 and "moved 2 message(s)" in rest.output
    assert bodies(main_queue) == ["order-0", "order-1", "order-2"] and bodies(poison_queue) == []


# -------------------------------------------------------------------------------------- GCP


@pytest.fixture
def dead_subscription(pubsub_emulator: PubsubEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from google.cloud import pubsub_v1

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", pubsub_emulator.project)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    n = time.monotonic_ns()
    paths = {
        "orders": publisher.topic_path(pubsub_emulator.project, f"orders-{n}"),
        "dead": publisher.topic_path(pubsub_emulator.project, f"orders-dead-{n}"),
        "orders_sub": subscriber.subscription_path(pubsub_emulator.project, f"orders-sub-{n}"),
        "dead_sub": subscriber.subscription_path(pubsub_emulator.project, f"orders-dead-sub-{n}"),
    }
    publisher.create_topic(name=paths["orders"])
    publisher.create_topic(name=paths["dead"])
    subscriber.create_subscription(request={"name": paths["orders_sub"], "topic": paths["orders"]})
    subscriber.create_subscription(request={"name": paths["dead_sub"], "topic": paths["dead"]})
    for i in range(3):  # as Pub/Sub forwards them: with the source subscription in an attribute
        publisher.publish(paths["dead"], f"order-{i}".encode(), CloudPubSubDeadLetterSourceSubscription=paths["orders_sub"],
                          CloudPubSubDeadLetterSourceDeliveryCount="5", trace=f"t{i}").result(timeout=30)  # fmt: skip
    yield paths
    subscriber.delete_subscription(subscription=paths["dead_sub"])
    subscriber.delete_subscription(subscription=paths["orders_sub"])
    publisher.delete_topic(topic=paths["dead"])
    publisher.delete_topic(topic=paths["orders"])


def pulled(subscription: str) -> list[tuple[str, str]]:
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    try:
        answer = subscriber.pull(request={"subscription": subscription, "max_messages": 50}, timeout=3, retry=None)
    except DeadlineExceeded:
        return []
    got = [(m.message.data.decode(), dict(m.message.attributes).get("trace", "")) for m in answer.received_messages]
    if answer.received_messages:
        subscriber.acknowledge(request={"subscription": subscription, "ack_ids": [m.ack_id for m in answer.received_messages]})
    return sorted(got)


def test_pubsub_list_gives_messages_back_and_redrive_republishes(dead_subscription: dict[str, str]) -> None:
    sub = dead_subscription["dead_sub"]
    listed = json.loads(dead("list", "--cloud", "gcp", "--subscription", sub, "--json").output)
    assert listed["count"] is None
    assert sorted(m["body"] for m in listed["messages"]) == ["order-0", "order-1", "order-2"]
    assert {m["attempts"] for m in listed["messages"]} == {5}
    assert dead("show", "x", "--cloud", "gcp", "--subscription", sub).exit_code == 2

    one_id = next(m["id"] for m in listed["messages"] if m["body"] == "order-1")
    one = dead("redrive", one_id, "--cloud", "gcp", "--subscription", sub)
    assert one.exit_code == 0 and "published 1 message(s) to " + dead_subscription["orders"] in one.output
    assert pulled(dead_subscription["orders_sub"]) == [("order-1", "t1")]  # the source topic, from the attribute

    rest = dead("redrive", "--all", "--cloud", "gcp", "--subscription", sub, "--to", dead_subscription["orders"])
    assert rest.exit_code == 0 and "published 2 message(s)" in rest.output, rest.output
    assert pulled(dead_subscription["orders_sub"]) == [("order-0", "t0"), ("order-2", "t2")]
    assert pulled(sub) == []
