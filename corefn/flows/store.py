"""Where flow runs live locally: ``flows.db`` (SQLite, WAL) in the runtime's state folder.

A file of its own, beside ``runtime.db``: the runtime's delivery tables and these never share a
transaction, so neither schema constrains the other. Three tables:

- ``flow_runs``: one row per run (``status`` running / succeeded / failed / timed_out; ``key``
  makes a start idempotent; ``next_at`` is when the engine should look at it again, in the
  runtime's clock; ``started`` / ``deadline`` are set when an engine first picks it up, in
  that clock, so a run started by a handler or by ``corefn flow`` times out by the runtime's
  clock, fake or not).
- ``flow_steps``: one row per step *address* in a run (``path``: ``0``, ``1/0``, ``1/1``,
  ``2[3]``, ``0!catch`` …). A row reaches ``succeeded`` with its result in the same
  transaction as its log line, before the engine starts the next step: that is the durability
  promise (no finished step runs again after ``kill -9``).
- ``flow_log``: the step log people read (``corefn flow`` prints it; kept when a run fails or
  times out).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from collections.abc import Sequence as Seq
from pathlib import Path
from typing import Any, Protocol

from corefn._sqlite import ThreadLocalSqlite

DB_NAME = "flows.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS flow_runs (
    id TEXT PRIMARY KEY, flow TEXT NOT NULL, key TEXT UNIQUE, status TEXT NOT NULL,
    input TEXT NOT NULL, output TEXT, error TEXT, fingerprint TEXT,
    started REAL, deadline REAL, next_at REAL NOT NULL DEFAULT 0, finished REAL, started_by TEXT
);
CREATE INDEX IF NOT EXISTS flow_runs_due ON flow_runs (status, next_at);
CREATE TABLE IF NOT EXISTS flow_steps (
    run TEXT NOT NULL, path TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, output TEXT, error TEXT,
    wake_at REAL, started REAL, finished REAL,
    PRIMARY KEY (run, path)
);
CREATE TABLE IF NOT EXISTS flow_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, at REAL NOT NULL, path TEXT,
    step TEXT, event TEXT NOT NULL, detail TEXT, seconds REAL
);
CREATE INDEX IF NOT EXISTS flow_log_run ON flow_log (run, seq);
"""

RUN_FIELDS = ("id", "flow", "key", "status", "input", "output", "error", "fingerprint", "started", "deadline", "next_at", "finished", "started_by")
STEP_FIELDS = ("path", "name", "kind", "status", "attempt", "output", "error", "wake_at", "started", "finished")
LOG_FIELDS = ("seq", "run", "at", "path", "step", "event", "detail", "seconds")
FINISHED = ("succeeded", "failed", "timed_out")


class RunStore(Protocol):
    """What one engine pass reads and writes of a run (:func:`corefn.flows.runner.advance`):
    :class:`FlowStore` locally, a table sink where the engine runs in a cloud's container (the
    Knative adapter's)."""

    def begin_run(self, run: str, now: float, deadline: float, fingerprint: str) -> None: ...
    def postpone(self, run: str, at: float) -> None: ...
    def step(self, run: str, path: str) -> dict[str, Any] | None: ...
    def record(
        self, run: str, path: str, name: str, kind: str, status: str, now: float, *, attempt: int | None = None,
        output: str | None = None, error: str | None = None, wake_at: float | None = None, event: str | None = None,
        detail: str | None = None, seconds: float | None = None,
    ) -> None: ...


