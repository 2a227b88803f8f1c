"""Flows on Knative: corefn's own engine (:mod:`corefn.flows`, what ``corefn run`` uses) in the
app's container, its state in a table sink the app declares.

Knative has no workflow service, so a flow runs where its steps' code already is: one Knative
Service (``<app>-flows``, the image's runtime with ``COREFN_FLOWS=1``) replays and advances runs
with :func:`corefn.flows.runner.advance`, calling the steps' invoke handlers in process. What
``corefn run`` keeps in ``flows.db`` lives in a table instead, so runs survive the pod, scale to
zero and any replica can pick them up::

    app.table("flow-state", key="pk", sort_key="sk", flow_state=True)   # any table backend

Items (partition key / sort key, the table's own attribute names)::

    run#ID    run            the run: flow, status, input, output, error, deadline, fingerprint...
    run#ID    step#PATH      one step's state (the engine's replay record)
    run#ID    log#SEQ        the step log (time-ordered)
    key#KEY   key            an idempotency key → its run (written if absent: one start per key)
    due       ID             a running run and its ``next_at``: what a pass looks for

Starting a run (``ctx.start_flow`` in any handler's Service, through the adapter's ``start_flow``)
writes its items and pokes the flows Service (``COREFN_FLOW_ENGINE``, best effort); a PingSource
ticks it every minute, which is how waits, retry back-offs and missed pokes are picked up.

Concurrency between replicas: a pass claims a run by moving its ``next_at`` a lease ahead with a
conditional write (``if_version``: optimistic concurrency, which every table backend offers); the
loser of a race skips the run. A replica that dies mid-pass loses its lease, and the run is due
again when the lease ends (:data:`LEASE`): a step running then runs again (at least once, as in
``corefn run`` after ``kill -9``). Differences from ``flows.db``: a step's state and its log line
are two writes, not one transaction (the state is written first: a lost log line never re-runs a
step), and the log's order is its writer's clock.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError, SinkConflictError

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.context import Context
    from corefn.specs import SinkSpec

#: the table option that names the flows' state table
STATE_OPTION = "flow_state"
#: how long a pass holds a run: Knative's default max-revision-timeout-seconds (a request, and so
#: a pass, cannot run longer); a run whose replica died is due again after it
LEASE = 600.0
#: the environment variable holding the flows Service's URL, on every Service that starts runs
ENGINE_ENV = "COREFN_FLOW_ENGINE"
DUE = "due"


def state_table(app: App) -> SinkSpec:
    """The table sink declared with ``flow_state=True`` (see the module docstring)."""
    found = [s for s in app.sinks if s.family == "table" and s.options.get(STATE_OPTION) is True]
    if len(found) != 1 or not found[0].options.get("sort_key"):
        hint = 'app.table("flow-state", key="pk", sort_key="sk", flow_state=True)'
        why = "declares none" if not found else "declares several" if len(found) > 1 else f"has no sort_key on {found[0].name!r}"
        raise ConfigurationError(f"app {app.name!r}: flows on Knative keep their state in one table sink with a sort key ({hint}); it {why}")
    return found[0]


class TableFlowStore:
    """The :class:`~corefn.flows.store.RunStore` methods (and the few a start and a pass add) on
    a table sink."""

    def __init__(self, table: Any, key: str, sort_key: str) -> None:
        self.table = table
        self.key = key
        self.sort_key = sort_key

    @classmethod
    def of(cls, app: App) -> TableFlowStore:
        spec = state_table(app)
        return cls(app.sink(spec.name), str(spec.options.get("key") or "pk"), str(spec.options["sort_key"]))

    # ------------------------------------------------------------------------------ items

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self.table.get(pk, sk)
        return None if found is None else dict(found)

    def _put(self, pk: str, sk: str, fields: dict[str, Any], **condition: Any) -> dict[str, Any]:
        item = {k: v for k, v in fields.items() if v is not None and not k.startswith("_")}
        return dict(self.table.put({**item, self.key: pk, self.sort_key: sk}, **condition))

    def _fields(self, item: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, Any] | None:
        return None if item is None else {name: item.get(name) for name in names}

    # ------------------------------------------------------------------------------- runs

    def create(self, flow: str, input_json: str, key: str | None = None, started_by: str | None = None) -> tuple[str, bool]:
        """A new run (or, for a ``key`` already used, the existing one): ``(id, created)``.

        Written run first, key second (if absent), due entry last, so a crash leaves no key
        pointing nowhere: a run whose start died before its due entry is repaired by the retried
        start (the trigger redelivers the event), which finds the key and makes the run due."""
        run = uuid.uuid4().hex
        self._put(f"run#{run}", "run", {"id": run, "flow": flow, "key": key, "status": "running", "input": input_json,
                                        "started_by": started_by})  # fmt: skip
        if key is not None:
            try:
                self._put(f"key#{key}", "key", {"run": run}, if_absent=True)
            except SinkConflictError:
                self.table.delete(f"run#{run}", "run")
                existing = str((self._get(f"key#{key}", "key") or {}).get("run"))
                self._ensure_due(existing, flow)
                return existing, False
        self._put(DUE, run, {"flow": flow, "next_at": 0.0})
        return run, True

    def _ensure_due(self, run: str, flow: str) -> None:
        item = self._get(f"run#{run}", "run")
        if item is not None and item.get("status") == "running" and item.get("started") is None and self._get(DUE, run) is None:
            self._put(DUE, run, {"flow": flow, "next_at": 0.0})

    def run(self, run: str) -> dict[str, Any] | None:
        from corefn.flows.store import RUN_FIELDS

        found = self._fields(self._get(f"run#{run}", "run"), RUN_FIELDS)
        if found is not None:
            due = self._get(DUE, run)
            found["next_at"] = float(due["next_at"]) if due else None
        return found

    def due(self, now: float, flows: list[str]) -> list[dict[str, Any]]:
        """Running runs of ``flows`` whose next look has come, each with the version of its due
        item (``_due_version``, what :meth:`claim` is conditional on)."""
        out = []
        for item in self.table.query(DUE):
            if item.get("flow") in flows and float(item.get("next_at", 0)) <= now:
                run = self.run(str(item[self.sort_key]))
                if run is not None and run["status"] == "running":
                    run["_due_version"] = item.get("_version")
                    out.append(run)
        return out

    def claim(self, run: dict[str, Any], now: float) -> bool:
        """Hold ``run`` for one pass (its next look a lease ahead); False when another replica
        claimed it first."""
        try:
            self._put(DUE, str(run["id"]), {"flow": run["flow"], "next_at": now + LEASE}, if_version=run.get("_due_version"))
        except SinkConflictError:
            return False
        return True

    def begin_run(self, run: str, now: float, deadline: float, fingerprint: str) -> None:
        item = self._get(f"run#{run}", "run") or {}
        if item.get("started") is None:
            self._put(f"run#{run}", "run", {**item, "started": now, "deadline": deadline, "fingerprint": fingerprint})
            self._log(run, now, None, None, "started", None, None)

    def postpone(self, run: str, at: float) -> None:
        item = self._get(f"run#{run}", "run") or {}
        self._put(DUE, run, {"flow": item.get("flow"), "next_at": at})

    def finish(self, run: str, status: str, now: float, output: str | None = None, error: str | None = None) -> None:
        item = self._get(f"run#{run}", "run") or {}
        self._put(f"run#{run}", "run", {**item, "status": status, "output": output, "error": error, "finished": now})
        self._log(run, now, None, None, status, error, None)
        self.table.delete(DUE, run)

    # ------------------------------------------------------------------------------ steps

    def step(self, run: str, path: str) -> dict[str, Any] | None:
        from corefn.flows.store import STEP_FIELDS

        found = self._fields(self._get(f"run#{run}", f"step#{path}"), STEP_FIELDS)
        if found is not None and found["attempt"] is None:
            found["attempt"] = 0
        return found

    def steps(self, run: str) -> list[dict[str, Any]]:
        from corefn.flows.store import STEP_FIELDS

        items = self.table.query(f"run#{run}", sort_op="begins_with", sort_value="step#")
        return sorted((self._fields(i, STEP_FIELDS) or {} for i in items), key=lambda s: float(s.get("started") or 0))

    def record(
        self, run: str, path: str, name: str, kind: str, status: str, now: float, *, attempt: int | None = None,
        output: str | None = None, error: str | None = None, wake_at: float | None = None, event: str | None = None,
        detail: str | None = None, seconds: float | None = None,
    ) -> None:
        """A step's state (as ``flows.db``'s upsert: ``attempt`` and ``wake_at`` kept when not
        given, ``started`` the first time's), then its log line."""
        old = self._get(f"run#{run}", f"step#{path}") or {}
        fields = {
            "path": path, "name": name, "kind": kind, "status": status,
            "attempt": attempt if attempt is not None else old.get("attempt", 0),
            "output": output, "error": error, "wake_at": wake_at if wake_at is not None else old.get("wake_at"),
            "started": old.get("started", now), "finished": now if status in ("succeeded", "failed") else None,
        }  # fmt: skip
        self._put(f"run#{run}", f"step#{path}", fields)
        if event is not None:
            self._log(run, now, path, name, event, detail, seconds)

    # -------------------------------------------------------------------------------- log

    def _log(self, run: str, at: float, path: str | None, step: str | None, event: str, detail: str | None, seconds: float | None) -> None:
        seq = f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        self._put(f"run#{run}", f"log#{seq}", {"at": at, "path": path, "step": step, "event": event, "detail": detail,
                                                "seconds": seconds})  # fmt: skip

    def log(self, run: str) -> list[dict[str, Any]]:
        items = self.table.query(f"run#{run}", sort_op="begins_with", sort_value="log#")
        rows = sorted(items, key=lambda i: str(i[self.sort_key]))
        return [{"run": run, **{k: i.get(k) for k in ("at", "path", "step", "event", "detail", "seconds")}} for i in rows]


