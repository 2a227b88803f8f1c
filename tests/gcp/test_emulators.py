"""The GCP adapter against real servers: the GCS emulator (object metadata as GCS writes it) and
Google's own Pub/Sub emulator pushing to the generated target served on a local port."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from corefn.events import QueueMessage, StorageEvent, TopicMessage
from tests.gcp import sample_app
from tests.gcp.conftest import received

pytestmark = pytest.mark.emulator


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s; received so far: {sample_app.RECEIVED}")


# ------------------------------------------------------------------------------------- GCS


def test_object_uploaded_to_gcs_reaches_the_storage_target(gcs_emulator: Any, monkeypatch: pytest.MonkeyPatch, target: Any) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint)
    client = storage.Client(project=gcs_emulator.project, credentials=AnonymousCredentials())
    bucket = client.bucket("originals")
    if not bucket.exists():
        bucket = client.create_bucket("originals")
    content = b"\xff\xd8\xff\xe0 not really a jpeg " * 10
    blob = bucket.blob("photos/My Photo+1 (é).jpg")
    blob.upload_from_string(content, content_type="image/jpeg")
    blob.reload()
    resource = dict(blob._properties)  # the object's JSON resource as the server wrote it
    assert isinstance(resource["size"], str)  # GCS's int64-as-string, which the adapter must read

    # what the handler's push subscription posts for the bucket's Pub/Sub notification of this
    # object (https://cloud.google.com/storage/docs/pubsub-notifications#format, JSON_API_V1 payload)
    attributes = {
        "notificationConfig": "projects/_/buckets/originals/notificationConfigs/1", "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1", "bucketId": resource["bucket"], "objectId": resource["name"],
        "objectGeneration": str(resource["generation"]), "eventTime": resource["updated"],
    }  # fmt: skip
    envelope = {
        "message": {"attributes": attributes, "data": base64.b64encode(json.dumps(resource).encode()).decode(),
                    "messageId": "1", "publishTime": resource["updated"]},
        "subscription": "projects/p/subscriptions/gcp-test-on-upload-push", "deliveryAttempt": 1,
    }  # fmt: skip
    answer = target("on_upload").test_client().post("/", json=envelope)
    assert answer.status_code == 204, answer.get_data(as_text=True)
    (event,) = received("on_upload")
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key, event.operation) == ("originals", "photos/My Photo+1 (é).jpg", "created")
    assert event.size == len(content) == blob.size
    assert event.version == str(blob.generation) and event.content_type == "image/jpeg"
    assert event.time == blob.updated


# ---------------------------------------------------------------------------------- Pub/Sub


@pytest.fixture
def serve(target: Any) -> Iterator[Callable[[str], str]]:
    """``serve("on_alert")`` → the URL of that generated target, served on a loopback port."""
    from werkzeug.serving import make_server

    servers = []

    def start(name: str) -> str:
        server = make_server("127.0.0.1", 0, target(name), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def pubsub(pubsub_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from google.cloud import pubsub_v1

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    made: list[tuple[str, str]] = []

    class PubSub:
        project = pubsub_emulator.project

        def topic(self, name: str) -> str:
            path = publisher.topic_path(self.project, f"{name}-{time.monotonic_ns()}")
            publisher.create_topic(name=path)
            made.append(("topic", path))
            return path

        def push_subscription(self, topic: str, url: str, **extra: Any) -> str:
            path = subscriber.subscription_path(self.project, f"push-{time.monotonic_ns()}")
            request = {"name": path, "topic": topic, "push_config": {"push_endpoint": url}, "ack_deadline_seconds": 10, **extra}
            subscriber.create_subscription(request=request)
            made.append(("subscription", path))
            return path

        def publish(self, topic: str, data: bytes, **attributes: str) -> str:
            message_id: str = publisher.publish(topic, data, **attributes).result(timeout=30)
            return message_id

    yield PubSub()
    for kind, path in reversed(made):
        if kind == "subscription":
            subscriber.delete_subscription(subscription=path)
        else:
            publisher.delete_topic(topic=path)


def test_pubsub_push_reaches_the_topic_target(pubsub: Any, serve: Callable[[str], str]) -> None:
    topic = pubsub.topic("alerts")
    subscription = pubsub.push_subscription(topic, serve("on_alert"))
    message_id = pubsub.publish(topic, "température élevée".encode(), level="high", site="seoul")
    _wait_for(lambda: len(received("on_alert")) >= 1)
    message = received("on_alert")[0]
    assert isinstance(message, TopicMessage)
    assert message.id == message_id
    assert message.text == "température élevée"
    assert message.attributes == {"level": "high", "site": "seoul"}
    assert message.subscription == subscription.rsplit("/", 1)[-1]
    assert message.topic == "alerts"  # a push body names no topic: the pinned handler's
    assert message.time is not None
    assert "message" in message.raw and message.raw["subscription"] == subscription  # the emulator's own body


def test_failing_handler_is_redelivered_by_pubsub(pubsub: Any, serve: Callable[[str], str]) -> None:
    sample_app.FAIL["on_order"] = 2
    topic = pubsub.topic("orders")
    dead = pubsub.topic("orders-dead")
    pubsub.push_subscription(
        topic, serve("on_order"), dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 5},
        retry_policy={"minimum_backoff": {"seconds": 0}, "maximum_backoff": {"seconds": 1}},
    )  # fmt: skip
    message_id = pubsub.publish(topic, b'{"sku": 7}')
    _wait_for(lambda: len(received("on_order")) >= 3, timeout=60)
    deliveries = received("on_order")[:3]
    assert all(isinstance(m, QueueMessage) and m.id == message_id for m in deliveries)
    attempts = [m.attempt for m in deliveries]
    # Google's emulator (unlike Pub/Sub itself) leaves deliveryAttempt out of push bodies even
    # with a dead-letter policy; the unit tests cover reading it. Should it start reporting it,
    # the count must grow with each redelivery.
    assert attempts == [None, None, None] or attempts == sorted(attempts) and attempts[0] == 1 and attempts[-1] >= 3, attempts
    time.sleep(1.0)
    assert len(received("on_order")) == 3  # acknowledged once the handler succeeded


def test_bucket_notification_through_pubsub_is_redelivered_then_handled(pubsub: Any, serve: Callable[[str], str], gcs_emulator: Any,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """What deploy.sh builds for a storage handler, on Google's Pub/Sub emulator: the bucket's
    notification (attributes and JSON_API_V1 payload as https://cloud.google.com/storage/docs/pubsub-notifications#format
    gives them, for an object the GCS emulator wrote) published to the bucket's topic, pushed by a
    subscription with a dead-letter policy to the generated target; a failure is redelivered
    (never dropped), an operation the handler does not watch is acknowledged and skipped."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint)
    client = storage.Client(project=gcs_emulator.project, credentials=AnonymousCredentials())
    bucket = client.bucket("originals")
    if not bucket.exists():
        bucket = client.create_bucket("originals")
    blob = bucket.blob(f"in/{time.monotonic_ns()}.jpg")
    blob.upload_from_string(b"jpeg", content_type="image/jpeg")
    blob.reload()
    resource = dict(blob._properties)

    def attributes(event_type: str) -> dict[str, str]:
        return {"notificationConfig": "projects/_/buckets/originals/notificationConfigs/1", "eventType": event_type,
                "payloadFormat": "JSON_API_V1", "bucketId": "originals", "objectId": resource["name"],
                "objectGeneration": str(resource["generation"]), "eventTime": resource["updated"]}  # fmt: skip

    sample_app.FAIL["on_upload"] = 2
    topic = pubsub.topic("gcp-test-originals-events")
    dead = pubsub.topic("gcp-test-originals-events-dead-letter")
    pubsub.push_subscription(
        topic, serve("on_upload"), dead_letter_policy={"dead_letter_topic": dead, "max_delivery_attempts": 5},
        retry_policy={"minimum_backoff": {"seconds": 0}, "maximum_backoff": {"seconds": 1}},
    )  # fmt: skip
    pubsub.publish(topic, json.dumps(resource).encode(), **attributes("OBJECT_ARCHIVE"))  # not watched: skipped
    message_id = pubsub.publish(topic, json.dumps(resource).encode(), **attributes("OBJECT_FINALIZE"))
    _wait_for(lambda: len(received("on_upload")) >= 3, timeout=60)
    time.sleep(1.0)
    deliveries = received("on_upload")
    assert len(deliveries) == 3, deliveries  # failed twice, redelivered, acknowledged once handled
    assert all(isinstance(e, StorageEvent) and e.id == message_id for e in deliveries)
    assert {(e.bucket, e.key, e.operation, e.size) for e in deliveries} == {("originals", resource["name"], "created", 4)}


