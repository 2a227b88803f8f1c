"""corefn events as binary-mode CloudEvents on Kafka, Pub/Sub and AMQP: what corefn writes, the
cloudevents SDK's Kafka binding reads as the same event, and corefn reads what the SDK writes."""

from __future__ import annotations

import json

import pytest
from cloudevents.kafka import KafkaMessage
from cloudevents.kafka import from_binary as sdk_from_kafka
from cloudevents.kafka import to_binary as sdk_to_kafka

from corefn.events import Event
from corefn_knative.bindings import from_amqp, from_kafka, from_pubsub, to_amqp, to_kafka, to_pubsub
from corefn_knative.cloudevent import from_cloudevent, to_cloudevent
from tests.knative.test_cloudevents import EVENTS


def _same(a: Event, b: Event) -> None:
    assert type(a) is type(b) and a.to_dict() == b.to_dict()


@pytest.mark.parametrize("event", [e for e, _ in EVENTS], ids=lambda e: f"{e.kind}-{e.id}")
def test_kafka_binary_mode_round_trips_and_the_sdk_agrees(event: Event) -> None:
    headers, key, value = to_kafka(event)
    assert all(name == "content-type" or name.startswith("ce_") for name, _ in headers)
    _same(event, from_kafka(headers, key, value))
    read = sdk_from_kafka(KafkaMessage(dict(headers), key.decode() if key else None, value), data_unmarshaller=lambda b: b)
    _same(event, from_cloudevent(read))
    # the SDK's default marshaller JSON-encodes data: bytes (text and binary bodies) go as they are
    message = sdk_to_kafka(to_cloudevent(event), data_marshaller=lambda d: d if isinstance(d, bytes) else json.dumps(d).encode())
    key_bytes = message.key.encode() if isinstance(message.key, str) else message.key
    value_bytes = message.value.encode() if isinstance(message.value, str) else message.value
    _same(event, from_kafka(list(message.headers.items()), key_bytes, value_bytes))


@pytest.mark.parametrize("event", [e for e, _ in EVENTS], ids=lambda e: f"{e.kind}-{e.id}")
def test_pubsub_binary_mode_round_trips(event: Event) -> None:
    data, attributes = to_pubsub(event)
    assert attributes["ce-specversion"] == "1.0" and all(k == "content-type" or k.startswith("ce-") for k in attributes)
    _same(event, from_pubsub(data, attributes))


def test_a_record_key_is_the_partition_key() -> None:
    stream = next(e for e, _ in EVENTS if e.kind == "stream")
    _, key, _ = to_kafka(stream)
    assert key == b"dev-1"


@pytest.mark.parametrize("event", [e for e, _ in EVENTS], ids=lambda e: f"{e.kind}-{e.id}")
def test_amqp_binary_mode_round_trips(event: Event) -> None:
    """AMQP binding §3.1: ``cloudEvents:`` application properties, ``datacontenttype`` the
    message's content-type property; a reader accepts native AMQP values (a timestamp here)."""
    from datetime import UTC, datetime

    content_type, properties, data = to_amqp(event)
    assert properties["cloudEvents:specversion"] == "1.0" and all(k.startswith("cloudEvents:") for k in properties)
    assert "cloudEvents:datacontenttype" not in properties
    _same(event, from_amqp(content_type, properties, data))
    if "cloudEvents:time" in properties:
        native = dict(properties, **{"cloudEvents:time": datetime.fromisoformat(properties["cloudEvents:time"]).astimezone(UTC)})
        _same(event, from_amqp(content_type, native, data))


def test_publisher_message_forms_and_what_they_refuse() -> None:
    from corefn.cloudevents import message_form
    from corefn.cloudevents.publisher import cloudevents_wanted
    from corefn.errors import ConfigurationError
    from corefn.specs import SinkSpec

    form = message_form("stream", "telemetry", b'{"a":1}', group="g", attributes={"x": "y"}, json_body=True)
    assert (form["type"], form["source"], form["partitionkey"], form["data"]) == ("dev.corefn.topic.message", "/corefn/topic/telemetry", "g", {"a": 1})
    assert json.loads(form["corefnattributes"]) == {"x": "y"} and form["id"] and form["time"].endswith("Z")
    with pytest.raises(ValueError, match="target"):
        message_form("table", "t", b"")
    with pytest.raises(ConfigurationError, match="publishers"):
        cloudevents_wanted(SinkSpec("object", "photos", {"cloudevents": True}))
