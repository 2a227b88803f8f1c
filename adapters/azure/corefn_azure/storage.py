"""Blob storage events: the blob trigger (``func.InputStream``) and Event Grid's
``Microsoft.Storage.BlobCreated`` / ``BlobDeleted`` events, in the Event Grid schema and in the
CloudEvents 1.0 schema (Event Grid delivers either, as the subscription chooses:
https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage).

Event Grid puts the container and blob in ``subject``:
``/blobServices/default/containers/<container>/blobs/<path>`` (``data.url`` repeats them, but
Azure's own published sample disagrees with its subject, so the subject is authoritative). The blob
part is percent-decoded (``my%20photo.jpg`` → ``my photo.jpg``; ``+`` stays ``+`` in paths).

Event Grid is also a general pub/sub service: an event whose type is not a blob create or delete
becomes a :class:`~corefn.events.TopicMessage` whose topic is the short name of the publishing
resource, whose body is ``data`` as JSON and whose attributes carry ``type`` and ``subject``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from corefn.events import Body, Event, StorageEvent, TopicMessage
from corefn.payload import Reader
from corefn_azure._common import (
    EventShape,
    binding_object,
    last_segment,
    time_value,
)
from corefn_azure._envelope import HostShape, envelope_parts

#: Event Grid event type → corefn storage operation
BLOB_OPERATIONS: dict[str, str] = {
    "Microsoft.Storage.BlobCreated": "created",
    "Microsoft.Storage.BlobDeleted": "deleted",
}

_SUBJECT = re.compile(r"^/blobServices/default/containers/(?P<container>[^/]+)/blobs/(?P<blob>.+)$")


def split_subject(reader: Reader, subject: str, at: str) -> tuple[str, str]:
    """(container, blob name) from an Event Grid blob subject."""
    match = _SUBJECT.match(subject)
    if match is None:
        raise reader.error(f"{at}.subject", "should be /blobServices/default/containers/<container>/blobs/<name>")
    return unquote(match["container"]), unquote(match["blob"])


def grid_event(reader: Reader, event: Any, at: str, names: dict[str, str], raw: Any) -> Event:
    """One Event Grid event (in either schema, keys given by ``names``) as a corefn event."""
    if not isinstance(event, dict):
        raise reader.error(at or "$", "should be an Event Grid event object")
    kind = reader.str(event, names["type"], at=at)
    time = reader.time(event, names["time"], at=at)
    event_id = reader.opt_str(event, "id", at=at)
    operation = BLOB_OPERATIONS.get(kind)
    if operation is None:
        return TopicMessage(
            topic=last_segment(reader.opt_str(event, names["source"], at=at)),
            id=event_id,
            body=Body(json.dumps(event.get("data"), separators=(",", ":"))),
            attributes={"type": kind, **({"subject": event["subject"]} if isinstance(event.get("subject"), str) else {})},
            time=time,
            raw=raw,
        )
    container, blob = split_subject(reader, reader.str(event, "subject", at=at), at)
    data = reader.opt_dict(event, "data", at=at)
    where = f"{at}.data" if at else "data"
    return StorageEvent(
        bucket=container,
        key=blob,
        operation=operation,  # type: ignore[arg-type]
        size=reader.opt_int(data, "contentLength", at=where),
        time=time,
        id=event_id,
        etag=reader.opt_str(data, "eTag", at=where),
        content_type=reader.opt_str(data, "contentType", at=where),
        raw=raw,
    )


def _items(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def _first(raw: Any) -> Any:
    return raw[0] if isinstance(raw, list) and raw else raw


class EventGridSchema(EventShape):
    """Event Grid schema (``eventType``, ``eventTime``, ``topic``): one event or the array Event
    Grid posts to webhooks. Claimed by the first event's signature, so a later malformed event in
    the array is an error, never a silent skip. Event Grid retries a delivery that does not
    succeed: any failed event is raised."""

    name: ClassVar[str] = "eventgrid"
    kind: ClassVar[str] = "storage"
    names: ClassVar[dict[str, str]] = {"type": "eventType", "time": "eventTime", "source": "topic"}

    @classmethod
    def matches(cls, raw: Any) -> bool:
        first = _first(raw)
        return isinstance(first, dict) and "eventType" in first and "subject" in first

    def to_events(self) -> list[Event]:
        many = isinstance(self.raw, list)
        return [
            grid_event(self.reader, item, f"[{i}]" if many else "", self.names, item)
            for i, item in enumerate(_items(self.raw))
        ]


class CloudEventSchema(EventGridSchema):
    """The CloudEvents 1.0 schema of the same events (``specversion``, ``type``, ``source``,
    ``time``); only ``Microsoft.*`` types are Azure's (Google's CloudEvents say ``google.*``)."""

    name: ClassVar[str] = "cloudevent"
    names: ClassVar[dict[str, str]] = {"type": "type", "time": "time", "source": "source"}

    @classmethod
    def matches(cls, raw: Any) -> bool:
        first = _first(raw)
        return (
            isinstance(first, dict)
            and "specversion" in first
            and isinstance(first.get("type"), str)
            and first["type"].startswith("Microsoft.")
        )


class EventGridObject(EventShape):
    """``func.EventGridEvent``: what ``@app.event_grid_trigger`` hands a Python function."""

    name: ClassVar[str] = "eventgrid-object"
    kind: ClassVar[str] = "storage"
    binding: ClassVar[str] = "EventGridEvent"

    def to_events(self) -> list[Event]:
        event = binding_object(self.reader, self.raw, self.binding)
        as_json = {
            "id": event.id,
            "topic": event.topic,
            "subject": event.subject,
            "eventType": event.event_type,
            "eventTime": event.event_time.isoformat() if isinstance(event.event_time, datetime) else event.event_time,
            "data": event.get_json(),
        }
        return [grid_event(self.reader, as_json, "", EventGridSchema.names, event)]


class BlobStream(EventShape):
    """``func.InputStream`` from ``@app.blob_trigger``: ``name`` is ``<container>/<blob path>``
    (the host's ``BlobTrigger`` metadata), ``length`` the size, ``blob_properties`` the blob's
    properties (``LastModified``, ``ETag``, ``ContentType``). The trigger fires for new and
    updated blobs alike: both are ``created``. A failed blob trigger is retried up to
    ``maxDequeueCount`` times, then its receipt goes to the ``webjobs-blobtrigger-poison`` queue:
    the host needs the exception."""

    name: ClassVar[str] = "blob-stream"
    kind: ClassVar[str] = "storage"
    binding: ClassVar[str] = "InputStream"

    def to_events(self) -> list[Event]:
        stream = binding_object(self.reader, self.raw, self.binding)
        props = getattr(stream, "blob_properties", None)
        props = props if isinstance(props, dict) else {}
        as_json = {"BlobTrigger": stream.name, "Uri": stream.uri, "Properties": {**props, "Length": stream.length}}
        return [blob_event(self.reader, as_json, stream, "")]


def blob_event(reader: Reader, meta: dict[str, Any], raw: Any, at: str) -> StorageEvent:
    path = reader.str(meta, "BlobTrigger", at=at)
    container, sep, blob = path.partition("/")
    if not sep or not container or not blob:
        raise reader.error(f"{at}.BlobTrigger" if at else "BlobTrigger", "should be <container>/<blob name>")
    props = reader.opt_dict(meta, "Properties", at=at)
    where = f"{at}.Properties" if at else "Properties"
    modified = props.get("LastModified")
    return StorageEvent(
        bucket=container,
        key=blob,
        operation="created",
        size=reader.opt_int(props, "Length", at=where),
        time=time_value(reader, modified, f"{where}.LastModified"),
        etag=reader.opt_str(props, "ETag", at=where),
        content_type=reader.opt_str(props, "ContentType", at=where),
        raw=raw,
    )


class HostBlob(HostShape):
    """The host envelope of a blob trigger: ``Metadata.BlobTrigger`` (``container/name``),
    ``Uri`` and ``Properties`` (``Length``, ``LastModified``, ``ETag``, ``ContentType``)."""

    name: ClassVar[str] = "host-blob"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        return parts is not None and "BlobTrigger" in parts[1]

    def to_events(self) -> list[Event]:
        return [blob_event(self.reader, self.reader.dict(self.raw, "Metadata"), self.raw, "Metadata")]
