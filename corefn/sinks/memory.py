"""``memory://NAME`` — an in-process cache: the local default for cache sinks.

Values live in this process only (like a module-level dict kept across warm invocations on a
cloud), so two processes of the local runtime do not share them: configure ``redis://`` when
they must. Backends opened with the same ``NAME`` in one process share one store. Expired values
are dropped when read, and swept every :data:`SWEEP_EVERY` writes so memory stays bounded by the
live entries. Semantics follow Redis, the production backend: ``set`` without ``ttl`` clears an
old TTL, ``incr`` keeps it and starts a missing key at 0, ``add`` sets only a missing (or
expired) key, values come back as bytes.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from corefn.errors import SinkError
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec

SWEEP_EVERY = 1000


class _Store:
    __slots__ = ("lock", "values", "writes")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, tuple[bytes, float | None]] = {}
        self.writes = 0


_stores: dict[str, _Store] = {}
_stores_lock = threading.Lock()


def _store(name: str) -> _Store:
    with _stores_lock:
        return _stores.setdefault(name, _Store())


class MemoryCache:
    """A :class:`~corefn.sinks.base.Cache` in a dict, guarded by a lock (``incr`` is atomic)."""

    families: ClassVar[tuple[str, ...]] = ("cache",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self._store = _store(url.partition("://")[2] or spec.name)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        return []

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    def _live(self, key: str, now: float) -> tuple[bytes, float | None] | None:
        entry = self._store.values.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= now:
            del self._store.values[key]
            return None
        return entry

    def get(self, key: str) -> bytes | None:
        with self._store.lock:
            entry = self._live(key, time.monotonic())
        return None if entry is None else entry[0]

    def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        data = value.encode() if isinstance(value, str) else bytes(value)
        now = time.monotonic()
        with self._store.lock:
            self._store.values[key] = (data, None if ttl is None else now + ttl)
            self._count_write(now)

    def add(self, key: str, value: bytes | str, ttl: float | None = None) -> bool:
        data = value.encode() if isinstance(value, str) else bytes(value)
        now = time.monotonic()
        with self._store.lock:
            if self._live(key, now) is not None:
                return False
            self._store.values[key] = (data, None if ttl is None else now + ttl)
            self._count_write(now)
        return True

    def delete(self, key: str) -> None:
        with self._store.lock:
            self._store.values.pop(key, None)

    def incr(self, key: str, amount: int = 1) -> int:
        now = time.monotonic()
        with self._store.lock:
            entry = self._live(key, now)
            current, expires = entry if entry is not None else (b"0", None)
            try:
                value = int(current) + amount
            except ValueError:
                raise SinkError(self.name, f"value of {key!r} is not an integer") from None
            self._store.values[key] = (str(value).encode(), expires)
            self._count_write(now)
        return value

    def _count_write(self, now: float) -> None:
        store = self._store
        store.writes += 1
        if store.writes % SWEEP_EVERY == 0:
            for key in [k for k, (_, exp) in store.values.items() if exp is not None and exp <= now]:
                del store.values[key]

    def clear(self) -> None:
        with self._store.lock:
            self._store.values.clear()


def open_backend(spec: SinkSpec, url: str) -> MemoryCache:
    return MemoryCache(spec, url)
