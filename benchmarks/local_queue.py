"""Durable local queue throughput: messages/s through ``corefn run``'s store and workers with a
no-op handler, side by side with raw SQLite batch inserts on the same disk (the floor any
SQLite-backed queue stands on), measured in the same run.

    python benchmarks/local_queue.py [--messages 100000] [--dir PATH]

Prints: raw inserts/s, publish/s (fan-out insert through the publisher), delivered/s in process
(claim, build the QueueMessage, dispatch to the handler, ack: batched transactions), delivered/s
end to end (a ``corefn run APP --until-idle`` process, start-up and the final summary included,
draining the same number of messages published beforehand), and each rate's ratio to raw
inserts.

Target (issue 25): >= 100,000 delivered/s with nothing lost on kill -9 (that half is
tests/reliability's job). On this shared 2-core machine the absolute rates move with the load
(raw inserts have measured from 400,000 to 830,000 rows/s); the ratio to raw inserts of the same
run is the steadier figure, and the verdict line shows both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 100_000

APP = """
from corefn import App

app = App("bench")


@app.queue("bench")
def noop(message):
    return None
"""


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


def end_to_end(folder: Path, count: int, concurrency: int) -> float:
    """``corefn run --until-idle`` in a fresh process over ``count`` messages published before it
    started (a first run records the subscription, so the publish routes them at once)."""
    (folder / "queue_bench_app.py").write_text(APP)
    state = folder / "e2e-state"
    env = {**os.environ, "PYTHONPATH": str(folder), "COREFN_STATE_DIR": str(state)}
    corefn = [str(Path(sys.executable).parent / "corefn"), "run", "queue_bench_app:app", "--until-idle"]
    corefn += ["--concurrency", str(concurrency)]
    subprocess.run(corefn, cwd=folder, env=env, check=True, capture_output=True)
    publish = (
        "from corefn.loader import load_app\n"
        f"app = load_app('queue_bench_app:app')\nsend = app.publisher('bench').send_batch\n"
        f"for i in range(0, {count}, 1000):\n    send([b'{{}}'] * min(1000, {count} - i))\n"
    )
    subprocess.run([sys.executable, "-c", publish], cwd=folder, env=env, check=True)
    started = time.perf_counter()
    done = subprocess.run(corefn, cwd=folder, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    left = sqlite3.connect(state / "runtime.db").execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    assert left == 0, f"{left} messages left after --until-idle:\n{done.stdout}{done.stderr}"
    return count / seconds


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
        e2e = end_to_end(folder, args.messages, args.concurrency)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"messages: {args.messages}, no-op handler, concurrency {args.concurrency}")
    print(f"  raw SQLite batch inserts (floor)        {raw:>10,.0f} rows/s")
    print(f"  corefn publish (batched)                {publish:>10,.0f} msg/s   {publish / raw:.3f} of raw inserts")
    print(f"  corefn deliver, in process              {deliver:>10,.0f} msg/s   {deliver / raw:.3f} of raw inserts")
    print(f"  corefn run --until-idle, end to end     {e2e:>10,.0f} msg/s   {e2e / raw:.3f} of raw inserts")
    met = "MET" if deliver >= TARGET else "MISSED"
    print(f"verdict: delivered {deliver:,.0f}/s in process, {e2e:,.0f}/s end to end (target >= {TARGET:,}) {met} in process, "
          f"{'MET' if e2e >= TARGET else 'MISSED'} end to end")  # fmt: skip


if __name__ == "__main__":
    main()
