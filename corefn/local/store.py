"""The local runtime's durable store: one SQLite file (WAL mode) under the state folder.

Every non-HTTP delivery (queue and topic messages, stream records, storage events, NoSQL changes,
timer ticks) is a row of ``deliveries``, one row per *consuming handler*: a topic with three
subscribers gets three rows, so each subscriber retries and dead-letters on its own, as each SNS
subscription or Pub/Sub subscription does. A row is:

- **visible** when ``visible_at <= now`` and nobody holds it;
- **claimed** by a worker (``claimed_at`` set, ``attempt`` + 1, ``visible_at`` pushed out by the
  visibility timeout) — the SQS receive. Claims and acks are batched, one transaction each;
- **acked** (deleted) after the handler succeeded, **released** with an exponential back-off
  after it failed, or moved to ``dead`` after ``max_attempts`` failed deliveries.

Nothing is lost on ``kill -9``: a claimed row stays in the file, and the next runtime on this
state folder makes it visible again at start-up (it holds ``runtime.lock``, so no other runtime
can be working on it); a runtime that merely hangs past the visibility timeout loses its claim
the way an SQS consumer does. Delivery is therefore at-least-once.

Ordered rows (streams, NoSQL changes, FIFO queues) carry a ``partition``: only the oldest row of
a partition may be claimed, so a failing record blocks its partition until it succeeds or is
dead-lettered (Lambda's rule for a Kinesis shard: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html),
and the partition then moves on.

Messages published while no runtime consumed their queue / topic / stream are kept and routed when
one starts, so a local stream behaves as if every consumer started at ``earliest`` on its first
run (``StreamTrigger.start`` has no effect locally: nothing is ever trimmed before it is read).

``synchronous=NORMAL`` in WAL mode fsyncs at checkpoints, not at every commit: a commit survives a
process crash (kill -9), and only an OS crash may lose the last few — the trade SQLite documents
for WAL, and what makes 10,000+ deliveries/s possible here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corefn._sqlite import ThreadLocalSqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,      -- message id, shared by the rows of one fanned-out message
    kind       TEXT NOT NULL,      -- queue, topic, stream, storage, nosql, timer
    resource   TEXT NOT NULL,      -- logical queue / topic / stream / bucket / table name
    handler    TEXT,               -- consuming handler; NULL = published before anyone subscribed
    partition  TEXT,               -- ordering unit; NULL = unordered
    key        TEXT,               -- message group / partition key as the publisher gave it
    body       BLOB,
    attributes TEXT,               -- JSON object of str -> str
    meta       TEXT,               -- JSON: the event's other fields (storage, nosql, timer)
    attempt    INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    claimed_at REAL,
    created    REAL NOT NULL,
    last_error TEXT
);
-- The claim walks a handler's rows in seq order and stops at its limit. The index this one
-- replaces, (handler, visible_at), had SQLite sort every visible row of the handler on each
-- claim (a backlog of N rows cost N per claim), and every claim moved its rows in it.
DROP INDEX IF EXISTS deliveries_ready;
CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries (handler, seq);
CREATE INDEX IF NOT EXISTS deliveries_partition ON deliveries (handler, partition, seq);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY, id TEXT, kind TEXT, resource TEXT, handler TEXT, partition TEXT,
    key TEXT, body BLOB, attributes TEXT, meta TEXT, attempt INTEGER, created REAL,
    last_error TEXT, died_at REAL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    resource TEXT NOT NULL, kind TEXT NOT NULL, handler TEXT NOT NULL, ordered INTEGER NOT NULL,
    PRIMARY KEY (resource, handler)
);
CREATE TABLE IF NOT EXISTS objects_seen (
    bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS timers (
    handler TEXT PRIMARY KEY, schedule TEXT NOT NULL, tz TEXT NOT NULL, last_tick REAL NOT NULL
);
"""

