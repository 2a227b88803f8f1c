"""Durable local queue throughput: messages/s through ``corefn run``'s store and workers with a
no-op handler, side by side with raw SQLite batch inserts on the same disk (the floor any
SQLite-backed queue stands on).

    python benchmarks/local_queue.py [--messages 100000] [--dir PATH]

Prints: raw inserts/s, publish/s (fan-out insert through the publisher), delivered/s (claim,
build the QueueMessage, dispatch to the handler, ack — batched transactions), and the ratio of
the delivery rate to raw inserts. Target: >= 10,000 delivered/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path


def raw_inserts(folder: Path, count: int) -> float:
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, id TEXT, body BLOB, created REAL)")
    rows = [(os.urandom(16).hex(), b"{}", time.time()) for _ in range(count)]
    started = time.perf_counter()
    for i in range(0, count, 1000):
        db.execute("BEGIN")
        db.executemany("INSERT INTO m (id, body, created) VALUES (?,?,?)", rows[i : i + 1000])
        db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return count / seconds


def durable_queue(folder: Path, count: int, concurrency: int) -> tuple[float, float]:
    os.environ["COREFN_STATE_DIR"] = str(folder / "state")
    from corefn import App
    from corefn.local.console import Console
    from corefn.local.runner import Runtime, prepare_state
    from corefn.local.settings import Settings
    from corefn.local.store import store_at
    from corefn.sinks import state_dir

    app = App("bench")

    @app.queue("bench")
    def noop(message: object) -> None:
        return None

    state = state_dir()
    prepare_state(state, reset=True)
    settings = Settings(state=state, until_idle=True, concurrency=concurrency, idle_grace=0.0)
    with open(os.devnull, "w") as sink:
        runtime = Runtime(app, settings, Console(stream=sink, color=False))
        store = store_at(state)
        store.subscribe(runtime.subscriptions())
        publisher = app.publisher("bench")
        started = time.perf_counter()
        for i in range(0, count, 1000):
            publisher.send_batch([b"{}"] * min(1000, count - i))
        publish_rate = count / (time.perf_counter() - started)
        started = time.perf_counter()
        runtime.start()
        runtime.run_until_idle()
        deliver_rate = count / (time.perf_counter() - started)
        ok = runtime.console.tallies["noop"].ok
    assert ok == count, f"delivered {ok} of {count}"
    return publish_rate, deliver_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=1, help="worker threads for the no-op handler")
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk to measure (default: a temp dir here)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="corefn-bench-", dir=args.dir or Path.cwd()))
    try:
        raw = raw_inserts(folder, args.messages)
        publish, deliver = durable_queue(folder, args.messages, args.concurrency)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"messages:                 {args.messages}")
    print(f"raw SQLite batch inserts: {raw:>10,.0f} rows/s")
    print(f"corefn publish (batched): {publish:>10,.0f} msg/s")
    print(f"corefn deliver (no-op):   {deliver:>10,.0f} msg/s   (target >= 10,000)")
    print(f"deliver / raw inserts:    {deliver / raw:.3f}")


if __name__ == "__main__":
    main()