class FlowStore(ThreadLocalSqlite):
    """Thread-safe access to ``flows.db``: one connection per thread."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        """``statements`` in one ``BEGIN IMMEDIATE`` transaction (the write lock up front, so two
        writers never deadlock upgrading a read)."""
        db = self.connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            for text, args in statements:
                db.execute(text, args)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ------------------------------------------------------------------------------ runs

    def create(self, flow: str, input_json: str, key: str | None = None, started_by: str | None = None) -> tuple[str, bool]:
        """A new run (or, for a ``key`` already used, the existing one): ``(id, created)``."""
        run = uuid.uuid4().hex
        db = self.connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            if key is not None:
                row = db.execute("SELECT id FROM flow_runs WHERE key=?", (key,)).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    return str(row[0]), False
            db.execute(
                "INSERT INTO flow_runs (id, flow, key, status, input, started_by) VALUES (?,?,?,?,?,?)",
                (run, flow, key, "running", input_json, started_by),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return run, True

    def run(self, run: str) -> dict[str, Any] | None:
        row = self.connect().execute(f"SELECT {', '.join(RUN_FIELDS)} FROM flow_runs WHERE id=?", (run,)).fetchone()
        return None if row is None else dict(zip(RUN_FIELDS, row, strict=True))

    def runs(self, status: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(RUN_FIELDS)} FROM flow_runs" + (" WHERE status=?" if status else "") + " ORDER BY rowid"
        return [dict(zip(RUN_FIELDS, r, strict=True)) for r in self.connect().execute(sql, (status,) if status else ())]

    @staticmethod
    def _of(flows: Seq[str]) -> str:
        return f"flow IN ({','.join('?' * len(flows))})"

    def due(self, now: float, flows: Seq[str]) -> list[dict[str, Any]]:
        """Running runs of ``flows`` whose next look is due (runs of flows another app declares
        are left alone, as messages no handler of this app consumes are)."""
        rows = self.connect().execute(
            f"SELECT {', '.join(RUN_FIELDS)} FROM flow_runs WHERE status='running' AND next_at<=? AND {self._of(flows)} ORDER BY rowid",
            (now, *flows),
        ).fetchall()
        return [dict(zip(RUN_FIELDS, r, strict=True)) for r in rows]

    def next_due(self, flows: Seq[str]) -> float | None:
        row = self.connect().execute(f"SELECT MIN(next_at) FROM flow_runs WHERE status='running' AND {self._of(flows)}", tuple(flows)).fetchone()
        return None if row[0] is None else float(row[0])

    def running(self, flows: Seq[str]) -> int:
        sql = f"SELECT COUNT(*) FROM flow_runs WHERE status='running' AND {self._of(flows)}"
        return int(self.connect().execute(sql, tuple(flows)).fetchone()[0])

    def begin_run(self, run: str, now: float, deadline: float, fingerprint: str) -> None:
        self._write(
            ("UPDATE flow_runs SET started=?, deadline=?, fingerprint=? WHERE id=? AND started IS NULL", (now, deadline, fingerprint, run)),
            ("INSERT INTO flow_log (run, at, event, detail) VALUES (?,?,?,?)", (run, now, "started", None)),
        )

    def postpone(self, run: str, at: float) -> None:
        self._write(("UPDATE flow_runs SET next_at=? WHERE id=?", (at, run)))

    def finish(self, run: str, status: str, now: float, output: str | None = None, error: str | None = None) -> None:
        self._write(
            ("UPDATE flow_runs SET status=?, output=?, error=?, finished=? WHERE id=?", (status, output, error, now, run)),
            ("INSERT INTO flow_log (run, at, event, detail) VALUES (?,?,?,?)", (run, now, status, error)),
        )

    # ----------------------------------------------------------------------------- steps

    def step(self, run: str, path: str) -> dict[str, Any] | None:
        row = self.connect().execute(f"SELECT {', '.join(STEP_FIELDS)} FROM flow_steps WHERE run=? AND path=?", (run, path)).fetchone()
        return None if row is None else dict(zip(STEP_FIELDS, row, strict=True))

    def steps(self, run: str) -> list[dict[str, Any]]:
        rows = self.connect().execute(f"SELECT {', '.join(STEP_FIELDS)} FROM flow_steps WHERE run=? ORDER BY rowid", (run,))
        return [dict(zip(STEP_FIELDS, r, strict=True)) for r in rows]

    def record(
        self,
        run: str,
        path: str,
        name: str,
        kind: str,
        status: str,
        now: float,
        *,
        attempt: int | None = None,
        output: str | None = None,
        error: str | None = None,
        wake_at: float | None = None,
        event: str | None = None,
        detail: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """Set a step's state and, when ``event`` is given, append its log line: one transaction."""
        finished = now if status in ("succeeded", "failed") else None
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO flow_steps (run, path, name, kind, status, attempt, output, error, wake_at, started, finished)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (run, path) DO UPDATE SET status=excluded.status,"
                " attempt=COALESCE(?, attempt), output=excluded.output, error=excluded.error, wake_at=COALESCE(excluded.wake_at, wake_at),"
                " finished=excluded.finished",
                (run, path, name, kind, status, attempt or 0, output, error, wake_at, now, finished, attempt),
            )
        ]
        if event is not None:
            statements.append(
                ("INSERT INTO flow_log (run, at, path, step, event, detail, seconds) VALUES (?,?,?,?,?,?,?)", (run, now, path, name, event, detail, seconds))
            )
        self._write(*statements)

    # ------------------------------------------------------------------------------- log

    def log(self, run: str, after: int = 0) -> list[dict[str, Any]]:
        rows = self.connect().execute(f"SELECT {', '.join(LOG_FIELDS)} FROM flow_log WHERE run=? AND seq>? ORDER BY seq", (run, after))
        return [dict(zip(LOG_FIELDS, r, strict=True)) for r in rows]


# ------------------------------------------------------------------------ one per process

_stores: dict[Path, FlowStore] = {}
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def flow_store_at(state: Path) -> FlowStore:
    path = (state / DB_NAME).absolute()
    with _lock:
        found = _stores.get(path)
        if found is None:
            found = _stores[path] = FlowStore(path)
        return found


def on_start(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener()`` after this process starts a run (the engine wakes at once)."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def start_run(state: Path, flow: str, data: Any, key: str | None = None, started_by: str | None = None) -> str:
    """Record a new run of ``flow`` with input ``data`` (checked against the payload limit)."""
    from corefn.flows.limits import encode

    run, _ = flow_store_at(state).create(flow, encode(flow, "the input", data), key, started_by)
    for listener in list(_listeners):
        listener()
    return run


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
