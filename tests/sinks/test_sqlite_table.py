"""The local SQLite table against the table contract, plus its change notifications."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from corefn.events.base import Event
from corefn.events.nosql import NoSqlChange
from corefn.sinks import notify
from corefn.sinks.sqlite import SqliteTable, open_backend
from tests.sinks.contract import TableContract, make_spec, unique


@pytest.fixture
def make_table(tmp_path: Path) -> Callable[[str, str | None], SqliteTable]:
    def make(key: str, sort_key: str | None) -> SqliteTable:
        spec = make_spec("table", unique("tbl"), key=key, sort_key=sort_key)
        return open_backend(spec, f"sqlite:///{tmp_path / 'tables.db'}")  # type: ignore[no-any-return]

    return make


@pytest.fixture
def changes() -> Iterator[list[Event]]:
    seen: list[Event] = []
    unsubscribe = notify.subscribe(seen.append)
    yield seen
    unsubscribe()


class TestSqliteTable(TableContract):
    pass


def test_changes_are_emitted_in_commit_order(make_table: Callable[[str, str | None], SqliteTable], changes: list[Event]) -> None:
    table = make_table("id", None)
    table.put({"id": "a", "n": 1})
    table.put({"id": "a", "n": 2})
    table.delete("a")
    table.delete("a")  # nothing to remove: no change
    assert [type(c) for c in changes] == [NoSqlChange] * 3
    ops = [(c.operation, c.keys, c.new, c.old, c.sequence) for c in changes if isinstance(c, NoSqlChange)]
    assert ops == [
        ("insert", {"id": "a"}, {"id": "a", "n": 1, "_version": 1}, None, "1"),
        ("modify", {"id": "a"}, {"id": "a", "n": 2, "_version": 2}, {"id": "a", "n": 1, "_version": 1}, "2"),
        ("remove", {"id": "a"}, None, {"id": "a", "n": 2, "_version": 2}, "3"),
    ]
    assert all(c.table == table.name for c in changes if isinstance(c, NoSqlChange))


def test_concurrent_conditional_writers_one_wins_each_round(make_table: Callable[[str, str | None], SqliteTable], changes: list[Event]) -> None:
    table = make_table("id", None)
    table.put({"id": "counter", "n": 0})

    def bump() -> None:
        for _ in range(30):
            while True:
                item = table.get("counter")
                assert item is not None
                try:
                    table.put({"id": "counter", "n": item["n"] + 1}, if_version=item["_version"])
                    break
                except Exception as exc:  # SinkConflictError: re-read and retry
                    assert type(exc).__name__ == "SinkConflictError"

    workers = [threading.Thread(target=bump) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    final = table.get("counter")
    assert final is not None and final["n"] == 120
    sequences = [int(c.sequence) for c in changes if isinstance(c, NoSqlChange) and c.sequence]
    assert sequences == sorted(sequences) and len(sequences) == 121


def test_two_backends_share_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    spec = make_spec("table", "devices", key="id")
    one, two = SqliteTable(spec, url), SqliteTable(spec, url)
    one.put({"id": "x", "v": 1})
    assert two.get("x") == {"id": "x", "v": 1, "_version": 1}
    assert (tmp_path / "shared.db-wal").exists()  # WAL mode


def test_numeric_keys_sort_as_numbers(tmp_path: Path) -> None:
    table = SqliteTable(make_spec("table", "readings", key="device", sort_key="at"), "sqlite://")
    for at in (10, 9, 100):
        table.put({"device": 1, "at": at})
    assert [i["at"] for i in table.query(1)] == [9, 10, 100]
    assert [i["at"] for i in table.query(1, sort_op=">=", sort_value=10)] == [10, 100]


def test_sequence_is_monotonic_across_processes(tmp_path: Path, changes: list[Event]) -> None:
    """The local runtime and a script may write one table file: the per-table sequence lives in
    the database, so changes stay ordered whoever wrote them."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'tables.db'}"
    script = (
        "from corefn.sinks.sqlite import SqliteTable\n"
        "from corefn.specs import SinkSpec\n"
        f"t = SqliteTable(SinkSpec('table', 'devices', {{'key': 'id'}}), {url!r})\n"
        "for i in range(3): t.put({'id': str(i)})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    table = SqliteTable(make_spec("table", "devices", key="id"), url)
    table.put({"id": "mine"})
    assert [c.sequence for c in changes if isinstance(c, NoSqlChange)] == ["4"]
    assert [i["id"] for i in table.query("0")] == ["0"]
