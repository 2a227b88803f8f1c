"""``corefn flow APP NAME --data JSON``: start one run of a flow and print its step log.
``corefn flow APP``: the runs in the state folder; ``corefn flow APP --show RUN``: one run's step
log and outcome (``RUN``: its id, or the first characters the console prints after ``#``).

The run is recorded in the state folder like any other (``--state`` / ``COREFN_STATE_DIR``). If
no ``corefn run`` holds that folder, this command runs the flow engine itself (resuming any
other unfinished run it finds there too) until its run ends; if one does, that runtime runs the
flow and this command follows the log. Either way it prints each step as it ends and then the
result as JSON. Exit status: 0 when the run succeeded, 1 when it failed or timed out, 2 for a
usage or configuration error (an unknown flow, input that is not JSON or is over the payload
limit).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from corefn.errors import CorefnError


def _fail(message: str) -> NoReturn:
    click.echo(f"corefn flow: {message}", err=True)
    sys.exit(2)


@click.command()
@click.argument("app_ref", metavar="APP")
@click.argument("name", required=False)
@click.option("--data", default="null", help="JSON input of the run (use - to read stdin).")
@click.option("--show", "show_run", metavar="RUN", help="Print the step log of an existing run instead of starting one.")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help="State folder [default: $COREFN_STATE_DIR or .corefn]")
@click.option("--timeout", "wait_for", type=float, default=None, help="Stop following after this many seconds (the run is kept: a running or the next corefn run finishes it).")
def command(app_ref: str, name: str | None, data: str, show_run: str | None, state: Path | None, wait_for: float | None) -> None:
    """Start flow NAME of APP with a JSON input and print its step log (without NAME: list the runs)."""
    if state is not None:
        os.environ["COREFN_STATE_DIR"] = str(state)
    if name is None or show_run is not None:
        try:
            sys.exit(_report(show_run))
        except CorefnError as exc:
            _fail(str(exc))
    try:
        payload = json.loads(sys.stdin.read() if data == "-" else data)
    except json.JSONDecodeError as exc:
        _fail(f"--data is not JSON: {exc}")
    try:
        sys.exit(_run(app_ref, name, payload, wait_for))
    except CorefnError as exc:
        _fail(str(exc))


def _run(app_ref: str, name: str, payload: Any, wait_for: float | None) -> int:
    from corefn.flows.runner import FlowRunner, show_line
    from corefn.flows.spec import check_flow
    from corefn.flows.store import flow_store_at, loads, start_run
    from corefn.loader import load_app
    from corefn.local.console import Console
    from corefn.local.runner import StateLocked, lock_state, prepare_state
    from corefn.local.scheduler import Clock
    from corefn.log import configure
    from corefn.sinks import state_dir

    configure("local")
    state = state_dir()
    prepare_state(state, reset=False)
    app = load_app(app_ref)
    check_flow(app, app.get_flow(name))
    run_id = start_run(state, name, payload, started_by="corefn flow")
    click.echo(f"started {name}#{run_id[:8]} (run {run_id})")
    engine: FlowRunner | None = None
    lock: Any = None
    try:
        lock = lock_state(state)
    except StateLocked:
        click.echo(f"a corefn run holds {state}: it runs the flow; following its log")
    if lock is not None:
        quiet = Console(stream=open(os.devnull, "w"), color=False)  # noqa: SIM115 - closed with the process
        engine = FlowRunner(app, state, Clock.from_env(), quiet)
        engine.start()
    store = flow_store_at(state)
    seen = 0
    limit = None if wait_for is None else time.monotonic() + wait_for
    hint_at = time.monotonic() + 5.0 if engine is None else None
    try:
        while True:
            if hint_at is not None and time.monotonic() > hint_at:
                hint_at = None
                if (store.run(run_id) or {}).get("started") is None:
                    click.echo(f"the corefn run holding {state} has not picked the run up: is it running {app_ref}?")
            for line in store.log(run_id, seen):
                seen = line["seq"]
                step = line["step"] or ""
                click.echo(show_line(name, run_id, step, line["event"], line["detail"] or "", line["seconds"]))
            run = store.run(run_id) or {}
            if run.get("status") in ("succeeded", "failed", "timed_out") and not store.log(run_id, seen):
                break
            if limit is not None and time.monotonic() > limit:
                click.echo(f"still running after {wait_for:g} s; it goes on (state {state})")
                return 1
            time.sleep(0.05)
    finally:
        if engine is not None:
            engine.stop()
        if lock is not None:
            lock.close()
    if run["status"] == "succeeded":
        click.echo(json.dumps(loads(run["output"]), ensure_ascii=False))
        return 0
    click.echo(f"{run['status']}: {run['error']}", err=True)
    return 1


def _report(run_prefix: str | None) -> int:
    """List the runs, or print one run's log; read only (works beside a running runtime)."""
    from datetime import UTC, datetime

    from corefn.errors import ConfigurationError
    from corefn.flows.runner import show_line
    from corefn.flows.store import DB_NAME, flow_store_at, loads
    from corefn.sinks import state_dir

    state = state_dir()
    if not (state / DB_NAME).exists():
        raise ConfigurationError(f"no flow runs in {state} (no {DB_NAME})")
    store = flow_store_at(state)
    runs = store.runs()
    if run_prefix is None:
        for run in runs:
            when = datetime.fromtimestamp(run["started"], UTC).isoformat(timespec="seconds") if run["started"] else "not started"
            click.echo(f"{run['id'][:8]}  {run['flow']:<24} {run['status']:<10} {when}  {run['error'] or ''}".rstrip())
        return 0
    found = [run for run in runs if run["id"].startswith(run_prefix)]
    if len(found) != 1:
        raise ConfigurationError(f"{len(found)} runs start with {run_prefix!r}; give more of the id")
    run = found[0]
    for line in store.log(run["id"]):
        click.echo(show_line(run["flow"], run["id"], line["step"] or "", line["event"], line["detail"] or "", line["seconds"]))
    if run["status"] == "succeeded":
        click.echo(json.dumps(loads(run["output"]), ensure_ascii=False))
        return 0
    click.echo(f"{run['status']}: {run['error'] or 'not finished'}", err=True)
    return 0 if run["status"] == "running" else 1
