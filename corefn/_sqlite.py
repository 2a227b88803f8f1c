"""One SQLite file shared by a process's threads, one connection per thread: the local runtime's
``runtime.db`` and the flow engine's ``flows.db`` both open it this way.

Why these settings: WAL lets readers (the console, ``corefn dead``, ``corefn flow --show``) run
beside the writer; ``synchronous=NORMAL`` is durable across a process kill -9 in WAL mode (SQLite
loses only on power failure); a 30 s busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class ThreadLocalSqlite:
    """``path`` created with ``schema`` on first use; :meth:`connect` gives this thread's connection."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connect().executescript(schema)

    def connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db