DELIVERY_COLUMNS = "seq, id, kind, resource, handler, partition, key, body, attributes, meta, attempt, created"
STREAM_SHARDS = 4
#: seqs per ``IN (...)`` list: under the 999 variables SQLite before 3.32 allows in one statement
IN_LIST = 500


def shard_of(key: str | None, shards: int = STREAM_SHARDS) -> str:
    """Kinesis hashes the partition key onto a shard; we do the same onto ``shards`` partitions
    with a hash that is stable across processes (``hash()`` is salted per process)."""
    import zlib

    return str(zlib.crc32((key or "").encode()) % shards)


@dataclass(slots=True)
class Delivery:
    """One claimed row (not frozen: a frozen dataclass sets each field through
    ``object.__setattr__``, and a claim builds hundreds of these; nothing changes one)."""

    seq: int
    id: str
    kind: str
    resource: str
    handler: str
    partition: str | None
    key: str | None
    body: bytes
    attributes: dict[str, str]
    meta: dict[str, Any]
    attempt: int
    created: float


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A row to insert for one consuming handler."""

    kind: str
    resource: str
    handler: str | None
    body: bytes = b""
    attributes: Mapping[str, str] | None = None
    meta: Mapping[str, Any] | None = None
    partition: str | None = None
    key: str | None = None
    id: str | None = None
    delay: float = 0.0


def new_id() -> str:
    return uuid.uuid4().hex


class Store(ThreadLocalSqlite):
    """Thread-safe access to ``runtime.db``: one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def transaction(self) -> _Transaction:
        return _Transaction(self.connect())

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # ----------------------------------------------------------------------------- writing

    def insert(self, rows: Iterable[NewDelivery]) -> int:
        with self.transaction() as db:
            return insert_rows(db, rows)

    def publish(
        self,
        resource: str,
        messages: Sequence[tuple[bytes, Mapping[str, str] | None, str | None]],
        target: str | None = None,
    ) -> list[str]:
        """Fan ``(body, attributes, key)`` messages out to the subscribers the runtime recorded
        for ``resource``; with no subscriber yet, keep them unrouted (``handler`` NULL) until a
        runtime that consumes ``resource`` starts. Returns the message ids."""
        now = time.time()
        ids = [new_id() for _ in messages]
        with self.transaction() as db:
            subscribed = db.execute("SELECT 1 FROM subscriptions WHERE resource=? LIMIT 1", (resource,)).fetchone()
            values = [
                (mid, key, body, json.dumps(dict(attributes)) if attributes else None)
                for mid, (body, attributes, key) in zip(ids, messages, strict=True)
            ]
            if subscribed:
                db.executemany(
                    "INSERT INTO deliveries (id, kind, resource, handler, partition, key, body, attributes, visible_at, created)"
                    " SELECT ?1, s.kind, s.resource, s.handler,"
                    " CASE WHEN s.kind='stream' THEN ?5 WHEN s.ordered THEN ?2 ELSE NULL END,"
                    " ?2, ?3, ?4, ?6, ?6 FROM subscriptions s WHERE s.resource=?7",
                    [(mid, key, body, attrs, shard_of(key or mid), now, resource) for mid, key, body, attrs in values],
                )
            else:
                db.executemany(
                    "INSERT INTO deliveries (id, kind, resource, handler, key, body, attributes, visible_at, created)"
                    " VALUES (?,?,?,NULL,?,?,?,?,?)",
                    [(mid, target or "queue", resource, key, body, attrs, now, now) for mid, key, body, attrs in values],
                )
        return ids

    def subscribe(self, subscriptions: Iterable[tuple[str, str, str, bool]]) -> int:
        """Record who consumes what (resource, kind, handler, ordered), replacing what an earlier
        run recorded, and route the messages published before anyone listened. Returns how many
        unrouted messages were routed."""
        with self.transaction() as db:
            db.execute("DELETE FROM subscriptions")
            db.executemany(
                "INSERT OR REPLACE INTO subscriptions (resource, kind, handler, ordered) VALUES (?,?,?,?)",
                [(r, k, h, int(o)) for r, k, h, o in subscriptions],
            )
        return self.route_unrouted()

    def route_unrouted(self) -> int:
        with self.transaction() as db:
            rows = db.execute(
                "SELECT d.seq, d.id, d.resource, d.key, d.body, d.attributes, d.created FROM deliveries d"
                " WHERE d.handler IS NULL AND d.resource IN (SELECT resource FROM subscriptions) ORDER BY d.seq"
            ).fetchall()
            for seq, mid, resource, key, body, attrs, created in rows:
                db.execute(
                    "INSERT INTO deliveries (id, kind, resource, handler, partition, key, body, attributes, visible_at, created)"
                    " SELECT ?, s.kind, s.resource, s.handler,"
                    " CASE WHEN s.kind='stream' THEN ? WHEN s.ordered THEN ? ELSE NULL END,"
                    " ?, ?, ?, ?, ? FROM subscriptions s WHERE s.resource=?",
                    (mid, shard_of(key or mid), key, key, body, attrs, created, created, resource),
                )
                db.execute("DELETE FROM deliveries WHERE seq=?", (seq,))
        return len(rows)

    def recover(self) -> int:
        """Make the rows a killed runtime had claimed visible again (call holding the lock)."""
        with self.transaction() as db:
            cursor = db.execute("UPDATE deliveries SET claimed_at=NULL, visible_at=? WHERE claimed_at IS NOT NULL", (time.time(),))
            return cursor.rowcount

    # ------------------------------------------------------------------------ consuming

    def claim(self, handler: str, limit: int, visibility: float, ordered: bool) -> list[Delivery]:
        now = time.time()
        if ordered:  # only the head of each partition: a failing head blocks its partition
            where = (
                "seq IN (SELECT d.seq FROM deliveries d JOIN"
                " (SELECT MIN(seq) AS head FROM deliveries WHERE handler=:h GROUP BY partition) h ON d.seq=h.head"
                " WHERE d.visible_at<=:now ORDER BY d.seq LIMIT :n)"
            )
        else:
            where = "seq IN (SELECT seq FROM deliveries WHERE handler=:h AND visible_at<=:now ORDER BY seq LIMIT :n)"
        sql = (
            f"UPDATE deliveries SET attempt=attempt+1, claimed_at=:now, visible_at=:until WHERE {where}"
            f" RETURNING {DELIVERY_COLUMNS}"
        )
        with self.transaction() as db:
            rows = db.execute(sql, {"h": handler, "now": now, "until": now + visibility, "n": limit}).fetchall()
        rows.sort()
        return [_delivery(row) for row in rows]

    def settle(
        self,
        done: Sequence[int],
        retry: Sequence[tuple[int, float, str]],
        dead: Sequence[tuple[int, str]],
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """One transaction for a batch: delete ``done``, release ``retry`` (seq, delay, error)
        for a later attempt, move ``dead`` (seq, error) to the dead-letter table, and run ``also``
        (bookkeeping that must commit with the ack, e.g. idempotency records)."""
        now = time.time()
        with self.transaction() as db:
            if also is not None:
                also(db)
            for start in range(0, len(done), IN_LIST):  # one statement per IN_LIST rows, not one per row
                chunk = done[start : start + IN_LIST]
                db.execute(f"DELETE FROM deliveries WHERE seq IN ({','.join('?' * len(chunk))})", chunk)
            if retry:
                db.executemany(
                    "UPDATE deliveries SET claimed_at=NULL, visible_at=?, last_error=? WHERE seq=?",
                    [(now + delay, error, seq) for seq, delay, error in retry],
                )
            if dead:
                db.executemany(
                    "INSERT INTO dead (seq, id, kind, resource, handler, partition, key, body, attributes, meta, attempt, created, last_error, died_at)"
                    " SELECT seq, id, kind, resource, handler, partition, key, body, attributes, meta, attempt, created, ?, ? FROM deliveries WHERE seq=?",
                    [(error, now, seq) for seq, error in dead],
                )
                db.executemany("DELETE FROM deliveries WHERE seq=?", [(s,) for s, _ in dead])

    def release(self, seqs: Sequence[int]) -> None:
        """Give back claimed rows that were not run, without counting the attempt."""
        if seqs:
            with self.transaction() as db:
                db.executemany(
                    "UPDATE deliveries SET claimed_at=NULL, visible_at=?, attempt=attempt-1 WHERE seq=?",
                    [(time.time(), s) for s in seqs],
                )

    # --------------------------------------------------------------------------- reading

    def pending(self, handlers: Sequence[str]) -> int:
        """Rows some handler of ``handlers`` still has to take (waiting, delayed or in flight)."""
        if not handlers:
            return 0
        marks = ",".join("?" * len(handlers))
        row = self.connect().execute(f"SELECT COUNT(*) FROM deliveries WHERE handler IN ({marks})", tuple(handlers)).fetchone()
        return int(row[0])

    def has_pending(self, handlers: Sequence[str]) -> bool:
        """Whether :meth:`pending` would be above 0, without counting: ``--until-idle`` asks
        fifty times a second, and a count walks the whole backlog each time."""
        if not handlers:
            return False
        marks = ",".join("?" * len(handlers))
        row = self.connect().execute(f"SELECT EXISTS (SELECT 1 FROM deliveries WHERE handler IN ({marks}))", tuple(handlers)).fetchone()
        return bool(row[0])

    def next_visible(self, handler: str) -> float | None:
        row = self.connect().execute(
            "SELECT MIN(visible_at) FROM deliveries WHERE handler=? AND claimed_at IS NULL", (handler,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def dead_letters(self, handler: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, kind, resource, handler, body, attempt, last_error, died_at FROM dead"
        rows = self.connect().execute(sql + (" WHERE handler=?" if handler else "") + " ORDER BY seq", (handler,) if handler else ()).fetchall()
        names = ("id", "kind", "resource", "handler", "body", "attempt", "error", "died_at")
        return [dict(zip(names, row, strict=True)) for row in rows]


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock up front, so two writers never
    deadlock upgrading a read transaction."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def insert_rows(db: sqlite3.Connection, rows: Iterable[NewDelivery]) -> int:
    """Insert ``rows`` inside the caller's transaction (so bookkeeping commits with them)."""
    now = time.time()
    values = [
        (
            r.id or new_id(), r.kind, r.resource, r.handler, r.partition, r.key, r.body,
            json.dumps(dict(r.attributes)) if r.attributes else None,
            json.dumps(dict(r.meta), default=str) if r.meta else None,
            now + r.delay, now,
        )
        for r in rows
    ]
    db.executemany(
        "INSERT INTO deliveries (id, kind, resource, handler, partition, key, body, attributes, meta, visible_at, created)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        values,
    )
    return len(values)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    seq, mid, kind, resource, handler, partition, key, body, attrs, meta, attempt, created = row
    return Delivery(
        seq, mid, kind, resource, handler, partition, key, bytes(body or b""),
        json.loads(attrs) if attrs else {}, json.loads(meta) if meta else {}, attempt, created,
    )


# ------------------------------------------------------------------------ one per process

_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()
_published: list[Callable[[str], None]] = []

DB_NAME = "runtime.db"


def store_at(state: Path) -> Store:
    """The process's :class:`Store` for the state folder ``state`` (publishers and the runtime
    share it, so a handler's publish wakes the consuming worker at once)."""
    path = (state / DB_NAME).absolute()
    with _stores_lock:
        found = _stores.get(path)
        if found is None:
            found = _stores[path] = Store(path)
        return found


def on_publish(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(resource)`` after this process publishes to ``resource``."""
    _published.append(listener)
    return lambda: _published.remove(listener) if listener in _published else None


def published(resource: str) -> None:
    for listener in list(_published):
        listener(resource)
