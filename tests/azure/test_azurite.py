"""Against a real Azurite: blobs and queue messages written with the Azure SDKs, read back the
way the Functions host reads them, turned into the binding objects the Python worker builds, and
run through the generated function app.

The Functions host itself (Core Tools) is not available here, so the host's part is played by
small loops below that follow its documented rules: the blob trigger passes
``InputStream(name="<container>/<blob>", length, uri, blob_properties)``; the queue trigger
base64-decodes the message (``messageEncoding: base64``), passes ``QueueMessage`` with the
message's id, dequeue count and times, deletes it on success, makes it visible again on failure,
and after ``maxDequeueCount`` (read from the generated ``host.json``) moves it to
``<queue>-poison``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("azure.storage.blob")
pytest.importorskip("azure.storage.queue")

from azure.functions.blob import InputStream  # noqa: E402
from azure.functions.queue import QueueMessage as AzureQueueMessage  # noqa: E402
from azure.storage.blob import BlobServiceClient, ContentSettings  # noqa: E402
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy  # noqa: E402

from corefn.events import QueueMessage, StorageEvent  # noqa: E402
from tests.azure.test_function_app import functions  # noqa: E402


def _fn(module: ModuleType, name: str) -> Any:
    return functions(module)[name].get_user_function()


def test_blob_upload_runs_the_generated_blob_function(
    function_app: ModuleType, seen: dict[str, list[Any]], azurite: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    for name in ("originals", "copies"):
        try:
            service.create_container(name)
        except Exception as exc:  # noqa: BLE001 - another test may have created it
            if "ContainerAlreadyExists" not in str(exc):
                raise
    key = f"{uuid.uuid4().hex[:8]}/cat photo+1.jpg"
    data = b"\xff\xd8\xff\xe0 not really a jpeg"
    source = service.get_blob_client("originals", key)
    source.upload_blob(data, content_settings=ContentSettings(content_type="image/jpeg"))

    # what the host reads before invoking the blob trigger
    props = source.get_blob_properties()
    stream = InputStream(
        data=source.download_blob().readall(),
        name=f"{props.container}/{props.name}",
        length=props.size,
        uri=source.url,
        blob_properties={
            "Length": props.size,
            "ETag": props.etag,
            "ContentType": props.content_settings.content_type,
            "LastModified": props.last_modified.isoformat(),
        },
    )
    monkeypatch.setenv("COREFN_TEST_BLOB_CONN", azurite.connection_string)
    try:
        assert _fn(function_app, "copy_blob")(stream, context=None) is None
        event = seen["copy_blob"][0]
        assert isinstance(event, StorageEvent)
        assert (event.bucket, event.key, event.size, event.operation) == ("originals", key, len(data), "created")
        assert event.time == props.last_modified and event.content_type == "image/jpeg"
        assert service.get_blob_client("copies", key).download_blob().readall() == data
    finally:
        source.delete_blob()
        copy = service.get_blob_client("copies", key)
        if copy.exists():
            copy.delete_blob()


def _max_dequeue_count(folder: Path) -> int:
    return int(json.loads((folder / "host.json").read_text())["extensions"]["queues"]["maxDequeueCount"])


def _host_queue_loop(queue: QueueClient, poison: QueueClient, run: Any, max_dequeue: int) -> list[BaseException]:
    """Deliver every message the way the Functions host's queue listener does (see docstring)."""
    errors: list[BaseException] = []
    for _ in range(50):
        received = list(queue.receive_messages(messages_per_page=32, visibility_timeout=30))
        if not received:
            return errors
        for raw in received:
            message = AzureQueueMessage(
                id=raw.id, body=raw.content, dequeue_count=raw.dequeue_count, expiration_time=raw.expires_on,
                insertion_time=raw.inserted_on, time_next_visible=raw.next_visible_on, pop_receipt=raw.pop_receipt,
            )  # fmt: skip
            try:
                run(message, context=None)
            except Exception as error:  # noqa: BLE001 - the host catches, counts and retries
                errors.append(error)
                if raw.dequeue_count >= max_dequeue:
                    poison.send_message(raw.content)
                    queue.delete_message(raw)
                else:
                    queue.update_message(raw, visibility_timeout=0)
            else:
                queue.delete_message(raw)
    raise AssertionError("queue never drained")


def test_queue_messages_retry_then_poison_through_the_generated_function(
    function_app: ModuleType, seen: dict[str, list[Any]], azurite: Any
) -> None:
    name = "orders"  # the queue the generated binding names
    encode = {"message_encode_policy": TextBase64EncodePolicy(), "message_decode_policy": TextBase64DecodePolicy()}
    queue = QueueClient.from_connection_string(azurite.connection_string, name, **encode)
    poison = QueueClient.from_connection_string(azurite.connection_string, f"{name}-poison", **encode)
    for client in (queue, poison):
        try:
            client.create_queue()
        except Exception as exc:  # noqa: BLE001
            if "QueueAlreadyExists" not in str(exc):
                raise
        client.clear_messages()
    try:
        # the Functions host expects base64 text by default: check the wire form, not just the SDK
        queue.send_message("hello")
        queue.send_message("fail")
        plain = QueueClient.from_connection_string(azurite.connection_string, name)
        peeked = {m.content for m in plain.peek_messages(max_messages=2)}
        assert peeked == {"aGVsbG8=", "ZmFpbA=="}

        max_dequeue = _max_dequeue_count(Path(function_app.__file__).parent)
        assert max_dequeue == 5  # Queue Storage's default, written explicitly by the generator
        errors = _host_queue_loop(queue, poison, _fn(function_app, "take_order"), max_dequeue)

        assert len(errors) == max_dequeue and all(str(e) == "order rejected" for e in errors)
        runs = seen["take_order"]
        assert all(isinstance(m, QueueMessage) and m.queue == "orders" for m in runs)
        assert [m.attempt for m in runs if m.text == "hello"] == [1]
        assert [m.attempt for m in runs if m.text == "fail"] == [1, 2, 3, 4, 5]
        assert all(m.id and m.time is not None for m in runs)
        assert [m.content for m in poison.receive_messages()] == ["fail"]
        assert not list(queue.peek_messages())
    finally:
        queue.clear_messages()
        poison.clear_messages()
