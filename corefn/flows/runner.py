"""The flow engine inside ``corefn run`` (and ``corefn flow``): picks up due runs and advances them.

One loop thread looks for runs whose ``next_at`` has come (runtime clock) and hands each to a
worker thread (at most ``concurrency`` at once; daemon threads, so a step that never returns does
not keep ``corefn run`` from stopping on SIGTERM); a worker makes one :class:`~corefn.flows.engine.Execution`
pass and then records the outcome: finished (succeeded, failed, timed out) or suspended until a
wait or a retry's back-off is over, or the flow's deadline, whichever is first.

A run being advanced has ``next_at`` pushed far out, so the loop does not pick it twice; at
start-up (the runtime holds the state folder's lock, so nobody else is advancing anything) every
running run is made due again: that is the resume after ``kill -9``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from corefn.flows.engine import Execution, FlowTimedOut, StepFailed, Suspend, Terminal
from corefn.flows.spec import FlowSpec, check_flow
from corefn.flows.store import FlowStore, RunStore, flow_store_at, on_start

if TYPE_CHECKING:
    from pathlib import Path

    from corefn.app import App
    from corefn.local.console import Console

IN_FLIGHT = 1e18  # next_at of a run a worker is advancing


class Clock(Protocol):
    def now(self) -> float: ...

    def real_seconds(self, clock_seconds: float) -> float: ...


class FlowRunner:
    def __init__(self, app: App, state: Path, clock: Clock, console: Console, concurrency: int = 4, poll: float = 0.2) -> None:
        self.app = app
        self.flows = {flow.name: flow for flow in app.flows}
        for flow in self.flows.values():
            check_flow(app, flow)
        self.store: FlowStore = flow_store_at(state)
        self.clock = clock
        self.console = console
        self.poll = poll
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.active: set[str] = set()
        self._lock = threading.Lock()
        self.concurrency = max(1, concurrency)
        self._thread: threading.Thread | None = None
        self._unlisten: Any = None

    def start(self) -> int:
        """Resume what a previous run left running; returns how many runs that is."""
        with self.store.connect() as db:
            names = list(self.flows)
            marks = ",".join("?" * len(names))
            resumed = db.execute(f"UPDATE flow_runs SET next_at=0 WHERE status='running' AND flow IN ({marks})", names).rowcount
        self._unlisten = on_start(self.wake.set)
        self._thread = threading.Thread(target=self._loop, name="corefn-flows", daemon=True)
        self._thread.start()
        return int(resumed)

    def busy(self) -> bool:
        return bool(self.active) or self.store.running(list(self.flows)) > 0

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._unlisten is not None:
            self._unlisten()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        deadline = time.monotonic() + 2.0
        while self.active and time.monotonic() < deadline:  # let passes in progress commit; a blocked step is abandoned
            time.sleep(0.01)

    # ------------------------------------------------------------------------------ loop

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                now = self.clock.now()
                for run in self.store.due(now, list(self.flows)):
                    with self._lock:
                        if run["id"] in self.active:
                            continue
                        if len(self.active) >= self.concurrency:
                            break
                        self.active.add(run["id"])
                    self.store.postpone(run["id"], IN_FLIGHT)
                    threading.Thread(target=self._advance, args=(run,), name=f"corefn-flow-{run['id'][:8]}", daemon=True).start()
                wait = self.poll
                due = self.store.next_due(list(self.flows))
                if len(self.active) >= self.concurrency:
                    pass  # saturated: a finishing pass sets `wake`
                elif due is not None and due < IN_FLIGHT:
                    wait = min(wait, max(0.005, self.clock.real_seconds(due - self.clock.now())))
            except Exception as error:  # a locked database: say so, keep going
                self.console.warn(f"flows: {error}")
                wait = 1.0
            self.wake.wait(wait)
            self.wake.clear()

    def _advance(self, run: dict[str, Any]) -> None:
        run_id = str(run["id"])
        try:
            self._pass(run)
        except sqlite3.OperationalError as error:  # a busy or locked database: try again soon
            self.console.warn(f"flow run {run_id}: {error}; trying again in 1 s")
            self.store.postpone(run_id, self.clock.now() + 1.0)
        except Exception as error:  # an engine bug must not leave the run in flight forever
            self.console.warn(f"flow run {run_id}: {type(error).__name__}: {error}")
            self.store.finish(run_id, "failed", self.clock.now(), error=f"{type(error).__name__}: {error}")
        finally:
            with self._lock:
                self.active.discard(run_id)
            self.wake.set()

    def _pass(self, run: dict[str, Any]) -> None:
        run_id, name = str(run["id"]), str(run["flow"])
        outcome = advance(self.app, self.flows[name], run, self.store, self.clock.now, lambda *a: self._show(run_id, name, *a))
        if outcome is not None:
            self._finish(run_id, name, *outcome)

    def _finish(self, run_id: str, name: str, status: str, output: str | None = None, error: str | None = None) -> None:
        self.store.finish(run_id, status, self.clock.now(), output, error)
        tally = self.console.tally(f"flow {name}")
        if status == "succeeded":
            tally.ok += 1
        else:
            tally.dead += 1
        self._show(run_id, name, "", "", status, error or "")

    def _show(self, run_id: str, flow: str, path: str, step: str, event: str, detail: str = "", seconds: float | None = None) -> None:
        style = "red" if event in ("failed", "timed_out") else "yellow" if event in ("retry", "caught") else ""
        self.console.line(show_line(flow, run_id, step, event, detail, seconds), style)


def advance(
    app: App, flow: FlowSpec, run: dict[str, Any], store: RunStore, now: Callable[[], float],
    show: Callable[..., None],
) -> tuple[str, str | None, str | None] | None:
    """One pass over ``run`` (a row of ``store``, which may be any object with the
    :class:`~corefn.flows.store.FlowStore` methods the engine calls): begins it on its first pass,
    then replays and advances it. ``(status, output, error)`` when the run is over, for the caller
    to record with ``store.finish``; None when it is suspended (``store.postpone`` was called with
    its next wake-up). Shared by ``corefn run`` and engines that run flows elsewhere (the Knative
    adapter's, on a table sink)."""
    run_id, name = str(run["id"]), str(run["flow"])
    started = now()
    if run["started"] is None:
        run["deadline"] = started + flow.timeout
        run["fingerprint"] = flow.fingerprint()
        store.begin_run(run_id, started, run["deadline"], run["fingerprint"])
        show("", "", "started")
    elif run["fingerprint"] != flow.fingerprint():
        return "failed", None, f"flow {name!r} changed since this run started; it cannot be resumed"
    execution = Execution(app, flow, run, store, now, show)
    try:
        result = execution.run()
    except Suspend as pause:
        store.postpone(run_id, min(pause.until, float(run["deadline"])))
        return None
    except Terminal as stop:
        return ("timed_out" if isinstance(stop, FlowTimedOut) else "failed"), None, str(stop)
    except StepFailed as failure:
        return "failed", None, str(failure)
    return "succeeded", json.dumps(result, separators=(",", ":")), None


def show_line(flow: str, run_id: str, step: str, event: str, detail: str, seconds: float | None) -> str:
    """One step-log line, as ``corefn run`` and ``corefn flow`` print it."""
    took = f" {seconds * 1000:.1f} ms" if seconds is not None else ""
    where = f" {step}" if step else ""
    return f"{time.strftime('%H:%M:%S')} flow  {flow}#{run_id[:8]}{where} {event}{took}{'  ' + detail if detail else ''}"
