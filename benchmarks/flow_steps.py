"""What durability costs per flow step: a chain of no-op invoke handlers run by the local flow
engine (each step's result committed to ``flows.db`` before the next starts), against the same
handlers called one after another through :func:`corefn.dispatch.dispatch` (no durability).

    python benchmarks/flow_steps.py [--steps 200] [--runs 5]

Prints the median time per step of each and their ratio. The engine's cost is dominated by two
SQLite transactions per step (the step's start, its result with its log line) plus one replay
read per earlier step; a pass replays from the root only after a wait or a retry, so a straight
chain pays no replay.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def build(steps: int) -> Any:
    from corefn import App, InvokeEvent
    from corefn.flows import step

    app = App("bench-flow")

    @app.invoke()
    def bump(event: InvokeEvent) -> int:
        return int(event.payload) + 1

    app.flow("chain", [step("bump", name=f"s{i}") for i in range(steps)], timeout=3600)
    return app


def engine_seconds(app: Any, steps: int) -> float:
    from corefn.flows.runner import FlowRunner
    from corefn.flows.store import flow_store_at, start_run
    from corefn.local.console import Console
    from corefn.local.scheduler import Clock

    with tempfile.TemporaryDirectory() as folder, open("/dev/null", "w") as quiet:
        state = Path(folder)
        runner = FlowRunner(app, state, Clock(), Console(stream=quiet, color=False), poll=0.005)
        store = flow_store_at(state)
        started = time.perf_counter()
        run = start_run(state, "chain", 0)
        runner.start()
        while (store.run(run) or {}).get("status") == "running":
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        runner.stop()
        row = store.run(run) or {}
        assert row["status"] == "succeeded" and row["output"] == str(steps), row
    return elapsed


def direct_seconds(app: Any, steps: int) -> float:
    from corefn.context import Context
    from corefn.dispatch import dispatch
    from corefn.events import InvokeEvent

    value = 0
    started = time.perf_counter()
    for _ in range(steps):
        value = dispatch(app, [InvokeEvent(payload=value, name="bump")], Context(app=app), pinned="bump").value()
    elapsed = time.perf_counter() - started
    assert value == steps
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = build(args.steps)
    engine, direct = [], []
    for _ in range(args.runs):  # interleaved, so drift hits both alike
        engine.append(engine_seconds(app, args.steps) / args.steps)
        direct.append(direct_seconds(app, args.steps) / args.steps)
    e, d = statistics.median(engine), statistics.median(direct)
    print(f"flow engine (durable):  {e * 1000:.3f} ms/step")
    print(f"direct dispatch:        {d * 1000:.3f} ms/step")
    print(f"ratio engine/direct:    {e / d:.0f}x  ({args.steps} steps, median of {args.runs} runs)")


if __name__ == "__main__":
    main()
