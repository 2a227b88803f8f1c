"""Every corefn event as a CloudEvents 1.0 event, and back, in the JSON event format: no SDK, so
the core's publishers (:mod:`corefn.cloudevents.bindings`) and any adapter share one mapping.

corefn's own CloudEvent types (the ``type`` attribute), one per kind and operation::

    corefn event                   type                                  source                subject
    StorageEvent                   dev.corefn.storage.<operation>        /corefn/storage/BUCKET  the object key
                                   (created, deleted, archived, metadata_updated)
    QueueMessage                   dev.corefn.queue.message              /corefn/queue/QUEUE     -
    TopicMessage                   dev.corefn.topic.message              /corefn/topic/TOPIC     the subscription
    TimerEvent                     dev.corefn.timer.fired                /corefn/timer/NAME      the schedule
    StreamRecord                   dev.corefn.stream.record              /corefn/stream/STREAM   partition:P#SEQUENCE
    NoSqlChange                    dev.corefn.nosql.<operation>          /corefn/nosql/TABLE     -
                                   (insert, modify, remove, upsert)
    InvokeEvent                    dev.corefn.invoke                     /corefn/invoke          the handler's name
    HttpRequest                    dev.corefn.http.request               /corefn/http            the path

``id`` is the event's id (a new UUID when it has none: CloudEvents require one), ``time`` its
time. Message bodies and stream data are the CloudEvent's data as they are (text as
``text/plain``, other bytes as ``application/octet-stream``, i.e. ``data_base64`` in JSON form),
so any CloudEvents consumer reads them; the rest travels in extensions, whose names the spec
limits to lower-case letters and digits (CloudEvents 1.0 §3.1.1):

- ``partitionkey``: a message's group or a record's key (the Partitioning extension, which the
  Kafka protocol binding maps to the record key);
- ``corefnattempt``, ``corefndedupid``: a message's attempt and deduplication id;
- ``corefnattributes``: a message's attributes as a JSON object (their names may be anything).

Storage, timer, nosql, invoke and HTTP events carry their fields as a JSON object in ``data``.

:func:`to_json_form` / :func:`from_json_form` work on the JSON-format dict. The Knative adapter
adds the ``cloudevents`` SDK's objects on top (``corefn_knative.cloudevent``); what a publisher
sends with ``cloudevents=True`` is :func:`message_form` (see :mod:`corefn.cloudevents.bindings`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from corefn.cloudevents._data import CONTEXT_ATTRIBUTES, data_body, data_object, extensions, is_json_type, read_data
from corefn.events import (
    Body,
    Event,
    HttpRequest,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
)
from corefn.events.base import format_time
from corefn.events.storage import STORAGE_OPERATIONS
from corefn.payload import Reader

PREFIX = "dev.corefn."
SOURCE_PREFIX = "/corefn/"

#: kind → the fixed part of its type (storage and nosql add the operation)
TYPES: dict[str, str] = {
    "storage": "dev.corefn.storage.",
    "nosql": "dev.corefn.nosql.",
    "queue": "dev.corefn.queue.message",
    "topic": "dev.corefn.topic.message",
    "timer": "dev.corefn.timer.fired",
    "stream": "dev.corefn.stream.record",
    "invoke": "dev.corefn.invoke",
    "http": "dev.corefn.http.request",
}

_TEXT = "text/plain; charset=utf-8"
_BINARY = "application/octet-stream"
_JSON = "application/json"


def type_of(event: Event) -> str:
    """The CloudEvent ``type`` for ``event`` (see the table in the module docstring)."""
    base = TYPES[event.kind]
    if event.kind in ("storage", "nosql"):
        return base + str(event.operation)  # type: ignore[attr-defined]
    return base


def kind_of(ce_type: str) -> str | None:
    """The corefn kind a ``dev.corefn.*`` type carries, or None for any other type."""
    for kind, base in TYPES.items():
        if ce_type == base or (base.endswith(".") and ce_type.startswith(base) and len(ce_type) > len(base)):
            return kind
    return None


def _source(kind: str, resource: str | None) -> str:
    return f"{SOURCE_PREFIX}{kind}" + (f"/{quote(resource, safe='')}" if resource else "")


def _put_body(out: dict[str, Any], body: Body) -> None:
    value, is_base64 = body.to_json_value()
    out["datacontenttype"] = _BINARY if is_base64 else _TEXT
    out["data_base64" if is_base64 else "data"] = value


def to_json_form(event: Event) -> dict[str, Any]:
    """``event`` as a CloudEvent in the JSON event format (see the module docstring)."""
    kind = event.kind
    out: dict[str, Any] = {"specversion": "1.0", "id": event.id or str(uuid.uuid4()), "type": type_of(event)}
    time: datetime | None = getattr(event, "time", None)
    if time is not None:
        out["time"] = format_time(time)
    if isinstance(event, StorageEvent):
        out["source"] = _source(kind, event.bucket)
        out["subject"] = event.key
        out["datacontenttype"] = _JSON
        fields = {"bucket": event.bucket, "key": event.key, "size": event.size, "etag": event.etag}
        fields.update(content_type=event.content_type, version=event.version)
        out["data"] = {k: v for k, v in fields.items() if v is not None}
    elif isinstance(event, (QueueMessage, TopicMessage)):
        resource = event.queue if isinstance(event, QueueMessage) else event.topic
        out["source"] = _source(kind, resource)
        if isinstance(event, TopicMessage) and event.subscription is not None:
            out["subject"] = event.subscription
        _put_body(out, event.body)
        if event.group is not None:
            out["partitionkey"] = event.group
        if event.attempt is not None:
            out["corefnattempt"] = str(event.attempt)
        if event.dedup_id is not None:
            out["corefndedupid"] = event.dedup_id
        if event.attributes:
            out["corefnattributes"] = json.dumps(dict(event.attributes), separators=(",", ":"))
    elif isinstance(event, TimerEvent):
        out["source"] = _source(kind, event.name)
        if event.schedule is not None:
            out["subject"] = event.schedule
        out["datacontenttype"] = _JSON
        out["data"] = {k: v for k, v in {"name": event.name, "schedule": event.schedule, "past_due": event.past_due}.items() if v is not None}
    elif isinstance(event, StreamRecord):
        out["source"] = _source(kind, event.stream)
        out["subject"] = f"partition:{event.partition}#{event.sequence}"
        _put_body(out, event.data)
        if event.key is not None:
            out["partitionkey"] = event.key
    elif isinstance(event, NoSqlChange):
        out["source"] = _source(kind, event.table)
        out["datacontenttype"] = _JSON
        data = event.to_dict()
        out["data"] = {k: data[k] for k in ("table", "keys", "new", "old", "sequence") if data.get(k) is not None}
    elif isinstance(event, InvokeEvent):
        out["source"] = _source(kind, None)
        if event.name is not None:
            out["subject"] = event.name
        out["datacontenttype"] = _JSON
        out["data"] = event.payload
    elif isinstance(event, HttpRequest):
        out["source"] = _source(kind, None)
        out["subject"] = event.path
        out["datacontenttype"] = _JSON
        out["data"] = {k: v for k, v in event.to_dict().items() if k not in ("kind", "id")}
    else:
        raise TypeError(f"no CloudEvent mapping for {type(event).__name__}")
    return out


def from_json_form(raw: dict[str, Any], shape: str = "corefn-cloudevent", provider: str = "cloudevents") -> Event:
    """The corefn event a ``dev.corefn.*`` CloudEvent (JSON form) carries. Raises
    :class:`~corefn.errors.EventShapeError` naming the bad attribute."""
    r = Reader(provider, shape)
    ce_type = r.str(raw, "type")
    kind = kind_of(ce_type)
    if kind is None:
        raise r.error("type", f"is not a corefn CloudEvent type (dev.corefn.*), got {ce_type!r}")
    source = r.str(raw, "source")
    ident = r.opt_str(raw, "id")
    time = r.time(raw, "time")
    subject = r.opt_str(raw, "subject")
    resource = _resource(r, source, kind)
    ext = extensions(raw)
    if kind == "storage":
        data = data_object(r, raw, "the object's fields")
        operation = ce_type[len(TYPES["storage"]) :]
        if operation not in STORAGE_OPERATIONS:
            raise r.error("type", f"names no storage operation corefn knows ({operation!r})")
        return StorageEvent(
            bucket=r.opt_str(data, "bucket", at="data") or resource or _missing(r, "source"),
            key=r.opt_str(data, "key", at="data") or subject or _missing(r, "subject"),
            operation=operation,  # type: ignore[arg-type]
            size=r.opt_int(data, "size", at="data"),
            etag=r.opt_str(data, "etag", at="data"),
            content_type=r.opt_str(data, "content_type", at="data"),
            version=r.opt_str(data, "version", at="data"),
            time=time,
            id=ident,
            raw=raw,
        )
    if kind in ("queue", "topic"):
        fields: dict[str, Any] = {
            "body": data_body(r, raw),
            "attributes": _attributes(r, ext.get("corefnattributes")),
            "attempt": r.convert(ext["corefnattempt"], int, "corefnattempt", "an integer") if "corefnattempt" in ext else None,
            "group": ext.get("partitionkey"),
            "dedup_id": ext.get("corefndedupid"),
            "time": time,
            "id": ident,
            "raw": raw,
        }
        if kind == "queue":
            return QueueMessage(queue=resource, **fields)
        return TopicMessage(topic=resource, subscription=subject, **fields)
    if kind == "timer":
        data = data_object(r, raw, "the timer's fields") if read_data(r, raw) is not None else {}
        past_due = data.get("past_due")
        if past_due is not None and not isinstance(past_due, bool):
            raise r.error("data.past_due", "should be a boolean")
        return TimerEvent(
            time=time, schedule=r.opt_str(data, "schedule", at="data") or subject,
            name=r.opt_str(data, "name", at="data") or resource, past_due=past_due, id=ident, raw=raw,
        )
    if kind == "stream":
        partition, sequence = split_subject(r, subject)
        return StreamRecord(
            stream=resource, partition=partition, sequence=sequence, key=ext.get("partitionkey"),
            data=data_body(r, raw), time=time, id=ident, raw=raw,
        )
    if kind == "nosql":
        data = data_object(r, raw, "the change's fields")
        operation = ce_type[len(TYPES["nosql"]) :]
        if operation not in ("insert", "modify", "remove", "upsert"):
            raise r.error("type", f"names no change operation corefn knows ({operation!r})")
        return NoSqlChange(
            table=r.opt_str(data, "table", at="data") or resource, operation=operation,  # type: ignore[arg-type]
            keys=r.opt_dict(data, "keys", at="data"), new=_opt_object(r, data, "new"), old=_opt_object(r, data, "old"),
            sequence=r.opt_str(data, "sequence", at="data"), time=time, id=ident, raw=raw,
        )
    if kind == "invoke":
        return InvokeEvent(payload=read_data(r, raw), name=subject, id=ident, raw=raw)
    data = data_object(r, raw, "the request's fields")
    body = r.opt_str(data, "body", at="data") or ""
    return HttpRequest(
        method=r.str(data, "method", at="data"), path=r.str(data, "path", at="data"),
        headers=r.opt_dict(data, "headers", at="data"), query=r.opt_dict(data, "query", at="data"),
        body=Body(body, base64=data.get("body_encoding") == "base64"),
        params=r.opt_dict(data, "params", at="data"), id=ident, raw=raw,
    )


def split_subject(r: Reader, subject: str | None) -> tuple[str, str]:
    """``partition:P#OFFSET`` (the subject KafkaSource sets, and corefn's own for stream records)
    → ``(P, OFFSET)``."""
    if subject is None:
        raise r.error("subject", "is missing (should be partition:P#OFFSET)")
    head, sep, sequence = subject.partition("#")
    if not sep or not head.startswith("partition:") or not head[len("partition:") :] or not sequence:
        raise r.error("subject", f"should be partition:P#OFFSET, got {subject!r}")
    return head[len("partition:") :], sequence


def _resource(r: Reader, source: str, kind: str) -> str | None:
    prefix = f"{SOURCE_PREFIX}{kind}"
    if source == prefix:
        return None
    if not source.startswith(prefix + "/"):
        return unquote(source.rstrip("/").rsplit("/", 1)[-1]) or None  # another sender: its last segment
    return unquote(source[len(prefix) + 1 :]) or None


def _attributes(r: Reader, text: str | None) -> dict[str, str]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise r.error("corefnattributes", "should be a JSON object of strings") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise r.error("corefnattributes", "should be a JSON object of strings")
    return value


def _opt_object(r: Reader, data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise r.error(f"data.{name}", "should be an object")
    return value


def _missing(r: Reader, field: str) -> str:
    raise r.error(field)


# ------------------------------------------------------------------- what publishers send

#: a publisher's target → the corefn event its messages are. A stream's record has no position
#: until the broker stores it, so what a stream publisher sends is a topic message (its readers
#: get partition and offset from their transport, e.g. KafkaSource's own attributes).
MESSAGE_KINDS: dict[str, str] = {"queue": "queue", "topic": "topic", "stream": "topic"}


def message_form(
    target: str, name: str, body: bytes, *, group: str | None = None, attributes: Mapping[str, str] | None = None,
    json_body: bool = False,
) -> dict[str, Any]:
    """The CloudEvent (JSON form) of one message a publisher sends to queue / topic / stream
    ``name``: a new UUID as ``id``, now as ``time``, ``group`` as ``partitionkey``, the body as
    ``data`` (``application/json`` when the caller sent a dict or list, ``json_body``), and
    ``attributes`` in ``corefnattributes`` (binary bindings leave them out and send them as the
    transport's own headers instead)."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {"body": Body(body), "group": group, "attributes": dict(attributes or {}), "time": now,
                              "id": str(uuid.uuid4())}  # fmt: skip
    kind = MESSAGE_KINDS.get(target)
    event: Event
    if kind == "queue":
        event = QueueMessage(queue=name, **fields)
    elif kind == "topic":
        event = TopicMessage(topic=name, **fields)
    else:
        raise ValueError(f"no CloudEvent for a publisher target {target!r} (one of {', '.join(MESSAGE_KINDS)})")
    form = to_json_form(event)
    if json_body:
        form.pop("data_base64", None)
        form["datacontenttype"] = _JSON
        form["data"] = json.loads(body)
    return form


__all__ = [
    "CONTEXT_ATTRIBUTES",
    "MESSAGE_KINDS",
    "PREFIX",
    "SOURCE_PREFIX",
    "TYPES",
    "data_body",
    "data_object",
    "extensions",
    "from_json_form",
    "is_json_type",
    "kind_of",
    "message_form",
    "read_data",
    "split_subject",
    "to_json_form",
    "type_of",
]
