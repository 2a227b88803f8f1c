"""Object storage events: an object was created, deleted, archived or had its metadata changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from corefn._record import _set
from corefn.events.base import Event, format_time

StorageOperation = Literal["created", "deleted", "archived", "metadata_updated"]
STORAGE_OPERATIONS: tuple[StorageOperation, ...] = ("created", "deleted", "archived", "metadata_updated")


class StorageEvent(Event):
    """``bucket`` is the bucket / container name (the app's logical name once dispatched);
    ``key`` is the object's name, URL-decoded; ``size`` is bytes or ``None`` when not given.
    """

    __slots__ = ("bucket", "key", "operation", "size", "time", "etag", "content_type", "version")
    kind: ClassVar[str] = "storage"
    bucket: str
    key: str
    operation: StorageOperation
    size: int | None
    time: datetime | None
    etag: str | None
    content_type: str | None
    version: str | None

    def __init__(
        self,
        *,
        bucket: str,
        key: str,
        operation: StorageOperation,
        size: int | None = None,
        time: datetime | None = None,
        etag: str | None = None,
        content_type: str | None = None,
        version: str | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "bucket", bucket)
        _set(self, "key", key)
        _set(self, "operation", operation)
        _set(self, "size", size)
        _set(self, "time", time)
        _set(self, "etag", etag)
        _set(self, "content_type", content_type)
        _set(self, "version", version)
        _set(self, "id", id)
        _set(self, "raw", raw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "storage",
            "bucket": self.bucket,
            "key": self.key,
            "size": self.size,
            "operation": self.operation,
            "time": format_time(self.time),
        }
        for name in ("id", "etag", "content_type", "version"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
