"""``corefn run``: every declared trigger of an app on one machine.

The pieces (each its own module): the durable store (:mod:`.store`), one set of workers per
non-HTTP handler (:mod:`.workers`), the timer thread (:mod:`.scheduler`), the object / table
change feeds (:mod:`.watcher`) and the HTTP server (:mod:`.server`). This module wires them,
owns the state folder, and decides when ``--until-idle`` is done.

State folder (``.corefn/`` by default): one runtime at a time holds ``runtime.lock`` on it. At
start the runtime makes deliveries a killed predecessor had claimed visible again, records who
consumes which queue / topic / stream, routes messages published before anyone consumed them,
catches up on missed timer ticks and scans the watched bucket folders.

``--until-idle``: no HTTP server; the runtime works until nothing is pending (waiting, delayed for
a retry, or in flight — including what the run itself produced), no flow run is unfinished (waits
included: they pass on the runtime's clock) and nothing has moved for a short grace period, then
prints a summary and exits 0, or 1 if anything was dead-lettered or a flow run failed.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corefn import kinds
from corefn.errors import ConfigurationError
from corefn.local import idempotency as local_idempotency
from corefn.local.console import Console
from corefn.local.scheduler import Clock, Scheduler
from corefn.local.store import DB_NAME, Store, on_publish, store_at
from corefn.local.workers import HandlerRunner

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.flows.runner import FlowRunner
    from corefn.local.settings import Settings
    from corefn.local.watcher import ChangeFeed

LOCK_NAME = "runtime.lock"
#: every kind the local runtime queues: all but requests, which answer their caller directly
QUEUED_KINDS = kinds.names("message", "change", "schedule")

README = """\
This folder is corefn's local state (`corefn run`). Safe to delete with `corefn run --reset`.

runtime.db     SQLite (WAL). Tables:
               deliveries     pending / delayed / in-flight deliveries, one row per consuming
                              handler (attempt = deliveries so far, visible_at = when it may be
                              taken again, last_error = why the previous attempt failed);
                              handler NULL = published to something no run has consumed yet
               dead           dead-lettered deliveries, with their last error
               subscriptions  which handler consumes which queue / topic / stream
               objects_seen   the object versions (size, mtime) already announced as events
               timers         when each timer last fired
               idempotency    idempotent handlers' records (in_progress / completed, with
                              the result), committed with the delivery's ack
               Inspect with:  corefn dead APP list / show ID / redrive ID, the console at
                              http://127.0.0.1:PORT/_corefn/, or
                              sqlite3 runtime.db 'select handler, attempt, last_error from dead'
flows.db       SQLite: flow runs (flow_runs), each step's recorded result (flow_steps) and the
               step log (flow_log). Inspect with:
               sqlite3 flows.db 'select flow, status, error from flow_runs'
