"""Idempotency records of the local runtime, in its own SQLite store (``runtime.db``).

Same semantics as on a cloud (:mod:`corefn.idempotency`), one difference in *when* a record is
written: the in-progress record is committed at once (so a concurrent duplicate sees it), but the
completion, or the deletion after a failure, waits for the delivery's settlement and is committed
**in the same transaction as the ack** (:meth:`corefn.local.store.Store.settle`'s ``also``). So a
message is either acknowledged with its completed record or neither is: a ``kill -9`` between the
two cannot leave an acked message without a record, nor a record for a message still queued.

In-progress records at start-up belong to a runtime that died (only one runtime holds the state
folder's lock): :func:`recover` deletes them, so the recovered deliveries run again at once, as
Powertools does when a Lambda timed out mid-run. A message can therefore run more than once only
if the runtime died while its handler ran (at most ``concurrency`` messages per handler per kill).
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from corefn.errors import IdempotencyInProgressError
from corefn.idempotency import COMPLETED, IN_PROGRESS, Claim, decode_result, encode_result

if TYPE_CHECKING:
    from corefn.local.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key     TEXT PRIMARY KEY,  -- <handler>#<event key>
    status  TEXT NOT NULL,     -- in_progress | completed
    until   REAL NOT NULL,     -- epoch seconds: in progress until / completed record expires at
    data    TEXT               -- the handler's result as JSON (completed)
);
"""


def setup(store: Store) -> None:
    store.connect().executescript(SCHEMA)


def unclaim_unstarted(store: Store, handlers: list[str]) -> int:
    """Give back the attempt of deliveries a dead runtime had claimed for idempotent ``handlers``
    but never started (call holding the runtime lock, before :func:`recover`).

    Workers claim rows in batches, and a claim counts an attempt (as an SQS receive does), so
    every kill would cost each claimed-but-waiting row an attempt, and a few kills could
    dead-letter messages no handler ever ran. For an idempotent handler with the default key
    the runtime can tell: a row whose run began has an in-progress record (``<handler>#<id>``),
    written before the handler is called. Handlers with a key function are left as they are."""
    if not handlers:
        return 0
    marks = ",".join("?" * len(handlers))
    with store.transaction() as db:
        return db.execute(
            f"UPDATE deliveries SET attempt=MAX(attempt-1, 0) WHERE claimed_at IS NOT NULL AND handler IN ({marks})"
            " AND NOT EXISTS (SELECT 1 FROM idempotency i WHERE i.key = deliveries.handler || '#' || deliveries.id)",
            handlers,
        ).rowcount


def recover(store: Store) -> int:
    """Delete in-progress records (call holding the runtime lock): their runs died."""
    with store.transaction() as db:
        return db.execute("DELETE FROM idempotency WHERE status=?", (IN_PROGRESS,)).rowcount


def sweep(store: Store, now: float | None = None) -> int:
    """Drop expired records, so the table holds only live ones."""
    with store.transaction() as db:
        return db.execute("DELETE FROM idempotency WHERE until<=?", (now or time.time(),)).rowcount


class LocalRecords:
    """:class:`~corefn.idempotency.Records` for one claimed delivery (or batch): ``begin``
    commits at once, ``complete`` / ``abandon`` are kept until :meth:`apply` runs inside the
    settling transaction."""

    __slots__ = ("store", "completed", "abandoned")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.completed: list[tuple[str, str, float]] = []
        self.abandoned: list[str] = []

    def begin(self, key: str, now: float, in_progress_until: float) -> Claim | None:
        with self.store.transaction() as db:
            row = db.execute("SELECT status, until, data FROM idempotency WHERE key=?", (key,)).fetchone()
            if row is not None and float(row[1]) > now:
                if row[0] == COMPLETED:
                    return Claim(decode_result(row[2]))
                raise IdempotencyInProgressError(key)
            db.execute(
                "INSERT OR REPLACE INTO idempotency (key, status, until, data) VALUES (?,?,?,NULL)",
                (key, IN_PROGRESS, in_progress_until),
            )
        return None

    def complete(self, key: str, result: Any, expires: float) -> None:
        self.completed.append((key, encode_result(result), expires))

    def abandon(self, key: str) -> None:
        self.abandoned.append(key)

    def fail_all(self) -> None:
        """The run is counted failed after all (it outlived its timeout): forget, do not complete."""
        self.abandoned.extend(key for key, _, _ in self.completed)
        self.completed.clear()

    def apply(self, db: sqlite3.Connection) -> None:
        """Inside the caller's transaction (the ack's)."""
        if self.completed:
            db.executemany(
                "INSERT OR REPLACE INTO idempotency (key, status, until, data) VALUES (?,?,?,?)",
                [(key, COMPLETED, expires, data) for key, data, expires in self.completed],
            )
        if self.abandoned:
            db.executemany("DELETE FROM idempotency WHERE key=? AND status=?", [(key, IN_PROGRESS) for key in self.abandoned])


class ImmediateRecords(LocalRecords):
    """The records of an idempotent HTTP route under ``corefn run``: a request has no ack to
    commit with, so completion and deletion are committed at once, in the runtime's store."""

    __slots__ = ()

    def complete(self, key: str, result: Any, expires: float) -> None:
        super().complete(key, result, expires)
        self._commit()

    def abandon(self, key: str) -> None:
        super().abandon(key)
        self._commit()

    def _commit(self) -> None:
        with self.store.transaction() as db:
            self.apply(db)
        self.completed.clear()
        self.abandoned.clear()