# ------------------------------------------------------------------------------- the engine


def advance_due(app: App, store: TableFlowStore, now: Callable[[], float] = time.time, budget: float = LEASE / 2) -> dict[str, str]:
    """Advance every due run of ``app``'s flows once (passes run until none is due or ``budget``
    seconds are spent, so the request that runs them ends within its timeout); returns run id →
    its status after the pass (``running`` when suspended)."""
    from corefn.flows.runner import advance
    from corefn.flows.spec import check_flow
    from corefn.log import get_logger

    flows = {flow.name: flow for flow in app.flows}
    for flow in flows.values():
        check_flow(app, flow)
    log = get_logger("corefn.flows")
    started, done = now(), {}
    while now() - started < budget:
        runs = [r for r in store.due(now(), list(flows)) if r["id"] not in done]
        if not runs:
            break
        for run in runs:
            run_id, name = str(run["id"]), str(run["flow"])
            if not store.claim(run, now()):
                continue

            def show(path: str, step: str, event: str, detail: str = "", seconds: float | None = None, *, _run: str = run_id,
                     _flow: str = name) -> None:  # fmt: skip
                log.info("flow %s#%s %s %s %s", _flow, _run[:8], step, event, detail)

            try:
                outcome = advance(app, flows[name], run, store, now, show)
            except Exception as error:  # an engine bug must not leave the run claimed forever
                outcome = ("failed", None, f"{type(error).__name__}: {error}")
            if outcome is None:
                done[run_id] = "running"
            else:
                store.finish(run_id, outcome[0], now(), outcome[1], outcome[2])
                done[run_id] = outcome[0]
    return done


