"""Object storage events: an object was created, deleted, archived or had its metadata changed."""

from __future__ import annotations

from datetime import datetime

from corefn._aliases import alias, missing
from corefn._record import _set
from corefn.events.base import Event, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Literal

    StorageOperation = Literal["created", "deleted", "archived", "metadata_updated"]

STORAGE_OPERATIONS: tuple[StorageOperation, ...] = ("created", "deleted", "archived", "metadata_updated")


class StorageEvent(Event):
    """``bucket`` is the bucket / container name (the app's logical name once dispatched);
    ``key`` is the object's name, URL-decoded; ``size`` is bytes or ``None`` when not given.

    ``sequencer`` is S3's per-key ordering token (``s3.object.sequencer``): S3 notifications carry
    no event id, and "S3 event notifications ... might be delivered more than once; the sequencer
    key orders events for the same object" (docs.aws.amazon.com/AmazonS3/latest/userguide/
    notification-content-structure.html). It is hidden (not in the JSON form, equality or repr):
    only :attr:`identity` reads it.
    """

    __slots__ = ("bucket", "key", "operation", "size", "time", "etag", "content_type", "version", "sequencer")
    _hidden: ClassVar[frozenset[str]] = frozenset({"raw", "sequencer"})
    kind: ClassVar[str] = "storage"
    bucket: str
    key: str
    operation: StorageOperation
    size: int | None
    time: datetime | None
    etag: str | None
    content_type: str | None
    version: str | None
    sequencer: str | None

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
        sequencer: str | None = None,
    ) -> None:
        _set(self, "bucket", bucket)
        _set(self, "key", key)
        _set(self, "operation", operation)
        _set(self, "size", size)
        _set(self, "time", time)
        _set(self, "etag", etag)
        _set(self, "content_type", content_type)
        _set(self, "version", version)
        _set(self, "sequencer", sequencer)
        _set(self, "id", id)
        _set(self, "raw", raw)

    @property
    def identity(self) -> str | None:
        """The provider's event id, else the object and operation with the S3 sequencer, else
        with the version / ETag and time (an identical re-upload at another time is a new event)."""
        if self.id is not None:
            return self.id
        marks = [self.sequencer] if self.sequencer else [m for m in (self.version, self.etag, format_time(self.time)) if m]
        if not marks:
            return None
        return f"{self.bucket}/{self.key}:{self.operation}:" + ":".join(marks)

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


def __getattr__(name: str) -> Any:
    """``StorageOperation`` at run time (see :mod:`corefn._aliases`)."""
    if name == "StorageOperation":
        return alias(globals(), name, STORAGE_OPERATIONS)
    raise missing(__name__, name)
