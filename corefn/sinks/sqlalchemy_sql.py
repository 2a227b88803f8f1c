"""SQL sinks on any SQLAlchemy URL: RDS / Aurora, Azure SQL / Azure Database for PostgreSQL,
Cloud SQL, IBM Db2 / Databases for PostgreSQL, and SQLite locally.

URL: SQLAlchemy's own (``postgresql+psycopg://user:pw@host:5432/db``, ``mysql+pymysql://...``,
``mssql+pyodbc://...``, ``db2+ibm_db://...``, ``sqlite:////abs/path.db``). A bare
``postgresql://`` uses psycopg 3 (what ``corefn[sql]`` installs) rather than SQLAlchemy's
psycopg2 default, and ``mysql://`` uses PyMySQL.

Pool sizing for functions, and why (override any of them with sink options of the same name):

- ``pool_size=1``: one connection stays open across warm invocations. Lambda and Cloud
  Functions gen1 run one invocation per instance at a time, and every instance holds its own
  pool, so the database sees *instances × pool* connections: keep the multiplier small
  (RDS PostgreSQL ``max_connections`` is ~100 on a small instance).
- ``max_overflow=4``: bursts on hosts that run invocations concurrently in one process (Azure
  Functions, Cloud Run / gen2 concurrency, the local runtime's worker threads); overflow
  connections are closed when returned, so they cost nothing when idle.
- ``pool_timeout=10``: waiting longer for a pooled connection would only eat the invocation's
  deadline; a timeout surfaces as SinkThrottledError.
- ``pool_pre_ping=True``: an instance frozen between invocations finds its connection closed by
  the server or a NAT; one round-trip ping replaces a failed first query.
- ``pool_recycle=200`` seconds: below the shortest idle timeout of the clouds' NATs and load
  balancers (Azure SNAT 240 s, AWS NAT gateway 350 s), so no pre-ping hangs on a silently
  dropped connection.
- ``pool="null"``: no pooling at all, for when a proxy pools for you (RDS Proxy, PgBouncer,
  Cloud SQL Auth Proxy in transaction mode).

SQLite (local default) gets WAL mode and a 10 s busy timeout so the local runtime's threads and a
script can share the file. Errors reaching the database become SinkUnavailableError (or
SinkThrottledError for a pool timeout) from :meth:`connect`; errors in the SQL a handler runs
are SQLAlchemy's own, since the handler holds SQLAlchemy's connection.
"""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from corefn.errors import MissingExtraError, SinkThrottledError, SinkUnavailableError
from corefn.sinks._errors import ErrorClass, family_by_type, wrap
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec

POOL_DEFAULTS: dict[str, Any] = {
    "pool_size": 1,
    "max_overflow": 4,
    "pool_timeout": 10,
    "pool_pre_ping": True,
    "pool_recycle": 200,
}

#: URL schemes whose SQLAlchemy default driver is not the one corefn[sql] installs
DEFAULT_DRIVERS: dict[str, str] = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}

#: SQLAlchemy exceptions on connect → SinkError family (by name: building this imports nothing)
SQLALCHEMY_ERRORS: dict[str, ErrorClass] = {
    "sqlalchemy.exc.TimeoutError": SinkThrottledError,
    "sqlalchemy.exc.OperationalError": SinkUnavailableError,
    "sqlalchemy.exc.InterfaceError": SinkUnavailableError,
    "sqlalchemy.exc.DBAPIError": SinkUnavailableError,
}

#: host endings of managed databases that normally sit in a VPC (publicly accessible RDS exists,
#: but is the exception; Cloud SQL and Azure have public endpoints behind their own auth proxies)
PRIVATE_HOST_SUFFIXES = (".rds.amazonaws.com",)


def normalise_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return DEFAULT_DRIVERS.get(scheme.lower(), scheme) + sep + rest


def _is_sqlite_memory(url: str) -> bool:
    rest = url.partition("://")[2].split("?", 1)[0]
    return rest in ("", "/", "/:memory:")


class SqlAlchemySql:
    """A :class:`~corefn.sinks.base.Sql`: a lazily created, pooled SQLAlchemy Engine."""

    families: ClassVar[tuple[str, ...]] = ("sql",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.url = normalise_url(url)
        self._engine: Any = None
        self._lock = threading.Lock()

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """A database authorises with its own users and GRANTs; the deploy generator can only say
        which server is reached (password removed). With RDS IAM authentication, grant
        ``rds-db:connect`` on the DB user."""
        parts = urlsplit(normalise_url(url))
        where = f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"
        return [Permission("sql", ("connect",), where)]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if host.endswith(PRIVATE_HOST_SUFFIXES):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_private and not address.is_loopback

    def pool_options(self) -> dict[str, Any]:
        options = self.spec.options
        if options.get("pool") == "null":
            from sqlalchemy.pool import NullPool

            return {"poolclass": NullPool, "pool_pre_ping": bool(options.get("pool_pre_ping", True))}
        if self.url.startswith("sqlite") and _is_sqlite_memory(self.url):
            return {}  # SQLAlchemy keeps one connection per thread for in-memory SQLite
        return {name: options.get(name, default) for name, default in POOL_DEFAULTS.items()}

    @property
    def engine(self) -> Any:
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_engine()
                engine = self._engine
        return engine

    def _create_engine(self) -> Any:
        try:
            import sqlalchemy
        except ImportError:
            raise MissingExtraError("sqlalchemy", "sql") from None
        is_sqlite = self.url.startswith("sqlite")
        if is_sqlite and not _is_sqlite_memory(self.url):
            path = self.url.partition("://")[2].split("?", 1)[0][1:]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = sqlalchemy.create_engine(self.url, **self.pool_options())
        except ImportError as exc:  # the URL's DBAPI driver is missing
            raise MissingExtraError(exc.name or "a database driver", "sql") from None
        if is_sqlite:
            sqlalchemy.event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def connect(self) -> Any:
        """A SQLAlchemy Connection from the pool (use it as a context manager)."""
        try:
            return self.engine.connect()
        except Exception as exc:
            family = family_by_type(exc, SQLALCHEMY_ERRORS)
            if family is None:
                raise
            raise wrap(self.name, exc, family) from exc

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_backend(spec: SinkSpec, url: str) -> SqlAlchemySql:
    return SqlAlchemySql(spec, url)
