"""``redis://`` and ``rediss://`` (TLS) — a cache on any Redis: ElastiCache, Azure Cache for
Redis, Memorystore, IBM Cloud Databases for Redis, or a local ``redis-server``. One backend for
all four clouds, since they all speak the Redis protocol.

URL: redis-py's form, ``redis[s]://[[user]:password@]host[:port][/db][?option=value]``
(e.g. ``rediss://:KEY@name.redis.cache.windows.net:6380/0``). Query options are redis-py's own
(``socket_timeout=2``, ``ssl_cert_reqs=none`` ...).

Keys are namespaced per sink, ``<sink name>:<key>``, so several sinks (and apps) can share one
managed instance without clobbering each other; set the sink option ``prefix`` (``""`` for none)
to read keys another program writes.

Connections: one redis-py pool per backend (so per process), created on first use, at most
``max_connections`` (option, default 8) sockets: a function instance serves one or a few
invocations at a time, and managed Redis tiers cap clients (Azure C0: 256) across all
instances. Sockets time out after 5 s so a hung network fails the invocation fast (as
SinkUnavailableError) instead of eating its whole timeout.

Private network: ElastiCache and Memorystore are reachable only from inside their VPC (a Lambda
needs VPC config, a Cloud Function a Serverless VPC Access connector); Azure Cache for Redis and
IBM Databases for Redis have public TLS endpoints. :meth:`RedisCache.needs_private_network` tells
them apart by host name.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any, ClassVar
from urllib.parse import urlsplit

from corefn.errors import MissingExtraError, SinkError, SinkThrottledError, SinkUnavailableError
from corefn.sinks._errors import ErrorClass, family_by_type, wrap
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec

#: redis-py exceptions → SinkError family (by qualified name: building this imports no redis)
REDIS_ERRORS: dict[str, ErrorClass] = {
    "redis.exceptions.BusyLoadingError": SinkThrottledError,
    "redis.exceptions.MaxConnectionsError": SinkThrottledError,
    "redis.exceptions.ConnectionError": SinkUnavailableError,
    "redis.exceptions.TimeoutError": SinkUnavailableError,
    "redis.exceptions.ReadOnlyError": SinkUnavailableError,
    "redis.exceptions.RedisError": SinkError,
}

#: host name endings of managed Redis services that live only inside a private network
PRIVATE_HOST_SUFFIXES = (".cache.amazonaws.com", ".cache.amazonaws.com.cn")

DEFAULT_MAX_CONNECTIONS = 8
SOCKET_TIMEOUT = 5.0


class RedisCache:
    """A :class:`~corefn.sinks.base.Cache` on Redis (``INCRBY`` makes ``incr`` atomic)."""

    families: ClassVar[tuple[str, ...]] = ("cache",)
    #: conservative class-level answer; :meth:`needs_private_network` answers per URL
    private_network: ClassVar[bool] = True

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.url = url
        prefix = spec.options.get("prefix")
        self.prefix = f"{spec.name}:" if prefix is None else str(prefix)
        self.max_connections = int(spec.options.get("max_connections") or DEFAULT_MAX_CONNECTIONS)
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """Redis authorises by password / ACL user, not cloud IAM: the grant names the commands
        the backend runs (an ACL a deployer can turn into ``ACL SETUSER ... +get +set ...``)."""
        parts = urlsplit(url)
        return [Permission("redis", ("get", "set", "del", "incrby"), f"{parts.hostname}:{parts.port or 6379}")]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if host.endswith(PRIVATE_HOST_SUFFIXES):
            return True
        try:  # Memorystore hands out private IPs only
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_private and not address.is_loopback

    @property
    def client(self) -> Any:
        """The redis-py client, created (and redis imported) on first use, then reused."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    try:
                        import redis
                    except ImportError:
                        raise MissingExtraError("redis", "redis") from None
                    self._client = redis.Redis.from_url(
                        self.url,
                        max_connections=self.max_connections,
                        socket_timeout=SOCKET_TIMEOUT,
                        socket_connect_timeout=SOCKET_TIMEOUT,
                        health_check_interval=30,
                    )
                client = self._client
        return client

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as exc:
            family = family_by_type(exc, REDIS_ERRORS)
            if family is None:
                raise
            raise wrap(self.name, exc, family) from exc

    def get(self, key: str) -> bytes | None:
        value = self._call("get", self.prefix + key)
        return None if value is None else bytes(value)

    def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        px = None if ttl is None else max(1, round(ttl * 1000))
        self._call("set", self.prefix + key, value, px=px)

    def add(self, key: str, value: bytes | str, ttl: float | None = None) -> bool:
        """``SET key value NX PX ttl``: one atomic command, so of two racing callers exactly one
        gets True (redis.io/commands/set: "NX -- Only set the key if it does not already exist")."""
        px = None if ttl is None else max(1, round(ttl * 1000))
        return bool(self._call("set", self.prefix + key, value, px=px, nx=True))

    def delete(self, key: str) -> None:
        self._call("delete", self.prefix + key)

    def incr(self, key: str, amount: int = 1) -> int:
        return int(self._call("incrby", self.prefix + key, amount))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def open_backend(spec: SinkSpec, url: str) -> RedisCache:
    return RedisCache(spec, url)
