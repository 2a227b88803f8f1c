"""CloudEvents on other transports: the protocol bindings corefn's publishers use (and readers
undo), with no SDK.

Binary content mode, where the protocol has a binding:

- **Kafka** (Kafka protocol binding §3.2, https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md):
  every attribute a ``ce_<name>`` header (UTF-8), ``datacontenttype`` the ``content-type``
  header, the data the record value, and the Partitioning extension's ``partitionkey`` the
  record key. A Knative KafkaSource hands such a record to a Service as that very CloudEvent.
- **Google Cloud Pub/Sub** (Pub/Sub protocol binding §3.1, https://github.com/google/knative-gcp/blob/main/docs/spec/pubsub-protocol-binding.md):
  every attribute a ``ce-<name>`` message attribute, ``datacontenttype`` the ``content-type``
  attribute, the data the message data.
- **AMQP** (AMQP protocol binding §3.1, https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/amqp-protocol-binding.md):
  every attribute a ``cloudEvents:<name>`` application property (§3.1.3.1; values in their
  canonical string form, which §3.1.3.2 allows), ``datacontenttype`` the message's
  ``content-type`` property, the data the application-data section. Azure Service Bus' user
  properties are AMQP application properties.

Structured content mode everywhere else (:func:`structured`): the body is the JSON form,
``application/cloudevents+json`` (JSON event format §4).

A publisher sends CloudEvents when its sink is declared with ``cloudevents=True``
(``app.publisher("events", target="topic", cloudevents=True)``). It is opt-in, never the
default: a consumer that is not CloudEvents-aware would see its bodies wrapped (structured mode)
or extra headers and a ``partitionkey`` it did not ask for. In binary mode the body, the group and
the caller's attributes stay what they are without the option (the attributes as the transport's
own headers, beside the CloudEvents ones), so a reader that ignores CloudEvents sees the same
message; in structured mode the attributes travel inside the event (``corefnattributes``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from corefn.cloudevents import from_json_form, to_json_form
from corefn.errors import ConfigurationError
from corefn.events import Event

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
KAFKA_PREFIX = "ce_"
PUBSUB_PREFIX = "ce-"
AMQP_PREFIX = "cloudEvents:"
#: the attribute each binary binding moves out of its prefixed headers
CONTENT_TYPE = "content-type"


def split_data(form: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """The JSON form's attributes (as strings) and its data as bytes (the binary-mode body)."""
    attributes = {k: v if isinstance(v, str) else json.dumps(v) for k, v in form.items() if k not in ("data", "data_base64")}
    data, encoded = form.get("data"), form.get("data_base64")
    if encoded is not None:
        return attributes, base64.b64decode(encoded)
    if data is None:
        return attributes, b""
    if isinstance(data, str) and not str(form.get("datacontenttype", "")).split(";")[0].strip().endswith("json"):
        return attributes, data.encode("utf-8")
    return attributes, json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def join_data(attributes: dict[str, Any], value: bytes, others: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON form back from binary-mode attributes and the body's bytes. ``others`` are the
    transport's headers that were not CloudEvents attributes: the sender's own message
    attributes, merged into ``corefnattributes``."""
    kind = str(attributes.get("datacontenttype") or "")
    if value:
        base = kind.split(";")[0].strip().lower()
        if base.endswith(("/json", "+json")):
            attributes["data"] = json.loads(value)
        elif base.startswith("text/"):
            attributes["data"] = value.decode("utf-8")
        else:
            attributes["data_base64"] = base64.b64encode(value).decode("ascii")
    if others:
        merged = dict(others)
        if "corefnattributes" in attributes:
            merged.update(json.loads(attributes["corefnattributes"]))
        attributes["corefnattributes"] = json.dumps(merged, separators=(",", ":"))
    return attributes


def structured(form: Mapping[str, Any]) -> bytes:
    """The structured-mode body: the JSON form, compact UTF-8."""
    return json.dumps(form, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _native(attributes: Mapping[str, str] | None, prefix: str, sink: str) -> dict[str, str]:
    """The caller's own attributes, refused where they would be read as CloudEvents attributes."""
    own = dict(attributes or {})
    if clash := [k for k in own if k.lower() == CONTENT_TYPE or k.lower().startswith(prefix.lower())]:
        raise ConfigurationError(f"sink {sink!r} sends CloudEvents: attribute names {clash} are the binding's own")
    return own


# ----------------------------------------------------------------------------------- Kafka


def kafka_record(form: Mapping[str, Any], own: Mapping[str, str] | None = None, sink: str = "") -> tuple[list[tuple[str, bytes]], bytes | None, bytes]:
    """``(headers, key, value)`` of the Kafka record carrying the JSON form ``form`` in binary
    mode; ``own`` are the sender's attributes, sent as plain headers after the binding's."""
    attributes, value = split_data(form)
    key = attributes.pop("partitionkey", None)
    headers = [(CONTENT_TYPE if n == "datacontenttype" else KAFKA_PREFIX + n, v.encode("utf-8")) for n, v in attributes.items()]
    headers += [(n, v.encode("utf-8")) for n, v in _native(own, KAFKA_PREFIX, sink).items()]
    return headers, (key.encode("utf-8") if key is not None else None), value


def kafka_form(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes) -> dict[str, Any]:
    """The JSON form of a binary-mode Kafka record (other headers become ``corefnattributes``)."""
    attributes: dict[str, Any] = {}
    others: dict[str, str] = {}
    for name, raw in headers:
        lower = name.lower()
        if lower == CONTENT_TYPE:
            attributes["datacontenttype"] = raw.decode("utf-8")
        elif lower.startswith(KAFKA_PREFIX):
            attributes[lower[len(KAFKA_PREFIX) :]] = raw.decode("utf-8")
        else:
            others[name] = raw.decode("utf-8")
    if key is not None:
        attributes["partitionkey"] = key.decode("utf-8")
    return join_data(attributes, value, others)


def to_kafka(event: Event) -> tuple[list[tuple[str, bytes]], bytes | None, bytes]:
    return kafka_record(to_json_form(event))


def from_kafka(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes) -> Event:
    """The corefn event a binary-mode Kafka record of a ``dev.corefn.*`` CloudEvent carries."""
    return from_json_form(kafka_form(headers, key, value), "corefn-kafka")


# --------------------------------------------------------------------------------- Pub/Sub


def pubsub_message(form: Mapping[str, Any], own: Mapping[str, str] | None = None, sink: str = "") -> tuple[bytes, dict[str, str]]:
    """``(data, attributes)`` of the Pub/Sub message carrying ``form`` in binary mode."""
    attributes, value = split_data(form)
    out = {(CONTENT_TYPE if n == "datacontenttype" else PUBSUB_PREFIX + n): v for n, v in attributes.items()}
    return value, out | _native(own, PUBSUB_PREFIX, sink)


def pubsub_form(data: bytes, attributes: Mapping[str, str]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    others: dict[str, str] = {}
    for name, value in attributes.items():
        if name == CONTENT_TYPE:
            form["datacontenttype"] = value
        elif name.startswith(PUBSUB_PREFIX):
            form[name[len(PUBSUB_PREFIX) :]] = value
        else:
            others[name] = value
    return join_data(form, data, others)


def to_pubsub(event: Event) -> tuple[bytes, dict[str, str]]:
    return pubsub_message(to_json_form(event))


def from_pubsub(data: bytes, attributes: Mapping[str, str]) -> Event:
    """The corefn event a binary-mode Pub/Sub message of a ``dev.corefn.*`` CloudEvent carries."""
    return from_json_form(pubsub_form(data, attributes), "corefn-pubsub")


# ------------------------------------------------------------------------------------ AMQP


def amqp_message(form: Mapping[str, Any], own: Mapping[str, str] | None = None, sink: str = "") -> tuple[str | None, dict[str, str], bytes]:
    """``(content-type property, application properties, application data)`` of the AMQP message
    carrying ``form`` in binary mode."""
    attributes, value = split_data(form)
    content_type = attributes.pop("datacontenttype", None)
    properties = {AMQP_PREFIX + n: v for n, v in attributes.items()}
    return content_type, properties | _native(own, AMQP_PREFIX, sink), value


def amqp_form(content_type: str | None, properties: Mapping[str, Any], data: bytes) -> dict[str, Any]:
    """The JSON form of a binary-mode AMQP message. Property values may be native AMQP values
    (§3.1.3.2: a reader must accept both forms); they are read as their string form."""
    form: dict[str, Any] = {}
    others: dict[str, str] = {}
    for name, value in properties.items():
        text = value if isinstance(value, str) else json.dumps(value) if not hasattr(value, "isoformat") else value.isoformat()
        if name.startswith(AMQP_PREFIX):
            form[name[len(AMQP_PREFIX) :]] = text
        else:
            others[name] = text
    if content_type:
        form["datacontenttype"] = content_type
    return join_data(form, data, others)


def to_amqp(event: Event) -> tuple[str | None, dict[str, str], bytes]:
    return amqp_message(to_json_form(event))


def from_amqp(content_type: str | None, properties: Mapping[str, Any], data: bytes) -> Event:
    """The corefn event a binary-mode AMQP message of a ``dev.corefn.*`` CloudEvent carries."""
    return from_json_form(amqp_form(content_type, properties, data), "corefn-amqp")


__all__ = [
    "AMQP_PREFIX",
    "KAFKA_PREFIX",
    "PUBSUB_PREFIX",
    "STRUCTURED_CONTENT_TYPE",
    "amqp_form",
    "amqp_message",
    "from_amqp",
    "from_kafka",
    "from_pubsub",
    "join_data",
    "kafka_form",
    "kafka_record",
    "pubsub_form",
    "pubsub_message",
    "split_data",
    "structured",
    "to_amqp",
    "to_kafka",
    "to_pubsub",
]
