"""``sqlite://`` — the local NoSQL table (kind ``table``) and local SQL (kind ``sql``).

URL (SQLAlchemy's form, so one URL serves both families): ``sqlite:////abs/path/tables.db``,
``sqlite:///relative/path.db``, or ``sqlite://`` for a private in-memory database. Kind ``sql``
is handed to :mod:`corefn.sinks.sqlalchemy_sql`; the rest of this module is the table.

A table sink is one SQLite table (named after the sink) in that file, in WAL mode so the local
runtime and a script can share it. Columns: the partition key, the sort key (``''`` when the sink
has none), the item as JSON, and a version counter. Key values keep their JSON type (strings sort
as strings, numbers as numbers), as DynamoDB keys do.

Optimistic concurrency: every stored item carries ``_version``, an opaque token corefn manages
(here and on DynamoDB an integer it increments; on Cosmos DB the ETag, on Firestore the update
time, on Cloudant the ``_rev``). ``put(item, if_version=v)`` writes only if the stored item still
has version ``v`` (DynamoDB ``ConditionExpression``, Cosmos ``If-Match``, Firestore
``last_update_time`` precondition), ``if_absent=True`` only if there is none; a lost race raises
SinkConflictError. A ``_version`` inside the written item is ignored.

After each write, inside the same lock and in commit order, a
:class:`~corefn.events.nosql.NoSqlChange` (insert / modify / remove, with ``keys``, ``new``,
``old``, and ``sequence`` from a per-table counter kept in the database) goes to
:func:`corefn.sinks.notify.emit`, as DynamoDB Streams would deliver it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from corefn.errors import ConfigurationError, SinkConflictError, SinkThrottledError, SinkUnavailableError
from corefn.events.nosql import NoSqlChange, NoSqlOperation
from corefn.sinks import notify
from corefn.sinks._errors import wrap
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec

VERSION = "_version"

#: sort-key operators → SQL condition on the ``sk`` column (``?2`` is the value)
SORT_CONDITIONS: dict[str, str] = {
    "=": "sk = ?2",
    "<": "sk < ?2",
    "<=": "sk <= ?2",
    ">": "sk > ?2",
    ">=": "sk >= ?2",
    "begins_with": "typeof(sk) = 'text' AND substr(sk, 1, length(?2)) = ?2",
}

#: sqlite3 errors → SinkError family (SQLITE_BUSY surfaces as "database is locked")
SQLITE_ERRORS: dict[str, type[SinkThrottledError] | type[SinkUnavailableError]] = {
    "database is locked": SinkThrottledError,
    "database table is locked": SinkThrottledError,
    "unable to open database file": SinkUnavailableError,
    "disk I/O error": SinkUnavailableError,
    "database or disk is full": SinkUnavailableError,
    "attempt to write a readonly database": SinkUnavailableError,
}

KEY_TYPES = (str, int, float)


def database_of(url: str) -> str:
    """The SQLite file (or ``:memory:``) a ``sqlite://`` URL names, SQLAlchemy-style."""
    rest = url.partition("://")[2].split("?", 1)[0]
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/"):
        raise ConfigurationError(f"sink URL {url!r}: use sqlite:////absolute/path.db or sqlite:///relative/path.db")
    return rest[1:]


def _now() -> datetime:
    return datetime.now(UTC)


