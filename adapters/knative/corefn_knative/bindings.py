"""corefn events as CloudEvents on other transports, in binary content mode, for publishers whose
protocol has a CloudEvents binding (and back, for consumers):

- **Kafka** (Kafka protocol binding §3.2, https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md):
  every attribute a ``ce_<name>`` header (UTF-8), ``datacontenttype`` the ``content-type``
  header, the data the record value, and the Partitioning extension's ``partitionkey`` the
  record key. A KafkaSource hands such a record to a Knative Service as that very CloudEvent.
- **Google Cloud Pub/Sub** (Pub/Sub protocol binding §3.1, https://github.com/google/knative-gcp/blob/main/docs/spec/pubsub-protocol-binding.md):
  every attribute a ``ce-<name>`` message attribute, ``datacontenttype`` the ``content-type``
  attribute, the data the message data.

Everything else sends the structured JSON form (:func:`corefn_knative.cloudevent.to_json_form`).
No SDK needed either way.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from corefn.events import Event
from corefn_knative.cloudevent import from_json_form, to_json_form


def _split(event: Event) -> tuple[dict[str, Any], bytes]:
    """The JSON form's attributes (strings) and its data as bytes."""
    form = to_json_form(event)
    data = form.pop("data", None)
    encoded = form.pop("data_base64", None)
    if encoded is not None:
        value = base64.b64decode(encoded)
    elif data is None:
        value = b""
    elif isinstance(data, str) and not form.get("datacontenttype", "").endswith("json"):
        value = data.encode("utf-8")
    else:
        value = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return form, value


def _join(attributes: dict[str, Any], value: bytes) -> dict[str, Any]:
    """The JSON form back from binary-mode attributes and the value's bytes."""
    kind = str(attributes.get("datacontenttype") or "")
    if value:
        base = kind.split(";")[0].strip().lower()
        if base.endswith(("/json", "+json")):
            attributes["data"] = json.loads(value)
        elif base.startswith("text/"):
            attributes["data"] = value.decode("utf-8")
        else:
            attributes["data_base64"] = base64.b64encode(value).decode("ascii")
    return attributes


def to_kafka(event: Event) -> tuple[list[tuple[str, bytes]], bytes | None, bytes]:
    """``(headers, key, value)`` of the Kafka record carrying ``event`` in binary mode."""
    form, value = _split(event)
    key = form.pop("partitionkey", None)
    headers = [("content-type" if name == "datacontenttype" else f"ce_{name}", str(v).encode("utf-8")) for name, v in form.items()]
    return headers, (key.encode("utf-8") if key is not None else None), value


def from_kafka(headers: Iterable[tuple[str, bytes]], key: bytes | None, value: bytes) -> Event:
    """The corefn event a binary-mode Kafka record of a ``dev.corefn.*`` CloudEvent carries."""
    attributes: dict[str, Any] = {}
    for name, raw in headers:
        lower = name.lower()
        if lower == "content-type":
            attributes["datacontenttype"] = raw.decode("utf-8")
        elif lower.startswith("ce_"):
            attributes[lower[3:]] = raw.decode("utf-8")
    if key is not None:
        attributes["partitionkey"] = key.decode("utf-8")
    return from_json_form(_join(attributes, value), "corefn-kafka")


def to_pubsub(event: Event) -> tuple[bytes, dict[str, str]]:
    """``(data, attributes)`` of the Pub/Sub message carrying ``event`` in binary mode."""
    form, value = _split(event)
    return value, {("content-type" if name == "datacontenttype" else f"ce-{name}"): str(v) for name, v in form.items()}


def from_pubsub(data: bytes, attributes: Mapping[str, str]) -> Event:
    """The corefn event a binary-mode Pub/Sub message of a ``dev.corefn.*`` CloudEvent carries."""
    form: dict[str, Any] = {}
    for name, value in attributes.items():
        if name == "content-type":
            form["datacontenttype"] = value
        elif name.startswith("ce-"):
            form[name[3:]] = value
    return from_json_form(_join(form, data), "corefn-pubsub")