# -------------------------------------------------------------------------------- Firestore


def test_firestore_documents_from_the_emulator_decode_to_plain_json(firestore_emulator: Any, monkeypatch: pytest.MonkeyPatch, target: Any) -> None:
    """A document written through the Firestore client, read back as the emulator stores it (the
    ``google.firestore.v1.Document`` protobuf), wrapped into the ``DocumentEventData`` a 2nd gen
    ``updated`` event carries, and sent in binary mode as ``application/protobuf``."""
    import datetime as dt

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore
    from google.events.cloud.firestore_v1.types import Document as EventDocument
    from google.events.cloud.firestore_v1.types import DocumentEventData

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    import grpc
    from google.cloud.firestore_v1.services.firestore import FirestoreClient
    from google.cloud.firestore_v1.services.firestore.transports import FirestoreGrpcTransport

    db = firestore.Client(project=firestore_emulator.project, credentials=AnonymousCredentials())
    raw_api = FirestoreClient(transport=FirestoreGrpcTransport(channel=grpc.insecure_channel(firestore_emulator.host)))
    ref = db.collection("devices").document(f"sensor-{time.monotonic_ns()}")
    document_name = f"projects/{firestore_emulator.project}/databases/(default)/documents/{ref.path}"
    ref.set({"name": "Hall", "count": 1})
    before = raw_api.get_document(request={"name": document_name})
    installed = dt.datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=dt.UTC)
    ref.set({
        "name": "Hall ✓", "count": 2**53 + 1, "ratio": 0.25, "active": True, "retired": None, "installed": installed,
        "secret": b"\x00\x01\x02", "owner": db.document("users/alice"), "where": firestore.GeoPoint(37.5665, 126.978),
        "tags": ["hall", 2, {"floor": 3}], "config": {"limits": {"max": 35.5}, "empty": []},
    })  # fmt: skip
    after = raw_api.get_document(request={"name": document_name})

    def as_event_document(doc: Any) -> Any:  # google.firestore.v1.Document → the events type (same wire format)
        return EventDocument.deserialize(type(doc).serialize(doc))

    data = DocumentEventData(value=as_event_document(after), old_value=as_event_document(before))
    headers = {
        "ce-specversion": "1.0", "ce-type": "google.cloud.firestore.document.v1.updated",
        "ce-source": f"//firestore.googleapis.com/projects/{firestore_emulator.project}/databases/(default)",
        "ce-subject": f"documents/{ref.path}", "ce-id": "fs-1", "ce-time": "2024-05-07T01:02:03Z",
        "Content-Type": "application/protobuf",
    }  # fmt: skip
    answer = target("on_device_change").test_client().post("/", headers=headers, data=DocumentEventData.serialize(data))
    assert answer.status_code == 200
    (change,) = received("on_device_change")
    assert (change.table, change.keys, change.operation) == ("devices", {"id": ref.id}, "modify")
    assert dict(change.old) == {"name": "Hall", "count": 1}
    new = dict(change.new)
    assert new == {
        "name": "Hall ✓", "count": 2**53 + 1, "ratio": 0.25, "active": True, "retired": None,
        "installed": new["installed"], "secret": "AAEC",
        "owner": f"projects/{firestore_emulator.project}/databases/(default)/documents/users/alice",
        "where": {"latitude": 37.5665, "longitude": 126.978}, "tags": ["hall", 2, {"floor": 3}],
        "config": {"limits": {"max": 35.5}, "empty": []},
    }  # fmt: skip
    from corefn.events import parse_time

    assert parse_time(new["installed"]) == installed
