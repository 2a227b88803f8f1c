"""Cloud Storage object changes, in the three ways Google reports them:

- CloudEvents ``google.cloud.storage.object.v1.finalized | deleted | archived |
  metadataUpdated`` (2nd gen / Eventarc), data = the object's JSON resource;
- legacy background events ``google.storage.object.finalize | delete | archive |
  metadataUpdate`` (1st gen) and the older ``providers/cloud.storage/eventTypes/object.change``
  (created or, with ``resourceState: "not_exists"``, deleted);
- Pub/Sub notifications (``gcloud storage buckets notifications create``): attributes
  ``bucketId``, ``objectId``, ``eventType`` (``OBJECT_FINALIZE`` ...), ``eventTime``,
  ``objectGeneration``; the data is the object resource when ``payloadFormat`` is
  ``JSON_API_V1`` and empty when it is ``NONE``.

GCS sends ``size`` and ``generation`` as decimal strings (int64 in JSON). Object names are not
URL-encoded in any of these. ``time`` is when the event happened (the CloudEvent ``time``, the
context ``timestamp``, the notification's ``eventTime``), not the object's ``updated``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.events import Event, StorageEvent, StorageOperation
from corefn.payload import Reader
from corefn_gcp._envelope import (
    EventShape,
    Legacy,
    cloud_event_data,
    is_cloud_event_of,
    is_legacy_of,
    read_legacy,
)
from corefn_gcp.queue import peek_attributes, read_delivery

#: every storage event type Google sends → corefn's operation
OPERATIONS: dict[str, StorageOperation] = {
    "google.cloud.storage.object.v1.finalized": "created",
    "google.cloud.storage.object.v1.deleted": "deleted",
    "google.cloud.storage.object.v1.archived": "archived",
    "google.cloud.storage.object.v1.metadataUpdated": "metadata_updated",
    "google.storage.object.finalize": "created",
    "google.storage.object.delete": "deleted",
    "google.storage.object.archive": "archived",
    "google.storage.object.metadataUpdate": "metadata_updated",
    "providers/cloud.storage/eventTypes/object.change": "created",  # "deleted" when resourceState says so
    "OBJECT_FINALIZE": "created",
    "OBJECT_DELETE": "deleted",
    "OBJECT_ARCHIVE": "archived",
    "OBJECT_METADATA_UPDATE": "metadata_updated",
}
CLOUD_EVENT_PREFIX = "google.cloud.storage.object.v1."
LEGACY_PREFIXES = ("google.storage.object.", "providers/cloud.storage/")


def operation_of(r: Reader, event_type: str, field: str) -> StorageOperation:
    try:
        return OPERATIONS[event_type]
    except KeyError:
        raise r.error(field, f"is not a Cloud Storage event type corefn knows ({event_type!r})") from None


def from_object(r: Reader, obj: dict[str, Any], at: str, **fields: Any) -> StorageEvent:
    """A StorageEvent from GCS's object resource; ``fields`` fills or overrides what the
    envelope knows better (operation, time, id)."""
    values: dict[str, Any] = {
        "bucket": r.str(obj, "bucket", at=at),
        "key": r.str(obj, "name", at=at),
        "size": r.opt_int(obj, "size", at=at),
        "etag": r.opt_str(obj, "etag", at=at),
        "content_type": r.opt_str(obj, "contentType", at=at),
        "version": r.opt_str(obj, "generation", at=at),
    }
    values.update(fields)
    return StorageEvent(**values)


class StorageCloudEvent(EventShape):
    name: ClassVar[str] = "storage-cloudevent"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_cloud_event_of(raw, CLOUD_EVENT_PREFIX)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        data = cloud_event_data(r, raw)
        if not isinstance(data, dict):
            raise r.error("data", "should be the object resource (JSON)")
        operation = operation_of(r, r.str(raw, "type"), "type")
        return [from_object(r, data, "data", operation=operation, time=r.time(raw, "time"), id=r.opt_str(raw, "id"), raw=raw)]


class StorageLegacy(EventShape):
    name: ClassVar[str] = "storage-legacy"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_legacy_of(raw, LEGACY_PREFIXES)

    def to_events(self) -> list[Event]:
        r = self.reader
        legacy: Legacy = read_legacy(r, self.raw)
        if not isinstance(legacy.data, dict):
            raise r.error("data", "should be the object resource")
        operation = operation_of(r, legacy.event_type, f"{legacy.at}.eventType".lstrip("."))
        if legacy.data.get("resourceState") == "not_exists":  # object.change reporting a deletion
            operation = "deleted"
        return [from_object(r, legacy.data, "data", operation=operation, time=legacy.time, id=legacy.event_id, raw=self.raw)]


class StorageNotification(EventShape):
    """A GCS notification read from any Pub/Sub envelope (CloudEvent, legacy, push)."""

    name: ClassVar[str] = "storage-notification"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        attributes = peek_attributes(raw)
        return "bucketId" in attributes and "objectId" in attributes and "eventType" in attributes

    def to_events(self) -> list[Event]:
        r = self.reader
        delivery = read_delivery(r, self.raw)
        attributes = delivery.attributes(r)
        at = f"{delivery.at}.attributes"
        operation = operation_of(r, r.str(attributes, "eventType", at=at), f"{at}.eventType")
        fields: dict[str, Any] = {
            "bucket": r.str(attributes, "bucketId", at=at),
            "key": r.str(attributes, "objectId", at=at),
            "operation": operation,
            "time": r.time(attributes, "eventTime", at=at) or delivery.time(r),
            "id": delivery.message_id(r),
            "version": r.opt_str(attributes, "objectGeneration", at=at),
            "raw": self.raw,
        }
        body = delivery.body(r)
        if attributes.get("payloadFormat") == "JSON_API_V1" and body:
            import json

            try:
                obj = json.loads(body.content)
            except ValueError:
                raise r.error(f"{delivery.at}.data", "should be the object resource as JSON (payloadFormat JSON_API_V1)") from None
            if not isinstance(obj, dict):
                raise r.error(f"{delivery.at}.data", "should be the object resource as JSON (payloadFormat JSON_API_V1)")
            return [from_object(r, obj, f"{delivery.at}.data", **fields)]
        return [StorageEvent(**fields)]
