"""The portable sink interfaces, and what a backend must declare.

Handler code is written against these protocols only; which service implements them is
configuration (see :mod:`corefn.sinks`). Every method raises from the
:class:`~corefn.errors.SinkError` family, never a provider's own exception, so a handler catches
one thing on every cloud.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int | None = None
    etag: str | None = None
    content_type: str | None = None
    modified: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Permission:
    """One least-privilege grant a backend needs: provider actions on one resource.

    ``cloud`` is the provider whose IAM understands ``actions`` (``aws``: ``s3:GetObject``;
    ``azure``: a role name; ``gcp``: a role; ``openwhisk``: a service credential role);
    ``resource`` is the physical resource (bucket, table, queue) or a pattern of it.
    """

    cloud: str
    actions: tuple[str, ...]
    resource: str


@runtime_checkable
class ObjectStore(Protocol):
    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream, for objects too large to hold in memory."""
        ...
    def put(
        self,
        key: str,
        data: bytes | IO[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Write ``data`` (bytes, or a binary stream uploaded without being held in memory).
        Metadata names are identifiers and values printable ASCII, 2 KB in all — the rule every
        provider accepts; anything else is a ConfigurationError on every backend, locally too."""
        ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def info(self, key: str) -> ObjectInfo: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Lazily paginated, in key order where the service orders keys."""
        ...
    def url(self, key: str, *, expires: int = 3600, method: str = "GET") -> str:
        """A presigned / SAS / signed URL (or ``file://`` locally)."""
        ...


@runtime_checkable
class Table(Protocol):
    """Items are plain JSON objects holding their own key attribute(s)."""

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None: ...
    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        """Write ``item``. ``if_absent`` or ``if_version`` make it conditional (optimistic
        concurrency); a lost race raises SinkConflictError."""
        ...
    def delete(self, key: Any, sort: Any = None) -> None: ...
    def query(self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Items with partition key ``key``; ``sort_op`` is one of ``= < <= > >= begins_with``."""
        ...


@runtime_checkable
class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None: ...
    def add(self, key: str, value: bytes | str, ttl: float | None = None) -> bool:
        """Set ``key`` only if it holds no live value, atomically (Redis ``SET NX``); True if this
        call set it. What a lock or an idempotency record needs: of two concurrent callers, one wins."""
        ...
    def delete(self, key: str) -> None: ...
    def incr(self, key: str, amount: int = 1) -> int: ...


@runtime_checkable
class Sql(Protocol):
    @property
    def engine(self) -> Any:
        """A SQLAlchemy Engine with a pool sized for functions."""
        ...
    def connect(self) -> Any: ...


@runtime_checkable
class Publisher(Protocol):
    def send(self, body: bytes | str | Mapping[str, Any] | list[Any], attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        """Publish one message (dicts and lists are sent as JSON); returns the message id."""
        ...
    def send_batch(self, bodies: Iterable[bytes | str | Mapping[str, Any]], attributes: Mapping[str, str] | None = None) -> list[str]: ...


class Backend(Protocol):
    """What a backend factory registered under ``corefn.sinks`` returns: any object that
    implements the sink protocol of its family, plus these two class-level facts."""

    #: the sink families this backend serves ("object", "table", "cache", "sql", "publisher")
    families: tuple[str, ...]

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """The grants this backend needs for a sink at ``url`` (for least-privilege deploys)."""
        ...
