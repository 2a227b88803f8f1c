"""The in-process and Redis caches against the cache contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from corefn.errors import SinkUnavailableError
from corefn.sinks.memory import MemoryCache
from corefn.sinks.memory import open_backend as open_memory
from corefn.sinks.rediscache import RedisCache
from corefn.sinks.rediscache import open_backend as open_redis
from tests.fixtures.emulators import RedisServer, free_port
from tests.sinks.contract import CacheContract, make_spec, unique


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def cache(self) -> MemoryCache:
        return open_memory(make_spec("cache", "sessions"), f"memory://{unique()}")


class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_server: RedisServer) -> Iterator[RedisCache]:
        backend = open_redis(make_spec("cache", unique("sessions")), redis_server.url)
        yield backend
        backend.close()


def test_memory_caches_with_one_name_share_values() -> None:
    name = unique()
    one = open_memory(make_spec("cache", "a"), f"memory://{name}")
    two = open_memory(make_spec("cache", "b"), f"memory://{name}")
    one.set("k", b"v")
    assert two.get("k") == b"v"
    assert open_memory(make_spec("cache", "c"), f"memory://{unique()}").get("k") is None


def test_redis_keys_are_namespaced_per_sink(redis_server: RedisServer) -> None:
    import redis

    sessions = open_redis(make_spec("cache", "sessions"), redis_server.url)
    raw = open_redis(make_spec("cache", "raw", prefix=""), redis_server.url)
    sessions.set("user-1", b"alice")
    assert raw.get("sessions:user-1") == b"alice"
    assert redis.Redis.from_url(redis_server.url).get("sessions:user-1") == b"alice"
    sessions.delete("user-1")


def test_redis_client_is_created_once(redis_server: RedisServer) -> None:
    cache = open_redis(make_spec("cache", unique()), redis_server.url)
    cache.set("a", b"1")
    client = cache.client
    cache.get("a")
    assert cache.client is client


def test_redis_unreachable_is_unavailable() -> None:
    cache = open_redis(make_spec("cache", "down"), f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(SinkUnavailableError) as caught:
        cache.get("x")
    assert caught.value.cause is not None and type(caught.value.cause).__module__ == "redis.exceptions"


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("rediss://my-cache.abc123.ng.0001.use1.cache.amazonaws.com:6379", True),
        ("redis://10.0.0.3:6379/0", True),  # Memorystore: private IP only
        ("rediss://:key@corefn.redis.cache.windows.net:6380/0", False),
        ("rediss://admin:pw@abc.databases.appdomain.cloud:31234/0", False),
        ("redis://127.0.0.1:6379/0", False),
    ],
)
def test_private_network_per_url(url: str, private: bool) -> None:
    assert RedisCache.needs_private_network(url) is private
    assert MemoryCache.needs_private_network("memory://x") is False