def start_flow(ctx: Context, flow: str, payload: str, key: str | None) -> str:
    """``ctx.start_flow`` on Knative: the run's items in the state table, then a poke to the
    flows Service so it starts now rather than at the next minute's tick (best effort)."""
    assert ctx.app is not None
    store = TableFlowStore.of(ctx.app)
    run, created = store.create(flow, payload, key, started_by=ctx.function)
    engine = os.environ.get(ENGINE_ENV)
    if created and engine:
        poke(engine, run)
    return run


def poke(url: str, run: str) -> None:
    """POST a ``dev.corefn.flow.wake`` CloudEvent to the flows Service; a failure is logged, never
    raised (the PingSource tick picks the run up within a minute)."""
    import urllib.request

    headers = {"ce-specversion": "1.0", "ce-id": uuid.uuid4().hex, "ce-type": WAKE_TYPE, "ce-source": "/corefn/flows",
               "ce-subject": run, "content-type": "application/json"}  # fmt: skip
    request = urllib.request.Request(url, data=json.dumps({"run": run}).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except OSError as error:
        from corefn.log import get_logger

        get_logger("corefn.flows").warning("could not wake the flows service at %s: %s (the next tick will)", url, error)


WAKE_TYPE = "dev.corefn.flow.wake"

__all__ = ["ENGINE_ENV", "LEASE", "STATE_OPTION", "WAKE_TYPE", "TableFlowStore", "advance_due", "poke", "start_flow", "state_table"]
