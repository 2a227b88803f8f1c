"""Reusable contract suites, one per sink kind: what every backend must do, whatever the cloud.

A backend's test module subclasses the contract of its kind and provides the fixture(s) it asks
for; every ``test_*`` method then runs against that backend::

    class TestS3(ObjectStoreContract):
        @pytest.fixture
        def store(self, aws_env) -> ObjectStore: ...         # a fresh, empty bucket

Fixtures each contract needs (function scope: every test gets a fresh, empty resource):

=====================  ================================================================================
``ObjectStoreContract``  ``store``: an empty ObjectStore. Open it with a small page size
                         (``SinkSpec("object", name, {"page_size": 3})``) where the backend honours one,
                         so :meth:`test_list_paginates` crosses page boundaries.
``TableContract``        ``make_table``: a factory ``(key: str, sort_key: str | None) -> Table`` giving a
                         fresh, empty table whose partition (and sort) key attributes have those names,
                         both string-typed (DynamoDB: create the table with that key schema).
``CacheContract``        ``cache``: an empty Cache.
``SqlContract``          ``sql``: a Sql backend (tests create uniquely named tables and drop them).
``PublisherContract``    ``publisher``: a Publisher, and ``receive``: a callable
                         ``(count, timeout=...) -> list[Received]`` reading back from the real service
                         whatever the publisher sent (SNS: an SQS queue subscribed with raw delivery).
=====================  ================================================================================

Class attributes tune a contract to what a service can do (say why when you change one):
``ObjectStoreContract.stream_size`` / ``stream_peak_limit`` / ``supports_url_fetch``,
``PublisherContract.supports_attributes`` / ``ordered``, ``CacheContract.ttl_slack``.
Override :meth:`ObjectStoreContract.fetch` when a URL needs something urllib lacks.

The API of this module (class names, fixture names, ``Received``, ``GeneratedStream``,
``strip_version``, ``make_spec``) is stable: other backends' tests subclass it.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast

import pytest

from corefn.errors import ConfigurationError, SinkConflictError, SinkError, SinkNotFoundError
from corefn.sinks.base import Cache, ObjectInfo, ObjectStore, Publisher, Sql, Table
from corefn.specs import SinkFamily, SinkSpec

MiB = 1024 * 1024


def make_spec(family: SinkFamily, name: str = "contract", **options: Any) -> SinkSpec:
    """A sink declaration as ``app.object_store(name, **options)`` would make it."""
    return SinkSpec(family, name, dict(options))


def unique(prefix: str = "t") -> str:
    """A short name no other test uses (buckets, tables and queues accept it on every cloud)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def strip_version(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An item without corefn's ``_version`` token, for comparing with what was written."""
    if item is None:
        return None
    return {k: v for k, v in item.items() if k != "_version"}


class GeneratedStream(io.RawIOBase):
    """A readable binary stream of ``size`` deterministic bytes that never exists in memory as a
    whole: each 1 MiB block is built when read (its first 8 bytes are its index, so a reordered or
    repeated block changes the digest). ``digest`` is the SHA-256 of the full content."""

    BLOCK = MiB

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.position = 0
        self._pattern = bytes(range(256)) * (self.BLOCK // 256)

    def readable(self) -> bool:
        return True

    def _block(self, index: int) -> bytes:
        return index.to_bytes(8, "big") + self._pattern[8:]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self.size - self.position)
        done = 0
        while done < want:
            index, offset = divmod(self.position, self.BLOCK)
            piece = self._block(index)[offset : offset + want - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self.position += len(piece)
        return done

    @classmethod
    def expected_digest(cls, size: int) -> str:
        digest = hashlib.sha256()
        source = cls(size)
        while chunk := source.read(cls.BLOCK):
            digest.update(chunk)
        return digest.hexdigest()


def digest_of(stream: Any, chunk: int = MiB) -> tuple[str, int]:
    """SHA-256 and length of a readable stream, read in chunks."""
    digest, total = hashlib.sha256(), 0
    while data := stream.read(chunk):
        digest.update(data)
        total += len(data)
    return digest.hexdigest(), total


# =============================================================================== object stores


class ObjectStoreContract:
    #: bytes pushed through put/open in the streaming test
    stream_size: int = 16 * MiB
    #: when set, tracemalloc's peak during the streaming put and read must stay below it
    stream_peak_limit: int | None = None
    #: whether ``url()`` gives something a plain HTTP/file client can read here
    supports_url_fetch: bool = True
    #: objects created by the pagination test (more than 3 pages at page_size=3)
    list_objects: int = 11

    def fetch(self, url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=10) as response:
            return bytes(response.read())

    def test_is_an_object_store(self, store: ObjectStore) -> None:
        assert isinstance(store, ObjectStore)

    def test_put_get_roundtrip(self, store: ObjectStore) -> None:
        info = store.put("hello.txt", b"hello world")
        assert isinstance(info, ObjectInfo)
        assert info.key == "hello.txt"
        assert store.get("hello.txt") == b"hello world"
        assert store.info("hello.txt").size == 11

    def test_empty_object(self, store: ObjectStore) -> None:
        store.put("empty", b"")
        assert store.get("empty") == b""
        assert store.info("empty").size == 0

    def test_keys_with_slashes_spaces_and_unicode(self, store: ObjectStore) -> None:
        key = "photos/2024/été à la plage+1 (2).jpg"
        store.put(key, b"\xff\xd8binary\x00")
        assert store.get(key) == b"\xff\xd8binary\x00"
        assert [o.key for o in store.list("photos/")] == [key]

    def test_missing_raises_not_found(self, store: ObjectStore) -> None:
        with pytest.raises(SinkNotFoundError) as caught:
            store.get("nope")
        assert isinstance(caught.value, LookupError)
        with pytest.raises(SinkNotFoundError):
            store.open("nope")
        with pytest.raises(SinkNotFoundError):
            store.info("nope")

    def test_overwrite_replaces_content(self, store: ObjectStore) -> None:
        store.put("k", b"first version, longer")
        store.put("k", b"second")
        assert store.get("k") == b"second"
        assert store.info("k").size == 6

    def test_content_type_and_metadata(self, store: ObjectStore) -> None:
        store.put("a.json", b"{}", content_type="application/json", metadata={"owner": "alice", "n": "1"})
        info = store.info("a.json")
        assert info.content_type == "application/json"
        assert dict(info.metadata) == {"owner": "alice", "n": "1"}
        assert info.size == 2
        assert info.modified is not None and info.modified.tzinfo is not None

    @pytest.mark.parametrize(
        "metadata",
        [{"source-key": "x"}, {"1st": "x"}, {"owner": "Zoë"}, {"note": "line\nbreak"}, {"big": "x" * 2100}],
    )
    def test_metadata_every_provider_accepts_or_a_clear_error(self, store: ObjectStore, metadata: dict[str, str]) -> None:
        """Identifier names, printable ASCII values, 2 KB: the intersection of S3's and Azure's
        rules, enforced everywhere so a local run refuses what a cloud would."""
        with pytest.raises(ConfigurationError, match="metadata"):
            store.put("meta-bad", b"x", metadata=metadata)
        assert not store.exists("meta-bad")

    def test_overwrite_replaces_metadata(self, store: ObjectStore) -> None:
        store.put("m", b"1", content_type="text/plain", metadata={"a": "1"})
        store.put("m", b"2")
        assert dict(store.info("m").metadata) == {}

    def test_put_file_like(self, store: ObjectStore) -> None:
        store.put("f.bin", io.BytesIO(b"from a file object"), content_type="application/octet-stream")
        assert store.get("f.bin") == b"from a file object"

    def test_open_reads_in_chunks(self, store: ObjectStore) -> None:
        store.put("c", b"0123456789" * 100)
        with store.open("c") as stream:
            assert stream.read(10) == b"0123456789"
            rest = stream.read()
        assert len(rest) == 990

    def test_list_prefix_in_key_order(self, store: ObjectStore) -> None:
        for key in ("b/2", "a/1", "b/1", "b/10", "c"):
            store.put(key, key.encode())
        listed = store.list("b/")
        assert iter(listed) is listed  # lazy: an iterator, not a materialised list
        infos = list(listed)
        assert [o.key for o in infos] == ["b/1", "b/10", "b/2"]
        assert [o.size for o in infos] == [3, 4, 3]
        assert [o.key for o in store.list()] == ["a/1", "b/1", "b/10", "b/2", "c"]
        assert list(store.list("zzz")) == []

    def test_list_paginates(self, store: ObjectStore) -> None:
        keys = [f"p/{i:03d}" for i in range(self.list_objects)]
        for key in keys:
            store.put(key, b"x")
        assert [o.key for o in store.list("p/")] == keys

    def test_exists_and_delete_are_idempotent(self, store: ObjectStore) -> None:
        assert store.exists("d") is False
        store.put("d", b"1")
        assert store.exists("d") is True
        store.delete("d")
        assert store.exists("d") is False
        store.delete("d")  # deleting what is gone is not an error (S3's rule, applied everywhere)
        with pytest.raises(SinkNotFoundError):
            store.get("d")

    def test_streaming_put_and_open(self, store: ObjectStore) -> None:
        size = self.stream_size
        expected = GeneratedStream.expected_digest(size)
        tracemalloc.start()
        try:
            info = store.put("big.bin", cast(IO[bytes], GeneratedStream(size)), content_type="application/octet-stream")
            with store.open("big.bin") as stream:
                digest, length = digest_of(stream)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (digest, length) == (expected, size)
        assert info.size in (None, size)
        assert store.info("big.bin").size == size
        if self.stream_peak_limit is not None:
            assert peak < self.stream_peak_limit, f"peak {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB object"

    def test_url_is_fetchable(self, store: ObjectStore) -> None:
        store.put("u/hello world.txt", b"via url", content_type="text/plain")
        url = store.url("u/hello world.txt", expires=300)
        assert isinstance(url, str) and "://" in url
        if self.supports_url_fetch:
            assert self.fetch(url) == b"via url"


# ===================================================================================== tables


class TableContract:
    @pytest.fixture
    def table(self, make_table: Callable[[str, str | None], Table]) -> Table:
        """Partition key ``pk`` and sort key ``sk``."""
        return make_table("pk", "sk")

    @pytest.fixture
    def kv_table(self, make_table: Callable[[str, str | None], Table]) -> Table:
        """Partition key ``id`` only."""
        return make_table("id", None)

    def test_is_a_table(self, kv_table: Table) -> None:
        assert isinstance(kv_table, Table)

    def test_put_get_roundtrip_plain_json(self, kv_table: Table) -> None:
        item = {
            "id": "dev-1",
            "name": "sensor",
            "count": 3,
            "ratio": 1.5,
            "on": True,
            "off": False,
            "none": None,
            "tags": ["a", "b"],
            "nested": {"x": 1, "y": [1.25, "z"], "deep": {"k": "v"}},
            "empty": "",
        }
        stored = kv_table.put(item)
        assert strip_version(stored) == item
        got = kv_table.get("dev-1")
        assert strip_version(got) == item
        assert got is not None and type(got["count"]) is int and type(got["ratio"]) is float

    def test_missing_item_is_none(self, kv_table: Table) -> None:
        assert kv_table.get("ghost") is None

    def test_overwrite_replaces_item(self, kv_table: Table) -> None:
        kv_table.put({"id": "a", "x": 1, "gone": True})
        kv_table.put({"id": "a", "x": 2})
        assert strip_version(kv_table.get("a")) == {"id": "a", "x": 2}

    def test_item_without_key_is_rejected(self, kv_table: Table) -> None:
        with pytest.raises(ConfigurationError):
            kv_table.put({"name": "no id"})

    def test_sort_value_without_a_sort_key_is_refused(self, kv_table: Table) -> None:
        """A stray sort value is a mistake on every backend (the local SQLite table refuses it),
        not silently dropped so that ("a", "x") reads item "a" on some clouds."""
        kv_table.put({"id": "a"})
        with pytest.raises(ConfigurationError):
            kv_table.get("a", "x")
        with pytest.raises(ConfigurationError):
            kv_table.delete("a", "x")
        assert kv_table.get("a") is not None

    def test_delete_is_idempotent(self, kv_table: Table) -> None:
        kv_table.put({"id": "d"})
        kv_table.delete("d")
        assert kv_table.get("d") is None
        kv_table.delete("d")

    def test_sort_key_addresses_items(self, table: Table) -> None:
        table.put({"pk": "p", "sk": "1", "v": "one"})
        table.put({"pk": "p", "sk": "2", "v": "two"})
        got = table.get("p", "2")
        assert got is not None and got["v"] == "two"
        assert table.get("p", "3") is None
        table.delete("p", "1")
        assert table.get("p", "1") is None
        assert table.get("p", "2") is not None

    def test_if_absent(self, kv_table: Table) -> None:
        kv_table.put({"id": "once", "n": 1}, if_absent=True)
        with pytest.raises(SinkConflictError) as caught:
            kv_table.put({"id": "once", "n": 2}, if_absent=True)
        assert isinstance(caught.value, SinkError)
        assert strip_version(kv_table.get("once")) == {"id": "once", "n": 1}

    def test_if_version_optimistic_concurrency(self, kv_table: Table) -> None:
        first = kv_table.put({"id": "c", "n": 1})
        assert "_version" in first
        read = kv_table.get("c")
        assert read is not None and read["_version"] == first["_version"]
        second = kv_table.put({"id": "c", "n": 2}, if_version=read["_version"])
        assert second["_version"] != first["_version"]
        with pytest.raises(SinkConflictError):  # a writer holding the old version loses
            kv_table.put({"id": "c", "n": 3}, if_version=read["_version"])
        assert strip_version(kv_table.get("c")) == {"id": "c", "n": 2}
        with pytest.raises(SinkConflictError):  # no item, so no version matches
            kv_table.put({"id": "new", "n": 1}, if_version=first["_version"])

    def test_version_in_input_is_ignored(self, kv_table: Table) -> None:
        stored = kv_table.put({"id": "v", "_version": "forged"})
        assert stored["_version"] != "forged"
        kv_table.put({"id": "v", "n": 1}, if_version=stored["_version"])

    def test_query_returns_partition_in_sort_order(self, table: Table) -> None:
        for sk in ("b", "a", "d", "c"):
            table.put({"pk": "p1", "sk": sk})
        table.put({"pk": "p2", "sk": "a"})
        assert [i["sk"] for i in table.query("p1")] == ["a", "b", "c", "d"]
        assert list(table.query("nobody")) == []
        assert [i["sk"] for i in table.query("p1", limit=2)] == ["a", "b"]

    @pytest.mark.parametrize(
        ("op", "value", "expected"),
        [
            ("=", "2024-02", ["2024-02"]),
            ("<", "2024-02", ["2024-01"]),
            ("<=", "2024-02", ["2024-01", "2024-02"]),
            (">", "2024-02", ["2024-03", "2025-01"]),
            (">=", "2024-03", ["2024-03", "2025-01"]),
            ("begins_with", "2024-", ["2024-01", "2024-02", "2024-03"]),
        ],
    )
    def test_query_sort_operators(self, table: Table, op: str, value: str, expected: list[str]) -> None:
        for sk in ("2025-01", "2024-03", "2024-01", "2024-02"):
            table.put({"pk": "dev", "sk": sk, "reading": sk})
        got = list(table.query("dev", sort_op=op, sort_value=value))
        assert [i["sk"] for i in got] == expected
        assert all(i["reading"] == i["sk"] for i in got)

    def test_query_rejects_unknown_operator(self, table: Table) -> None:
        with pytest.raises(ConfigurationError):
            list(table.query("dev", sort_op="~", sort_value="x"))


# ===================================================================================== caches


class CacheContract:
    #: seconds of tolerance when waiting for a TTL to expire
    ttl_slack: float = 3.0

    def test_is_a_cache(self, cache: Cache) -> None:
        assert isinstance(cache, Cache)

    def test_set_get_delete(self, cache: Cache) -> None:
        key = unique("k")
        assert cache.get(key) is None
        cache.set(key, b"\x00bytes\xff")
        assert cache.get(key) == b"\x00bytes\xff"
        cache.set(key, "text é")
        assert cache.get(key) == "text é".encode()
        cache.delete(key)
        assert cache.get(key) is None
        cache.delete(key)  # idempotent

    def test_ttl_expires(self, cache: Cache) -> None:
        key, keep = unique("ttl"), unique("keep")
        cache.set(key, b"soon gone", ttl=1)
        cache.set(keep, b"stays")
        assert cache.get(key) == b"soon gone"
        deadline = time.monotonic() + 1 + self.ttl_slack
        while cache.get(key) is not None:
            assert time.monotonic() < deadline, "value outlived its TTL"
            time.sleep(0.1)
        assert cache.get(keep) == b"stays"

    def test_set_without_ttl_clears_an_old_ttl(self, cache: Cache) -> None:
        key = unique("k")
        cache.set(key, b"1", ttl=1)
        cache.set(key, b"2")
        time.sleep(1.3)
        assert cache.get(key) == b"2"

    def test_incr(self, cache: Cache) -> None:
        key = unique("n")
        assert cache.incr(key) == 1
        assert cache.incr(key, 5) == 6
        assert cache.incr(key, -2) == 4
        assert cache.get(key) == b"4"

    def test_incr_is_atomic_across_threads(self, cache: Cache) -> None:
        key = unique("n")
        threads, per_thread = 8, 50
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(per_thread):
                    cache.incr(key)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        assert cache.get(key) == str(threads * per_thread).encode()

    def test_add_sets_only_a_missing_key(self, cache: Cache) -> None:
        key = unique("add")
        assert cache.add(key, b"first", ttl=60) is True
        assert cache.add(key, b"second", ttl=60) is False
        assert cache.get(key) == b"first"
        cache.delete(key)
        assert cache.add(key, "again") is True
        assert cache.get(key) == b"again"

    def test_add_after_expiry_succeeds(self, cache: Cache) -> None:
        key = unique("add")
        assert cache.add(key, b"short", ttl=0.5)
        deadline = time.monotonic() + 0.5 + self.ttl_slack
        while not cache.add(key, b"next", ttl=60):
            assert time.monotonic() < deadline, "an expired value still blocked add"
            time.sleep(0.1)
        assert cache.get(key) == b"next"

    def test_add_is_atomic_across_threads(self, cache: Cache) -> None:
        key = unique("add")
        wins: list[int] = []
        start = threading.Barrier(8)

        def work(n: int) -> None:
            start.wait()
            if cache.add(key, str(n), ttl=60):
                wins.append(n)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(wins) == 1
        assert cache.get(key) == str(wins[0]).encode()

    def test_incr_of_non_integer_is_a_sink_error(self, cache: Cache) -> None:
        key = unique("s")
        cache.set(key, b"not a number")
        with pytest.raises(SinkError):
            cache.incr(key)


# ======================================================================================== SQL


class SqlContract:
    def test_is_sql(self, sql: Sql) -> None:
        assert isinstance(sql, Sql)

    def test_engine_is_created_once(self, sql: Sql) -> None:
        assert sql.engine is sql.engine

    def test_roundtrip_through_connect(self, sql: Sql) -> None:
        from sqlalchemy import text

        name = unique("t").replace("-", "_")
        with sql.connect() as conn:
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, label VARCHAR(50))"))
            conn.execute(text(f"INSERT INTO {name} (id, label) VALUES (:id, :label)"), [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}])
            conn.commit()
        try:
            with sql.connect() as conn:
                rows = conn.execute(text(f"SELECT id, label FROM {name} ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
        finally:
            with sql.engine.begin() as conn:
                conn.execute(text(f"DROP TABLE {name}"))

    def test_failed_transaction_rolls_back(self, sql: Sql) -> None:
        from sqlalchemy import text

        name = unique("t").replace("-", "_")
        with sql.engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)"))
        try:
            with pytest.raises(RuntimeError), sql.engine.begin() as conn:
                conn.execute(text(f"INSERT INTO {name} (id) VALUES (1)"))
                raise RuntimeError("handler failed mid-transaction")
            with sql.connect() as conn:
                assert conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one() == 0
        finally:
            with sql.engine.begin() as conn:
                conn.execute(text(f"DROP TABLE {name}"))

    def test_connections_from_threads(self, sql: Sql) -> None:
        from sqlalchemy import text

        results: list[int] = []
        lock = threading.Lock()

        def work() -> None:
            with sql.connect() as conn:
                value = conn.execute(text("SELECT 1")).scalar_one()
            with lock:
                results.append(int(value))

        workers = [threading.Thread(target=work) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert results == [1] * 6


# ================================================================================= publishers


@dataclass(frozen=True, slots=True)
class Received:
    """One message read back from the service a publisher wrote to."""

    body: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    group: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


Receive = Callable[..., list[Received]]


class PublisherContract:
    #: whether the service carries per-message attributes (Kinesis records do not)
    supports_attributes: bool = True
    #: whether messages sent with one ``group`` come back in order (FIFO queues, streams)
    ordered: bool = False
    #: seconds ``receive`` may wait for messages
    receive_timeout: float = 15.0

    def test_is_a_publisher(self, publisher: Publisher) -> None:
        assert isinstance(publisher, Publisher)

    def test_send_bytes_text_and_json(self, publisher: Publisher, receive: Receive) -> None:
        ids = [
            publisher.send(b"raw bytes"),
            publisher.send("texte é"),
            publisher.send({"order": 42, "items": ["a"]}),
            publisher.send([1, 2, 3]),
        ]
        assert all(isinstance(i, str) and i for i in ids)
        assert len(set(ids)) == 4
        bodies = [m.body for m in receive(4, timeout=self.receive_timeout)]
        assert sorted(bodies) == sorted([b"raw bytes", "texte é".encode(), b'{"order":42,"items":["a"]}', b"[1,2,3]"])

    def test_attributes_arrive(self, publisher: Publisher, receive: Receive) -> None:
        if not self.supports_attributes:
            with pytest.raises(ConfigurationError):
                publisher.send(b"x", {"kind": "test"})
            return
        publisher.send(b"with attributes", {"kind": "test", "trace": "abc-123"})
        (message,) = receive(1, timeout=self.receive_timeout)
        assert message.body == b"with attributes"
        assert {k: message.attributes[k] for k in ("kind", "trace")} == {"kind": "test", "trace": "abc-123"}

    @pytest.mark.parametrize("body", [42, None, {"a", "set"}], ids=["int", "none", "set"])
    def test_body_of_another_type_is_refused(self, publisher: Publisher, body: Any) -> None:
        """Bodies are bytes, text, dicts or lists on every cloud: anything else is refused before
        sending, not sent as whatever JSON it happens to make (``42``, ``null``) on some clouds."""
        with pytest.raises(ConfigurationError):
            publisher.send(body)

    def test_attribute_values_are_strings(self, publisher: Publisher) -> None:
        """Attributes map str to str everywhere (the local runtime refuses anything else too), so
        code that passes a number fails on the laptop, not only on the one cloud that refuses it."""
        with pytest.raises(ConfigurationError):
            publisher.send(b"x", {"count": 5})  # type: ignore[dict-item]
        with pytest.raises(ConfigurationError):
            publisher.send_batch([b"x"], {"count": 5})  # type: ignore[dict-item]

    def test_send_batch(self, publisher: Publisher, receive: Receive) -> None:
        bodies = [f"message {i}" for i in range(23)]  # more than one SQS/SNS batch of 10
        ids = publisher.send_batch(bodies)
        assert len(ids) == 23 and len(set(ids)) == 23
        got = receive(23, timeout=self.receive_timeout)
        assert sorted(m.body.decode() for m in got) == sorted(bodies)

    def test_send_batch_of_nothing(self, publisher: Publisher) -> None:
        assert publisher.send_batch([]) == []

    def test_group_keeps_order(self, publisher: Publisher, receive: Receive) -> None:
        for i in range(5):
            publisher.send(f"g{i}", group="device-7")
        got = receive(5, timeout=self.receive_timeout)
        bodies = [m.body.decode() for m in got]
        if self.ordered:
            assert bodies == [f"g{i}" for i in range(5)]
        else:
            assert sorted(bodies) == [f"g{i}" for i in range(5)]


__all__ = [
    "MiB",
    "CacheContract",
    "GeneratedStream",
    "ObjectStoreContract",
    "PublisherContract",
    "Receive",
    "Received",
    "SqlContract",
    "TableContract",
    "digest_of",
    "make_spec",
    "strip_version",
    "unique",
]
