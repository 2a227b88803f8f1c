"""Queue Storage (``azqueue://``) against Azurite: the publisher contract, read back with
azure-storage-queue, and the base64 encoding the Functions host expects."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest

from corefn.errors import SinkError, SinkNotFoundError
from corefn.sinks.base import Publisher
from corefn_azure.sinks.queue import QueuePublisher, open_backend
from tests.fixtures.emulators import Azurite
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique


@pytest.fixture
def queue(azure_storage: Azurite) -> Iterator[Any]:
    from azure.storage.queue import QueueClient

    client = QueueClient.from_connection_string(azure_storage.connection_string, unique("q"))
    client.create_queue()
    yield client
    client.delete_queue()


def receive_from(client: Any, count: int, timeout: float) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        for message in client.receive_messages(max_messages=32, visibility_timeout=60):
            got.append(message)
            client.delete_message(message)
        if len(got) < count:
            time.sleep(0.05)
    return got


class TestQueueStorageContract(PublisherContract):
    supports_attributes = False  # Queue Storage messages are a body only

    @pytest.fixture
    def publisher(self, queue: Any) -> Publisher:
        return open_backend(make_spec("publisher"), f"azqueue://{queue.queue_name}")

    @pytest.fixture
    def receive(self, queue: Any, azure_storage: Azurite) -> Receive:
        from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient

        reader = QueueClient.from_connection_string(
            azure_storage.connection_string, queue.queue_name, message_decode_policy=BinaryBase64DecodePolicy()
        )

        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            return [Received(body=bytes(m.content)) for m in receive_from(reader, count, timeout)]

        return receive


def test_messages_are_base64_as_the_functions_host_expects(queue: Any) -> None:
    publisher = open_backend(make_spec("publisher"), f"azqueue://{queue.queue_name}")
    message_id = publisher.send({"order": 1})
    (raw,) = receive_from(queue, 1, timeout=10)  # no decode policy: the text on the wire
    assert raw.id == message_id
    assert base64.b64decode(raw.content) == b'{"order":1}'


def test_oversized_body_is_refused_before_sending(queue: Any) -> None:
    publisher = open_backend(make_spec("publisher"), f"azqueue://{queue.queue_name}")
    publisher.send(b"x" * 48 * 1024)  # the largest body that fits
    with pytest.raises(SinkError, match="at most"):
        publisher.send(b"x" * (48 * 1024 + 1))
    assert len(receive_from(queue, 2, timeout=1)) == 1


def test_missing_queue_is_not_found(azure_storage: Azurite) -> None:
    publisher = open_backend(make_spec("publisher"), "azqueue://no-such-queue")
    with pytest.raises(SinkNotFoundError):
        publisher.send("x")


def test_permissions_allow_sending_only() -> None:
    (grant,) = QueuePublisher.permissions("azqueue://acct/orders", "publisher")
    assert grant.actions == ("Storage Queue Data Message Sender",)
    assert grant.resource == "storageAccounts/acct/queueServices/default/queues/orders"
