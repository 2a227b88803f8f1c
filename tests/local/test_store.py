"""The durable store and the ``local://`` publisher, without a runtime process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corefn.local import store as store_module
from corefn.local.publisher import open_backend
from corefn.local.store import Store, shard_of
from corefn.sinks.base import Publisher
from corefn.specs import SinkSpec
from tests.sinks.contract import PublisherContract, Received


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    yield tmp_path
    store_module._stores.clear()


@pytest.fixture
def db(state: Path) -> Store:
    return store_module.store_at(state)


class TestLocalPublisher(PublisherContract):
    ordered = True  # the contract's reader subscribes as an ordered (FIFO) consumer
    receive_timeout = 2.0

    @pytest.fixture
    def publisher(self, db: Store) -> Publisher:
        db.subscribe([("contract", "queue", "reader", True)])
        return open_backend(SinkSpec("publisher", "contract"), "local://contract")

    @pytest.fixture
    def receive(self, db: Store) -> Any:
        def receive(count: int, timeout: float = 2.0) -> list[Received]:
            got: list[Received] = []
            deadline = time.time() + timeout
            while len(got) < count and time.time() < deadline:
                rows = db.claim("reader", 100, 30, ordered=True)
                got += [Received(r.body, r.attributes, r.key) for r in rows]
                db.settle([r.seq for r in rows], [], [])
            return got

        return receive


def test_claimed_rows_are_invisible_until_settled_and_recovered_after_a_crash(db: Store) -> None:
    db.subscribe([("q", "queue", "h", False)])
    db.publish("q", [(b"one", None, None), (b"two", None, None)])
    first = db.claim("h", 10, visibility=60, ordered=False)
    assert [r.body for r in first] == [b"one", b"two"] and [r.attempt for r in first] == [1, 1]
    assert db.claim("h", 10, visibility=60, ordered=False) == []  # in flight: invisible
    assert db.pending(["h"]) == 2
    assert db.recover() == 2  # what a new runtime does after kill -9
    again = db.claim("h", 10, visibility=60, ordered=False)
    assert [r.attempt for r in again] == [2, 2]


def test_visibility_timeout_expires(db: Store) -> None:
    db.subscribe([("q", "queue", "h", False)])
    db.publish("q", [(b"x", None, None)])
    assert len(db.claim("h", 1, visibility=0.05, ordered=False)) == 1
    time.sleep(0.08)
    assert [r.attempt for r in db.claim("h", 1, visibility=30, ordered=False)] == [2]


def test_settle_retries_later_and_dead_letters(db: Store) -> None:
    db.subscribe([("q", "queue", "h", False)])
    db.publish("q", [(b"ok", None, None), (b"retry", None, None), (b"dead", None, None)])
    ok, retry, dead = db.claim("h", 10, 30, ordered=False)
    db.settle([ok.seq], [(retry.seq, 0.1, "boom")], [(dead.seq, "poison")])
    assert db.claim("h", 10, 30, ordered=False) == []  # the retry waits for its back-off
    assert db.pending(["h"]) == 1
    time.sleep(0.12)
    assert [r.body for r in db.claim("h", 10, 30, ordered=False)] == [b"retry"]
    (letter,) = db.dead_letters("h")
    assert letter["body"] == b"dead" and letter["error"] == "poison" and letter["attempt"] == 1


def test_ordered_claims_only_the_head_of_each_partition(db: Store) -> None:
    db.subscribe([("s", "stream", "h", True)])
    keys = ["k1", "k1", "k2", "k1", "k2"]
    db.publish("s", [(f"m{i}".encode(), None, k) for i, k in enumerate(keys)])
    heads = db.claim("h", 10, 30, ordered=True)
    partitions = {shard_of("k1"), shard_of("k2")}
    assert len(heads) == len(partitions) and heads[0].body == b"m0"
    assert db.claim("h", 10, 30, ordered=True) == []  # heads in flight block their partitions
    db.settle([], [(heads[0].seq, 0, "fail")], [])
    again = db.claim("h", 10, 30, ordered=True)
    assert again[0].body == b"m0" and again[0].attempt == 2  # retried before anything after it


def test_messages_published_before_anyone_subscribed_are_routed_later(db: Store) -> None:
    db.publish("t", [(b"early", {"a": "1"}, None)], target="topic")
    assert db.pending(["x", "y"]) == 0
    assert db.subscribe([("t", "topic", "x", False), ("t", "topic", "y", False)]) == 1
    for handler in ("x", "y"):
        (row,) = db.claim(handler, 10, 30, ordered=False)
        assert row.body == b"early" and row.attributes == {"a": "1"} and row.kind == "topic"


def test_shards_are_stable_across_processes() -> None:
    assert shard_of("device-1") == shard_of("device-1")
    assert {shard_of(f"d{i}") for i in range(100)} == {"0", "1", "2", "3"}


def test_backoff_doubles_up_to_the_cap(tmp_path: Path) -> None:
    from corefn.local.settings import Settings

    s = Settings(state=tmp_path, retry_delay=0.5, retry_cap=3)
    assert [s.backoff(a) for a in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 3, 3]


def test_reset_refuses_a_folder_that_is_not_a_state_folder(tmp_path: Path) -> None:
    from corefn.errors import ConfigurationError
    from corefn.local.runner import prepare_state

    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigurationError):
        prepare_state(tmp_path, reset=True)
    assert (tmp_path / "precious.txt").exists()
    state = tmp_path / "state"
    prepare_state(state, reset=False)
    assert "runtime.db" in (state / "README.txt").read_text()
    (state / "runtime.db").write_bytes(b"")
    prepare_state(state, reset=True)
    assert sorted(p.name for p in state.iterdir()) == ["README.txt"]


def test_a_message_that_kills_the_runtime_every_time_is_dead_lettered(db: Store, tmp_path: Path) -> None:
    import io

    from corefn import App
    from corefn.local.console import Console
    from corefn.local.settings import Settings
    from corefn.local.workers import HandlerRunner

    app = App("crashy")
    ran: list[str] = []

    @app.queue("q")
    def handler(message: object) -> None:
        ran.append("ran")

    db.subscribe([("q", "queue", "handler", False)])
    db.publish("q", [(b"deadly", None, None)])
    for _ in range(3):  # three runtimes died in it: claimed, never settled, recovered
        db.claim("handler", 1, 30, ordered=False)
        db.recover()
    console = Console(stream=io.StringIO(), color=False)
    runner = HandlerRunner(app, app.handler("handler"), db, Settings(state=tmp_path, max_attempts=3), console)
    runner.run(db.claim("handler", 1, 30, ordered=False))
    assert ran == [] and console.tallies["handler"].dead == 1
    assert db.pending(["handler"]) == 0 and db.dead_letters("handler")[0]["attempt"] == 4


def test_the_claim_walks_the_backlog_in_order_past_rows_that_are_not_due(db: Store) -> None:
    """The claim reads a (handler, seq) index and stops at its limit: rows in flight or waiting
    for a retry at the head are stepped over, the next due rows come in publish order."""
    db.subscribe([("q", "queue", "h", False)])
    db.publish("q", [(f"m{i}".encode(), None, None) for i in range(6)])
    head = db.claim("h", 2, visibility=60, ordered=False)  # m0, m1 now in flight
    db.settle([], [(head[0].seq, 60.0, "later")], [])  # m0 waits a minute for its retry
    assert [r.body for r in db.claim("h", 3, visibility=60, ordered=False)] == [b"m2", b"m3", b"m4"]
    assert [r.body for r in db.claim("h", 3, visibility=60, ordered=False)] == [b"m5"]
    assert db.next_visible("h") is not None and db.pending(["h"]) == 6 and db.has_pending(["h"])
    assert not db.has_pending(["other"]) and not db.has_pending([])


def _runner(app: Any, db: Store, tmp_path: Path, name: str) -> tuple[Any, Any]:
    import io

    from corefn.local.console import Console
    from corefn.local.settings import Settings
    from corefn.local.workers import HandlerRunner

    console = Console(stream=io.StringIO(), color=False)
    return HandlerRunner(app, app.handler(name), db, Settings(state=tmp_path), console), console


def test_a_claim_runs_as_one_dispatch_yet_each_message_succeeds_or_fails_alone(db: Store, tmp_path: Path) -> None:
    from corefn import App, QueueMessage

    app = App("chunked")
    seen: list[str] = []

    @app.queue("q")
    def handler(message: QueueMessage) -> None:
        seen.append(message.text)
        if message.text.endswith("7"):
            raise ValueError("ends with 7")

    db.subscribe([("q", "queue", "handler", False)])
    bodies = [f"m{i}" for i in range(600)]  # more than one claim's worth
    db.publish("q", [(b.encode(), None, None) for b in bodies])
    runner, console = _runner(app, db, tmp_path, "handler")
    assert runner.chunked
    while rows := db.claim("handler", 512, 30, ordered=False):
        runner.run(rows)
    failing = [b for b in bodies if b.endswith("7")]
    assert seen == bodies  # each message run once, in order
    assert console.tallies["handler"].ok == 600 - len(failing) and console.tallies["handler"].retried == len(failing)
    assert db.pending(["handler"]) == len(failing)  # only the failures wait for a retry, attempt 1 counted
    rows = db.connect().execute("SELECT body, attempt, last_error FROM deliveries ORDER BY seq").fetchall()
    assert [bytes(b).decode() for b, _, _ in rows] == failing
    assert {(a, e) for _, a, e in rows} == {(1, "ValueError: ends with 7")}


def test_a_row_that_cannot_become_an_event_fails_alone(db: Store, tmp_path: Path) -> None:
    from corefn import App, StorageEvent
    from corefn.local.store import NewDelivery

    app = App("broken-row")
    seen: list[str] = []

    @app.storage("uploads")
    def handler(event: StorageEvent) -> None:
        seen.append(event.key)

    good = {"key": "a.txt", "operation": "created", "size": 1, "time": "2026-01-01T00:00:00Z"}
    db.insert([
        NewDelivery("storage", "uploads", "handler", meta={"operation": "created"}),  # no key: cannot be read
        NewDelivery("storage", "uploads", "handler", meta=good),
    ])  # fmt: skip
    runner, console = _runner(app, db, tmp_path, "handler")
    runner.run(db.claim("handler", 10, 30, ordered=False))
    assert seen == ["a.txt"]
    assert console.tallies["handler"].ok == 1 and console.tallies["handler"].retried == 1
    (left,) = db.connect().execute("SELECT meta, last_error FROM deliveries").fetchall()
    assert "a.txt" not in left[0] and left[1].startswith("KeyError")
