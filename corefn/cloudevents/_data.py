"""Reading a CloudEvent in the JSON event format (CloudEvents 1.0 JSON format,
https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md): context
attributes and extensions at the top level, ``data`` as a JSON value or ``data_base64`` for binary
data (§3.1). Every binding (HTTP, Kafka, Pub/Sub, AMQP) is turned into this form first, so one
reader serves them all."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from corefn.events.base import Body
from corefn.payload import Reader

#: the context attributes CloudEvents 1.0 defines; everything else at the top level of the JSON
#: form (except data / data_base64) is an extension
CONTEXT_ATTRIBUTES = frozenset({"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"})

#: media types whose bytes the JSON form carries as a JSON value (JSON format §3.1: "data" for
#: JSON media types, decoded); text types are carried as a string, anything else as base64
_JSON_SUFFIXES = ("/json", "+json")


def is_json_type(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind.endswith(_JSON_SUFFIXES)


def read_data(r: Reader, raw: Mapping[str, Any]) -> Any:
    """``data`` as the JSON value it is, or the bytes of ``data_base64``."""
    if raw.get("data_base64") is not None:
        return r.base64_bytes(r.str(raw, "data_base64"), "data_base64")
    return raw.get("data")


def data_body(r: Reader, raw: Mapping[str, Any]) -> Body:
    """The event's data as a message body: bytes stay bytes, a string is its text, any other
    JSON value is its compact JSON text (a producer that sent ``{"a": 1}`` as
    ``application/json`` meant those bytes)."""
    data = read_data(r, raw)
    if data is None:
        return Body(b"")
    if isinstance(data, (bytes, str)):
        return Body(data)
    return Body(json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def data_object(r: Reader, raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``data`` that must be a JSON object (possibly sent as JSON bytes or text)."""
    data = read_data(r, raw)
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError:
            raise r.error("data", f"should be {what} (JSON)") from None
    if not isinstance(data, dict):
        raise r.error("data", f"should be {what} (a JSON object)")
    return data


def extensions(raw: Mapping[str, Any]) -> dict[str, str]:
    """The extension attributes, as strings (their canonical string encoding: CloudEvents 1.0
    §3.1.1 type system; every binary binding carries them as strings)."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        if name in CONTEXT_ATTRIBUTES or name in ("data", "data_base64") or value is None:
            continue
        out[name] = value if isinstance(value, str) else json.dumps(value)
    return out
