"""IBM Cloud Object Storage notifications, from the ``/whisk.system/cos/changes`` feed.

The trigger payload (IBM Cloud Functions "Cloud Object Storage event source" docs; the same body
Code Engine's COS subscription delivers, which adds ``operation``)::

    {"bucket": "b", "endpoint": "", "key": "photo 1.jpg",
     "notification": {"bucket_name": "b", "content_type": "image/jpeg",
                      "event_type": "Object:Write", "format": "2.0",
                      "object_etag": "...", "object_length": "1064391",
                      "object_name": "photo 1.jpg", "request_id": "...",
                      "request_time": "2021-02-26T19:18:30.963Z"}}

Signature: ``notification.event_type`` starting with ``Object:``. Keys arrive as plain text
(not URL-encoded, unlike S3), so they are not decoded. ``object_length`` is a decimal string.
COS notifies writes and deletes only: ``Object:Write`` → created, ``Object:Delete`` → deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from corefn.events import Event, StorageEvent, StorageOperation, parse_time
from corefn_openwhisk._common import TriggerShape

OPERATIONS: dict[str, StorageOperation] = {"Object:Write": "created", "Object:Delete": "deleted"}


class CosNotification(TriggerShape):
    """``notification.event_type`` = ``Object:*``: an IBM COS object event."""

    name: ClassVar[str] = "cos"
    kind: ClassVar[str] = "storage"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not isinstance(raw, dict):
            return False
        notification = raw.get("notification")
        return isinstance(notification, dict) and str(notification.get("event_type", "")).startswith("Object:")

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        at = "notification"
        note = r.dict(raw, at)
        event_type = r.str(note, "event_type", at=at)
        operation = OPERATIONS.get(event_type)
        if operation is None:
            raise r.error(f"{at}.event_type", f"is {event_type!r}, not one of {', '.join(OPERATIONS)}")
        bucket = r.opt_str(raw, "bucket") or r.str(note, "bucket_name", at=at)
        key = r.opt_str(raw, "key") or r.str(note, "object_name", at=at)
        size = r.opt_int(note, "object_length", at=at)
        if size is not None and size < 0:
            raise r.error(f"{at}.object_length", f"should not be negative, got {size}")
        return [
            StorageEvent(
                bucket=bucket,
                key=key,
                operation=operation,
                size=size,
                time=self._time(note, at),
                etag=r.opt_str(note, "object_etag", at=at),
                content_type=r.opt_str(note, "content_type", at=at),
                id=r.opt_str(note, "request_id", at=at),
                raw=raw,
            )
        ]

    def _time(self, note: dict[str, Any], at: str) -> datetime | None:
        """COS stamps ``request_time`` as ISO 8601 text; anything else is a malformed payload."""
        stamp = self.reader.opt_str(note, "request_time", at=at)
        return None if stamp is None else self.reader.convert(stamp, parse_time, f"{at}.request_time", "an ISO 8601 time")
