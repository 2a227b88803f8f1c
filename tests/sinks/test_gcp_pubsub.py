"""Pub/Sub (``pubsub://``) against Google's emulator: the publisher contract, read back through a
pull subscription with message ordering enabled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkError, SinkNotFoundError
from corefn.sinks.base import Publisher
from corefn_gcp.sinks.pubsub import PubSubPublisher, open_backend
from tests.fixtures.emulators import PubsubEmulator
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique


@pytest.fixture
def pubsub(pubsub_emulator: PubsubEmulator, monkeypatch: pytest.MonkeyPatch) -> PubsubEmulator:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", pubsub_emulator.project)
    return pubsub_emulator


@pytest.fixture(scope="module")
def admin(pubsub_emulator: PubsubEmulator) -> Iterator[tuple[Any, Any]]:
    import os

    from google.cloud import pubsub_v1

    os.environ["PUBSUB_EMULATOR_HOST"] = pubsub_emulator.host
    try:
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    finally:
        del os.environ["PUBSUB_EMULATOR_HOST"]
    yield publisher, subscriber
    subscriber.close()


@pytest.fixture
def topic(pubsub: PubsubEmulator, admin: tuple[Any, Any]) -> Iterator[tuple[str, str]]:
    """A fresh topic and an ordered pull subscription to it: (topic name, subscription path)."""
    publisher, subscriber = admin
    name = unique("topic")
    topic_path = publisher.topic_path(pubsub.project, name)
    subscription = subscriber.subscription_path(pubsub.project, name + "-sub")
    publisher.create_topic(name=topic_path)
    subscriber.create_subscription(request={"name": subscription, "topic": topic_path, "enable_message_ordering": True})
    yield name, subscription
    subscriber.delete_subscription(subscription=subscription)
    publisher.delete_topic(topic=topic_path)


def pull(subscriber: Any, subscription: str, count: int, timeout: float) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        response = subscriber.pull(subscription=subscription, max_messages=100, timeout=5)
        if response.received_messages:
            subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in response.received_messages])
            got.extend(m.message for m in response.received_messages)
    return got


class TestPubSubContract(PublisherContract):
    ordered = True  # ordering keys + a subscription with message ordering enabled

    @pytest.fixture
    def publisher(self, topic: tuple[str, str]) -> Publisher:
        return open_backend(make_spec("publisher"), f"pubsub://{topic[0]}")

    @pytest.fixture
    def receive(self, topic: tuple[str, str], admin: tuple[Any, Any]) -> Receive:
        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            return [
                Received(body=bytes(m.data), attributes=dict(m.attributes), group=m.ordering_key or None)
                for m in pull(admin[1], topic[1], count, timeout)
            ]

        return receive


def test_group_is_the_ordering_key_and_ids_are_the_servers(topic: tuple[str, str], admin: tuple[Any, Any]) -> None:
    publisher = open_backend(make_spec("publisher"), f"pubsub://{topic[0]}")
    sent = publisher.send("hello", {"a": "1"}, group="device-9")
    (message,) = pull(admin[1], topic[1], 1, timeout=10)
    assert message.message_id == sent
    assert message.ordering_key == "device-9"


def test_project_in_url_wins(pubsub: PubsubEmulator, topic: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    with pytest.raises(ConfigurationError, match="GOOGLE_CLOUD_PROJECT"):
        open_backend(make_spec("publisher"), f"pubsub://{topic[0]}")
    publisher = open_backend(make_spec("publisher"), f"pubsub://{pubsub.project}/{topic[0]}")
    assert publisher.topic == f"projects/{pubsub.project}/topics/{topic[0]}"
    assert publisher.send("x")


def test_missing_topic_is_not_found(pubsub: PubsubEmulator) -> None:
    publisher = open_backend(make_spec("publisher"), "pubsub://no-such-topic")
    with pytest.raises(SinkNotFoundError) as caught:
        publisher.send("x", group="k")
    assert type(caught.value.cause).__name__ == "NotFound"
    with pytest.raises(SinkNotFoundError):  # the ordering key was resumed, not left paused
        publisher.send("y", group="k")


def test_reserved_attribute_names_and_empty_messages(topic: tuple[str, str]) -> None:
    publisher = open_backend(make_spec("publisher"), f"pubsub://{topic[0]}")
    with pytest.raises(ConfigurationError):
        publisher.send("x", {"googClient": "1"})
    with pytest.raises(SinkError):
        publisher.send(b"")
    assert publisher.send(b"", {"only": "attributes"})


def test_permissions() -> None:
    (grant,) = PubSubPublisher.permissions("pubsub://proj/alerts", "publisher")
    assert (grant.cloud, grant.actions, grant.resource) == ("gcp", ("roles/pubsub.publisher",), "projects/proj/topics/alerts")


def test_cloudevents_messages_are_binary_mode_cloudevents(topic: tuple[str, str], admin: tuple[Any, Any]) -> None:
    """``cloudevents=True`` against the emulator: each message is its CloudEvent in the Pub/Sub
    binding's binary mode (``ce-`` attributes, ``content-type``), the caller's attributes and the
    ordering key as without the option; read back as the same corefn message."""
    from corefn.cloudevents.bindings import from_pubsub
    from corefn.events import QueueMessage

    publisher = open_backend(make_spec("publisher", "orders", target="queue", cloudevents=True), f"pubsub://{topic[0]}")
    publisher.send("hello", {"a": "1"}, group="device-9")
    (message,) = pull(admin[1], topic[1], 1, timeout=10)
    attributes = dict(message.attributes)
    assert message.ordering_key == "device-9" and bytes(message.data) == b"hello" and attributes["a"] == "1"
    assert attributes["ce-specversion"] == "1.0" and attributes["ce-type"] == "dev.corefn.queue.message"
    assert attributes["ce-source"] == "/corefn/queue/orders" and attributes["content-type"].startswith("text/plain")
    event = from_pubsub(bytes(message.data), attributes)
    assert isinstance(event, QueueMessage) and event.queue == "orders" and event.group == "device-9"
    assert event.body.text == "hello" and event.attributes == {"a": "1"} and event.id == attributes["ce-id"]
