"""SQL sinks on SQLite (the local default) and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from corefn.errors import SinkUnavailableError
from corefn.sinks import open_sink
from corefn.sinks.sqlalchemy_sql import SqlAlchemySql, normalise_url
from tests.fixtures.emulators import PostgresServer, free_port
from tests.sinks.contract import SqlContract, make_spec


class TestSqliteSql(SqlContract):
    @pytest.fixture
    def sql(self, tmp_path: Path) -> Iterator[SqlAlchemySql]:
        backend = open_sink(make_spec("sql", "reports"), f"sqlite:///{tmp_path / 'state' / 'sql-reports.db'}")
        assert isinstance(backend, SqlAlchemySql)  # sqlite:// hands kind "sql" to the SQLAlchemy backend
        yield backend
        backend.dispose()


class TestPostgresSql(SqlContract):
    @pytest.fixture
    def sql(self, postgres_server: PostgresServer) -> Iterator[SqlAlchemySql]:
        backend = open_sink(make_spec("sql", "reports"), postgres_server.url)
        assert isinstance(backend, SqlAlchemySql)
        yield backend
        backend.dispose()


def test_pool_is_sized_for_functions(postgres_server: PostgresServer) -> None:
    backend = SqlAlchemySql(make_spec("sql", "r"), postgres_server.url)
    pool = backend.engine.pool
    assert (pool.size(), pool._max_overflow, pool._pre_ping, pool._recycle) == (1, 4, True, 200)
    custom = SqlAlchemySql(make_spec("sql", "r", pool_size=3, pool_recycle=60), postgres_server.url)
    assert (custom.engine.pool.size(), custom.engine.pool._recycle) == (3, 60)
    backend.dispose()
    custom.dispose()


def test_null_pool_for_proxies(postgres_server: PostgresServer) -> None:
    backend = SqlAlchemySql(make_spec("sql", "r", pool="null"), postgres_server.url)
    assert type(backend.engine.pool).__name__ == "NullPool"
    with backend.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_bare_postgresql_url_uses_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"


def test_unreachable_database_is_unavailable() -> None:
    backend = SqlAlchemySql(make_spec("sql", "down"), f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2")
    with pytest.raises(SinkUnavailableError) as caught:
        backend.connect()
    assert caught.value.cause is not None


def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    backend = SqlAlchemySql(make_spec("sql", "r"), f"sqlite:///{tmp_path / 'x.db'}")
    with backend.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    backend.dispose()


def test_permissions_name_the_server_without_password() -> None:
    (grant,) = SqlAlchemySql.permissions("postgresql://app:secret@db.abc.eu-west-1.rds.amazonaws.com:5432/prod", "sql")
    assert grant.resource == "postgresql+psycopg://db.abc.eu-west-1.rds.amazonaws.com:5432/prod"
    assert "secret" not in repr(grant)
    assert SqlAlchemySql.needs_private_network("postgresql://db.abc.eu-west-1.rds.amazonaws.com/prod") is True
    assert SqlAlchemySql.needs_private_network("sqlite:////tmp/x.db") is False
