"""Soak: N messages through ``corefn run`` while the runtime is killed (``kill -9``) K times.

    python benchmarks/soak.py [--messages 10000] [--kills 10] [--fail 0.2] [--poison 0.01]
                              [--concurrency 4] [--idempotent | --compare] [--seed 1] [--dir PATH]

The handler fails a share (``--fail``) of its attempts at random and always fails "poison"
messages (``--poison`` of them); on success it appends the message id to a log (its side
effect). The runtime (a real ``corefn run`` subprocess) is killed at K random moments, chosen as
random points of progress (so every kill lands mid-work), restarted each time, then drained with
``--until-idle``. Printed:

- sent, processed (messages whose handler completed), duplicate runs (completions beyond the
  first per message: at-least-once at work), dead letters (and how many of them are poison: the
  others failed at random five times, or lost attempts to kills), lost (neither processed nor
  dead: **must be 0**), still queued (must be 0), msg/s (processed / wall time, restarts
  included; the machine's load moves it a lot);
- with ``--compare``: the same run without and with ``idempotent=True``, side by side. With it,
  duplicate runs are bounded by the messages in flight at the kills (concurrency × kills); without
  it, by everything claimed but not yet acknowledged (claims are batched), i.e. hundreds.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

APP = '''
"""The soak's app: one queue handler, idempotent when SOAK_IDEMPOTENT=1."""
import os
import random

from corefn import App, QueueMessage

app = App("soak")
FAIL = float(os.environ["SOAK_FAIL"])
LOG = os.open(os.environ["SOAK_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


@app.queue("work", idempotent=os.environ.get("SOAK_IDEMPOTENT") == "1" or None)
def handle(message: QueueMessage) -> None:
    if message.text.startswith("poison") or random.random() < FAIL:
        raise RuntimeError("failed on purpose")
    os.write(LOG, (message.id + "\\n").encode())  # the side effect; one small O_APPEND write is atomic
'''


@dataclass(frozen=True)
class Result:
    idempotent: bool
    sent: int
    processed: int
    duplicate_runs: int
    dead: int
    dead_poison: int  # of the dead letters, the messages that always fail
    lost: int
    queued: int
    kills: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds else 0.0


def _completions(log: Path) -> Counter[str]:
    if not log.exists():
        return Counter()
    return Counter(line for line in log.read_text().splitlines() if line)


def _count_lines(log: Path) -> int:
    try:
        with log.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))
    except FileNotFoundError:
        return 0


def run(
    messages: int = 10_000, kills: int = 10, fail: float = 0.2, poison: float = 0.01, concurrency: int = 4,
    idempotent: bool = False, seed: int = 1, folder: Path | None = None, quiet: bool = False,
) -> Result:
    """One soak in ``folder`` (a fresh temporary one by default)."""
    rng = random.Random(seed)
    root = Path(folder or tempfile.mkdtemp(prefix="corefn-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "soak_app.py").write_text(APP)
    state, log = root / "state", root / "completed.log"
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(REPO)]), "COREFN_STATE_DIR": str(state),
        "SOAK_FAIL": str(fail), "SOAK_LOG": str(log), "SOAK_IDEMPOTENT": "1" if idempotent else "0", "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-c", "from corefn.cli import main; main()", "run", "soak_app:app",
        "--concurrency", str(concurrency), "--retry-delay", "0.01",
    ]
    sent = _publish(root, env, messages, poison, rng)
    started = time.perf_counter()
    marks = sorted(rng.uniform(0.05, 0.9) * messages for _ in range(kills))
    done_kills = 0
    for mark in marks:
        proc = subprocess.Popen([*command, "--port", "0"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while _count_lines(log) < mark and proc.poll() is None:
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            done_kills += 1
        proc.wait()
        if not quiet:
            print(f"  kill {done_kills}/{kills} at {_count_lines(log)} completions", file=sys.stderr)
    drain = subprocess.run(
        [*command, "--until-idle"], cwd=root, env=env, capture_output=True, text=True, timeout=3600
    )
    seconds = time.perf_counter() - started
    if drain.returncode not in (0, 1):
        raise RuntimeError(f"the drain failed ({drain.returncode}):\n{drain.stdout[-2000:]}\n{drain.stderr[-2000:]}")
    done = _completions(log)
    with sqlite3.connect(state / "runtime.db") as db:
        dead_rows = db.execute("SELECT id, body FROM dead").fetchall()
        dead_ids = {row[0] for row in dead_rows}
        dead_poison = len({row[0] for row in dead_rows if bytes(row[1] or b"").startswith(b"poison")})
        queued = int(db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])
    lost = len(set(sent) - set(done) - dead_ids)
    return Result(
        idempotent, len(sent), len(done), sum(n - 1 for n in done.values()), len(dead_ids), dead_poison, lost, queued,
        done_kills, seconds,
    )


def _publish(root: Path, env: dict[str, str], messages: int, poison: float, rng: random.Random) -> list[str]:
    """Publish the messages before the first start (the runtime routes them when it starts), in
    a subprocess so this process holds no connection to the store while the runtime is killed."""
    bodies = ["poison" if rng.random() < poison else "ok" for _ in range(messages)]
    script = (
        "import sys, json\n"
        "from corefn.local.publisher import open_backend\n"
        "from corefn.specs import SinkSpec\n"
        "bodies = json.load(sys.stdin)\n"
        "sink = open_backend(SinkSpec('publisher', 'work', {'target': 'queue'}), 'local://work')\n"
        "ids = []\n"
        "for i in range(0, len(bodies), 500):\n"
        "    ids.extend(sink.send_batch(bodies[i:i + 500]))\n"
        "print(json.dumps(ids))\n"
    )
    import json

    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, input=json.dumps(bodies), capture_output=True, text=True, check=True)
    ids: list[str] = json.loads(out.stdout)
    return ids


def report(results: list[Result]) -> str:
    rows = [
        ("idempotent", *("yes" if r.idempotent else "no" for r in results)),
        ("sent", *(str(r.sent) for r in results)),
        ("processed", *(str(r.processed) for r in results)),
        ("duplicate runs", *(str(r.duplicate_runs) for r in results)),
        ("dead letters", *(str(r.dead) for r in results)),
        ("  of them poison", *(str(r.dead_poison) for r in results)),
        ("lost", *(str(r.lost) for r in results)),
        ("still queued", *(str(r.queued) for r in results)),
        ("kills (kill -9)", *(str(r.kills) for r in results)),
        ("msg/s", *(f"{r.rate:.0f}" for r in results)),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  " + "  ".join(f"{v:>10}" for v in values) for name, *values in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--fail", type=float, default=0.2, help="share of attempts that fail at random")
    parser.add_argument("--poison", type=float, default=0.01, help="share of messages that always fail")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="work folder (default: a new temporary one per run)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--idempotent", action="store_true", help="the handler declares idempotent=True")
    mode.add_argument("--compare", action="store_true", help="run without, then with idempotent=True")
    args = parser.parse_args()
    modes = [False, True] if args.compare else [args.idempotent]
    results = []
    for idempotent in modes:
        folder = args.dir / ("idempotent" if idempotent else "plain") if args.dir else None
        results.append(run(args.messages, args.kills, args.fail, args.poison, args.concurrency, idempotent, args.seed, folder))
    print(report(results))
    if any(r.lost or r.queued for r in results):
        print("LOST MESSAGES", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
