"""Shape-level behaviour the fixtures alone do not pin down: error messages that name the bad
field, lazy Firestore decoding, and Pub/Sub messages re-read as the kind the app declared."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from corefn import App
from corefn.adapters import Target, parse
from corefn.errors import EventShapeError, UnrecognizedPayloadError
from corefn.events import QueueMessage, StreamRecord, TopicMessage
from corefn_gcp import adapter
from tests.gcp.conftest import fixture


def _error(payload: Any) -> EventShapeError:
    with pytest.raises(EventShapeError) as info:
        parsed = parse(payload, "gcp")
        for event in parsed.events:
            event.to_dict()  # lazy values are decoded here
    return info.value


def test_firestore_values_decode_lazily_and_name_the_bad_field() -> None:
    payload = fixture("nosql-firestore-cloudevent.json")
    payload["data"]["value"]["fields"]["count"] = {"integerValue": "four"}
    (change,) = parse(payload, "gcp").events  # reading the event does not decode the document yet
    with pytest.raises(EventShapeError) as info:
        change.new["count"]  # type: ignore[attr-defined, index]
    assert info.value.field == "data.value.fields.count.integerValue"
    assert change.old["count"] == 3  # type: ignore[attr-defined, index]


@pytest.mark.parametrize(
    "value, field",
    [
        ({"stringValue": "a", "integerValue": "1"}, "data.value.fields.x"),
        ({"unknownValue": 1}, "data.value.fields.x.unknownValue"),
        ({"arrayValue": {"values": [{"booleanValue": "yes"}]}}, "data.value.fields.x.arrayValue.values[0].booleanValue"),
        ({"timestampValue": "yesterday"}, "data.value.fields.x.timestampValue"),
        ({"mapValue": {"fields": {"y": {"doubleValue": "1.5"}}}}, "data.value.fields.x.mapValue.fields.y.doubleValue"),
    ],
)
def test_malformed_firestore_values(value: dict[str, Any], field: str) -> None:
    payload = fixture("nosql-firestore-legacy.json")
    payload["data"]["value"]["fields"]["x"] = value
    assert _error(payload).field == field


def test_storage_and_pubsub_errors_name_the_field() -> None:
    storage = fixture("storage-finalized-cloudevent.json")
    storage["type"] = "google.cloud.storage.object.v1.renamed"
    assert _error(storage).field == "type"
    topic = fixture("topic-pubsub-cloudevent.json")
    topic["source"] = "//pubsub.googleapis.com/projects/sample-project"
    assert _error(topic).field == "source"
    attributes = fixture("topic-pubsub-push-attempt.json")
    attributes["message"]["attributes"]["n"] = 1
    assert _error(attributes).field == "message.attributes.n"
    size = fixture("storage-finalize-legacy.json")
    size["data"]["size"] = "big"
    assert _error(size).field == "data.size"


def test_legacy_event_of_an_unknown_service_is_not_guessed() -> None:
    with pytest.raises(UnrecognizedPayloadError):
        parse({"context": {"eventType": "providers/firebase.auth/eventTypes/user.create"}, "data": {}})


def _message(key: str | None = None, topic: str | None = "telemetry") -> TopicMessage:
    (message,) = parse(fixture("topic-pubsub-push-attempt.json"), "gcp").events
    assert isinstance(message, TopicMessage)
    return message.replace(topic=topic, group=key)  # type: ignore[no-any-return]


def test_pubsub_messages_become_the_kind_the_app_declared() -> None:
    app = App("kinds")

    @app.stream("telemetry")
    def readings(record: Any) -> None: ...

    @app.queue("orders")
    def orders(message: Any) -> None: ...

    @app.topic("alerts")
    def alerts(message: Any) -> None: ...

    def as_declared(event: Any, pinned: str | None) -> Any:
        return adapter.bind(event, Target(app, app.handler(pinned) if pinned else None, {}))

    record = as_declared(_message("device-7"), None)  # found by topic name
    assert isinstance(record, StreamRecord) and (record.partition, record.key, record.sequence) == ("device-7", "device-7", "2070443601311540")
    unordered = as_declared(_message(None), None)
    assert isinstance(unordered, StreamRecord) and unordered.partition == "" and unordered.key is None
    queued = as_declared(_message(topic=None), "orders")  # a push body: the pinned handler's queue
    assert isinstance(queued, QueueMessage) and queued.queue == "orders" and queued.attempt == 3
    topic = as_declared(_message(topic=None), "alerts")
    assert isinstance(topic, TopicMessage) and topic.topic == "alerts"
    other = _message(topic="elsewhere")
    assert as_declared(other, None) is other
    renamed = adapter.bind(_message(None, topic="telemetry-3f2a"), Target(app, None, {"telemetry-3f2a": "telemetry"}))
    assert isinstance(renamed, StreamRecord)  # found by its logical name


def test_fixtures_are_not_changed_by_reading() -> None:
    payload = fixture("storage-notification-push.json")
    before = copy.deepcopy(payload)
    parse(payload, "gcp")
    assert payload == before


@pytest.mark.parametrize("shape", ["http", "scheduler-http"])
def test_an_http_shape_forced_onto_json_asks_for_a_flask_request(shape: str) -> None:
    """``--shape http`` on JSON used to fail with ``field '?' is malformed (AttributeError...)``."""
    with pytest.raises(EventShapeError) as caught:
        parse({"method": "GET", "headers": {}}, cloud="gcp", shape=shape)
    assert str(caught.value) == f"gcp {shape} payload: field '$' should be a Flask request"
