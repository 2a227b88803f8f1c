"""Object storage events: an object was created, deleted, archived or had its metadata changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from corefn.events.base import Event, format_time

StorageOperation = Literal["created", "deleted", "archived", "metadata_updated"]
STORAGE_OPERATIONS: tuple[StorageOperation, ...] = ("created", "deleted", "archived", "metadata_updated")


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageEvent(Event):
    """``bucket`` is the bucket / container name (the app's logical name once dispatched);
    ``key`` is the object's name, URL-decoded; ``size`` is bytes or ``None`` when not given.
    """

    kind: ClassVar[str] = "storage"
    bucket: str
    key: str
    operation: StorageOperation
    size: int | None = None
    time: datetime | None = None
    etag: str | None = None
    content_type: str | None = None
    version: str | None = None

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