runtime.lock   held by the running `corefn run` (one runtime per state folder)
objects/NAME/  local object stores (file:// sinks); drop a file in to raise a storage event
tables.db      local NoSQL tables (sqlite:// sinks)
"""


class StateLocked(ConfigurationError):
    pass


def prepare_state(state: Path, reset: bool) -> None:
    """Create (or, with ``reset``, clear) the state folder and write its README."""
    if reset and state.exists():
        ours = (state / DB_NAME).exists() or (state / "README.txt").exists() or not any(state.iterdir())
        if not ours:
            raise ConfigurationError(f"--reset: {state} does not look like a corefn state folder; not deleting it")
        shutil.rmtree(state)
    state.mkdir(parents=True, exist_ok=True)
    readme = state / "README.txt"
    if not readme.exists():
        readme.write_text(README)


def lock_state(state: Path) -> Any:
    """Hold ``runtime.lock`` for the life of the process (released by the OS even on kill -9)."""
    handle = open(state / LOCK_NAME, "a+")  # noqa: SIM115 - kept open on purpose
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # Windows: msvcrt locks a byte range instead
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            handle.close()
            raise StateLocked(f"another corefn run is using {state}; stop it or pass --state DIR") from None
    except BlockingIOError:
        handle.close()
        raise StateLocked(f"another corefn run is using {state}; stop it or pass --state DIR") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Runtime:
    def __init__(self, app: App, settings: Settings, console: Console | None = None, clock: Clock | None = None) -> None:
        self.app = app
        self.settings = settings
        self.console = console or Console()
        self.clock = clock or Clock.from_env()
        self.store: Store = store_at(settings.state)
        self.runners: dict[str, HandlerRunner] = {}
        for kind in QUEUED_KINDS:
            for spec in app.handlers_of(kind):
                self.runners[spec.name] = HandlerRunner(app, spec, self.store, settings, self.console)
        self.wake = {name: runner.wake for name, runner in self.runners.items()}
        self.by_resource: dict[str, list[HandlerRunner]] = {}
        self.feed: ChangeFeed | None = None
        self.scheduler: Scheduler | None = None
        self._lock: Any = None
        self._stop_publish: Any = None
        self.flows: FlowRunner | None = None
        if app.flows:
            from corefn.flows.runner import FlowRunner

            self.flows = FlowRunner(app, settings.state, self.clock, self.console, settings.concurrency)

    # ------------------------------------------------------------------------- start-up

    def subscriptions(self) -> list[tuple[str, str, str, bool]]:
        """(resource, kind, handler, ordered): a queue goes to its first handler (competing
        consumers share one queue; the core resolves one handler per queue), a topic or a
        stream to every handler (each subscription / consumer sees every message)."""
        out: list[tuple[str, str, str, bool]] = []
        taken: set[str] = set()
        for kind in kinds.names("message"):
            for spec in self.app.handlers_of(kind):
                resource = str(spec.resource)
                if kind == "queue" and resource in taken:
                    self.console.warn(f"queue {resource!r} has several handlers; {spec.name} gets nothing locally")
                    continue
                taken.add(resource)
                out.append((resource, kind, spec.name, spec.ordered))
                self.by_resource.setdefault(resource, []).append(self.runners[spec.name])
        return out

    def start(self) -> None:
        from corefn.local.watcher import ChangeFeed

        self._lock = lock_state(self.settings.state)
        local_idempotency.setup(self.store)
        keyed_by_id = [
            s.name for s in self.app.handlers
            if s.options.idempotent is not None and s.options.idempotent.key is None and s.name in self.runners
        ]
        local_idempotency.unclaim_unstarted(self.store, keyed_by_id)  # claimed, never run: no attempt lost
        local_idempotency.recover(self.store)  # in-progress records of a runtime that died
        local_idempotency.sweep(self.store)
        recovered = self.store.recover()
        if recovered:
            self.console.line(f"recovered {recovered} delivery(ies) a previous run had not finished")
        routed = self.store.subscribe(self.subscriptions())
        if routed:
            self.console.line(f"routed {routed} message(s) published before this run")
        self._stop_publish = on_publish(self._published)
        self.feed = ChangeFeed(self.app, self.store, self.console, self.wake)
        self.feed.listen()
        timers = self.app.handlers_of("timer")
        self.scheduler = Scheduler(timers, self.store, self.console, self.clock, self.wake)
        self.banner()
        self.scheduler.catch_up()
        if self.flows is not None:
            resumed = self.flows.start()
            if resumed:
                self.console.line(f"resumed {resumed} flow run(s) a previous run had not finished")
        # Watch first, then scan: a file dropped between the two would otherwise be announced by
        # neither. Both paths record (size, mtime) with the enqueue in one transaction, so a file
        # seen by both is delivered once. With --until-idle the watch matters too: files the run
        # itself writes to watched folders count.
        self.feed.watch()
        found = self.feed.scan()
        if found:
            self.console.line(f"found {found} object change(s) in watched folders not yet processed")
        for runner in self.runners.values():
            runner.start()
        if not self.settings.until_idle and timers:
            self.scheduler.start()

    def _published(self, resource: str) -> None:
        for runner in self.by_resource.get(resource, ()):
            runner.wake.set()

    def banner(self) -> None:
        c, s = self.console, self.settings
        c.line(f"corefn run: app {self.app.name!r}, state {s.state}", "bold")
        for spec in self.app.handlers:
            c.line(f"  {spec.kind:<8} {self._trigger_text(spec):<48} -> {spec.name}")
        for flow in self.app.flows:
            c.line(f"  {'flow':<8} {'corefn flow APP ' + flow.name + ' --data JSON':<48} -> {flow.name} (timeout {flow.timeout:g} s)")

    def _trigger_text(self, spec: Any) -> str:
        t, s = spec.trigger, self.settings
        if spec.kind == "http":
            key = " [api key]" if spec.options.api_key else ""
            key += " [jwt]" if spec.options.auth else ""
            where = "" if s.until_idle else f" http://{s.host}:{s.port}{t.route}"
            return f"{','.join(t.methods)} {t.route}{key}{where}"
        if spec.kind == "timer":
            return Scheduler.describe(spec, self.clock.now())
        if spec.kind == "storage":
            folder = self.feed.folders.get(t.bucket) if self.feed else None
            filters = "".join(f" {k}={v!r}" for k, v in (("prefix", t.prefix), ("suffix", t.suffix)) if v)
            return f"{t.bucket} on {'/'.join(t.operations)}{filters}" + (f" (folder {folder})" if folder else "")
        if spec.kind == "invoke":
            return f"corefn invoke APP {spec.name} --data JSON"
        attempts = spec.options.max_attempts or s.max_attempts
        once = ", idempotent" if spec.options.idempotent is not None else ""
        return f"{spec.resource}{' (ordered)' if spec.ordered else ''}, max {attempts} attempts{once}"

    # ---------------------------------------------------------------------------- running

    def run_until_idle(self) -> int:
        """Block until idle; returns the exit status (0, or 1 if anything was dead-lettered)."""
        names = list(self.runners)
        quiet_since: float | None = None
        while True:
            busy = (
                self.store.has_pending(names)
                or (self.feed is not None and self.feed.busy)
                or (self.flows is not None and self.flows.busy())
            )
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= self.settings.idle_grace:
                break
            time.sleep(0.02 if busy else 0.05)
        self.stop()
        self.console.summary()
        return 1 if self.console.dead_total else 0

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop.set()
            runner.wake.set()
        if self.scheduler is not None:
            self.scheduler.stop.set()
        if self.feed is not None:
            self.feed.close()
        if self._stop_publish is not None:
            self._stop_publish()
        if self.flows is not None:
            self.flows.stop()
        for runner in self.runners.values():
            for thread in runner.threads:
                thread.join(timeout=2.0)

    def wait_forever(self) -> None:
        """Without HTTP routes: wait for SIGINT / SIGTERM."""
        import signal

        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        while not done.wait(1.0):
            pass
        self.stop()