class SqliteTable:
    """A :class:`~corefn.sinks.base.Table` in one SQLite table. One connection, guarded by a lock:
    SQLite serialises writers anyway, and the local runtime calls from worker threads."""

    families: ClassVar[tuple[str, ...]] = ("table", "sql")
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.key = str(spec.options.get("key") or "id")
        sort_key = spec.options.get("sort_key")
        self.sort_key = str(sort_key) if sort_key else None
        self.database = database_of(url)
        self._table = '"' + spec.name.replace('"', '""') + '"'
        self._lock = threading.RLock()
        self._db = self._connect()

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        return [Permission("local", ("read", "write"), database_of(url))]

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.database != ":memory:":
                Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.database, check_same_thread=False, isolation_level=None, timeout=10.0)
            if self.database != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} "
                "(pk NOT NULL, sk NOT NULL, item TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID"
            )
            db.execute("CREATE TABLE IF NOT EXISTS corefn_sequences (name TEXT PRIMARY KEY, sequence INTEGER NOT NULL)")
        except (sqlite3.Error, OSError) as exc:
            raise self._wrap(exc) from exc
        return db

    def _wrap(self, exc: BaseException) -> Exception:
        family = next((f for text, f in SQLITE_ERRORS.items() if text in str(exc)), None)
        return wrap(self.name, exc, family or SinkUnavailableError)

    # ------------------------------------------------------------------ keys

    def _check_key_value(self, value: Any, attribute: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, KEY_TYPES):
            raise ConfigurationError(f"table {self.name!r}: key {attribute!r} must be a string or number, got {value!r}")
        return value

    def _address(self, key: Any, sort: Any) -> tuple[Any, Any]:
        pk = self._check_key_value(key, self.key)
        if self.sort_key is None:
            if sort is not None:
                raise ConfigurationError(f"table {self.name!r} has no sort key, but one was given")
            return pk, ""
        if sort is None:
            raise ConfigurationError(f"table {self.name!r}: sort key {self.sort_key!r} is required")
        return pk, self._check_key_value(sort, self.sort_key)

    def _keys_of(self, item: Mapping[str, Any]) -> tuple[Any, Any]:
        if self.key not in item or (self.sort_key is not None and self.sort_key not in item):
            wanted = self.key if self.sort_key is None else f"{self.key!r} and {self.sort_key!r}"
            raise ConfigurationError(f"table {self.name!r}: item lacks its key attribute(s) {wanted}")
        return self._address(item[self.key], item.get(self.sort_key) if self.sort_key else None)

    def _key_dict(self, pk: Any, sk: Any) -> dict[str, Any]:
        return {self.key: pk} if self.sort_key is None else {self.key: pk, self.sort_key: sk}

    # ------------------------------------------------------------------ reading

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        pk, sk = self._address(key, sort)
        with self._lock:
            row = self._row(pk, sk)
        return None if row is None else _load(row)

    def _row(self, pk: Any, sk: Any) -> tuple[str, int] | None:
        try:
            found = self._db.execute(f"SELECT item, version FROM {self._table} WHERE pk = ? AND sk = ?", (pk, sk)).fetchone()
        except sqlite3.Error as exc:
            raise self._wrap(exc) from exc
        return None if found is None else (str(found[0]), int(found[1]))

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        pk = self._check_key_value(key, self.key)
        sql = f"SELECT item, version FROM {self._table} WHERE pk = ?1"
        params: list[Any] = [pk]
        if sort_op is not None:
            if sort_op not in SORT_CONDITIONS:
                raise ConfigurationError(f"sort_op must be one of {', '.join(SORT_CONDITIONS)}, got {sort_op!r}")
            if self.sort_key is None:
                raise ConfigurationError(f"table {self.name!r} has no sort key to compare with {sort_op!r}")
            sql += " AND " + SORT_CONDITIONS[sort_op]
            params.append(self._check_key_value(sort_value, self.sort_key))
        sql += " ORDER BY sk"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            try:
                rows = self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._wrap(exc) from exc
        return (_load((str(item), int(version))) for item, version in rows)

    # ------------------------------------------------------------------ writing

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        pk, sk = self._keys_of(item)
        body = {k: v for k, v in item.items() if k != VERSION}
        try:
            text = json.dumps(body, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"table {self.name!r}: item is not plain JSON: {exc}") from None
        with self._lock:
            with self._write():
                old = self._row(pk, sk)
                self._check_condition(old, if_version, if_absent, pk, sk)
                version = 1 if old is None else old[1] + 1
                self._db.execute(
                    f"INSERT OR REPLACE INTO {self._table} (pk, sk, item, version) VALUES (?, ?, ?, ?)",
                    (pk, sk, text, version),
                )
                sequence = self._next_sequence()
            new = {**body, VERSION: version}
            self._emit("insert" if old is None else "modify", pk, sk, new, None if old is None else _load(old), sequence)
        return new

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction: ``BEGIN IMMEDIATE`` takes the write lock before the read, so a
        read-then-write cannot interleave with another process's; any failure rolls it back,
        and SQLite's own errors come out as the SinkError family."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._wrap(exc) from exc

    def _check_condition(self, old: tuple[str, int] | None, if_version: Any, if_absent: bool, pk: Any, sk: Any) -> None:
        if if_absent and old is not None:
            raise SinkConflictError(self.name, f"item {self._key_dict(pk, sk)} already exists")
        if if_version is not None and (old is None or old[1] != if_version):
            raise SinkConflictError(self.name, f"item {self._key_dict(pk, sk)} is not at version {if_version!r}")

    def _next_sequence(self) -> int:
        self._db.execute(
            "INSERT INTO corefn_sequences (name, sequence) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET sequence = sequence + 1",
            (self.name,),
        )
        return int(self._db.execute("SELECT sequence FROM corefn_sequences WHERE name = ?", (self.name,)).fetchone()[0])

    def delete(self, key: Any, sort: Any = None) -> None:
        pk, sk = self._address(key, sort)
        with self._lock:
            with self._write():
                old = self._row(pk, sk)
                sequence = 0
                if old is not None:
                    self._db.execute(f"DELETE FROM {self._table} WHERE pk = ? AND sk = ?", (pk, sk))
                    sequence = self._next_sequence()
            if old is not None:  # deleting what is gone is not an error, and changes nothing
                self._emit("remove", pk, sk, None, _load(old), sequence)

    def _emit(self, operation: NoSqlOperation, pk: Any, sk: Any, new: dict[str, Any] | None, old: dict[str, Any] | None, sequence: int) -> None:
        notify.emit(
            NoSqlChange(
                id=f"{self.name}:{sequence}",
                table=self.name,
                operation=operation,
                keys=self._key_dict(pk, sk),
                new=new,
                old=old,
                sequence=str(sequence),
                time=_now(),
            )
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _load(row: tuple[str, int]) -> dict[str, Any]:
    item: dict[str, Any] = json.loads(row[0])
    item[VERSION] = row[1]
    return item


def open_backend(spec: SinkSpec, url: str) -> Any:
    if spec.family == "sql":
        from corefn.sinks.sqlalchemy_sql import open_backend as open_sql

        return open_sql(spec, url)
    if spec.family != "table":
        raise ConfigurationError(f"sqlite:// serves table and sql sinks, not {spec.family!r} sink {spec.name!r}")
    return SqliteTable(spec, url)
