"""The local console in the browser: ``corefn run`` serves it under ``/_corefn/``.

One self-contained HTML page (:mod:`corefn.local.console_page`: inline CSS, inline JS, the app's
graph as inline SVG from :mod:`corefn.local.graph`; no CDN, no network) and small JSON endpoints:

- ``GET /_corefn/api/state``: handlers with their counts, queue depths (waiting, delayed for a
  retry, in flight), stream positions per partition, timers' next fire in their zone and in UTC,
  what runs now, the latest invocations, dead letters, and flow runs when the app has flows;
- ``POST /_corefn/api/redrive`` ``{"ids": [...]}`` or ``{"all": true}``: dead letters back to
  their handlers, attempts reset (:func:`corefn.local.dead.redrive`).

Who may use it: loopback peers only (403 otherwise, even when ``--host 0.0.0.0`` exposes the
app's routes); a ``Host`` header naming something other than the loopback is refused too (DNS
rebinding), and the redrive call needs the ``x-corefn-console`` header, which a page of another
origin cannot send without a CORS preflight this server never grants. The app itself may not
declare routes under ``/_corefn`` (refused at declaration).
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from corefn.local.console import CONSOLE_PREFIX

if TYPE_CHECKING:
    from corefn.local.runner import Runtime

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RECENT_SHOWN = 60
DEAD_SHOWN = 100
FLOWS_SHOWN = 30


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _host_ok(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1").rsplit(":", 1)[0] if not value.startswith(b"[") else value.decode("latin-1").split("]")[0] + "]"
            return is_loopback(host)
    return True  # HTTP/1.0 without Host: the peer check alone


class WebConsole:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._page: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = (scope.get("client") or (None,))[0]
        if not is_loopback(peer) or not _host_ok(scope):
            await _answer(send, 403, b'{"error":"the corefn console answers loopback clients only"}')
            return
        path, method = scope["path"], scope["method"]
        if path in (CONSOLE_PREFIX, CONSOLE_PREFIX + "/") and method in ("GET", "HEAD"):
            await _answer(send, 200, self.page(), "text/html; charset=utf-8")
        elif path == f"{CONSOLE_PREFIX}/api/state" and method == "GET":
            await _answer(send, 200, json.dumps(self.state()).encode())
        elif path == f"{CONSOLE_PREFIX}/api/redrive" and method == "POST":
            await self._redrive(scope, receive, send)
        else:
            await _answer(send, 404, b'{"error":"not found"}')

    def page(self) -> bytes:
        if self._page is None:
            from corefn.local.console_page import render_page

            self._page = render_page(self.runtime.app).encode()
        return self._page

    async def _redrive(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not any(name == b"x-corefn-console" for name, _ in scope["headers"]):
            await _answer(send, 403, b'{"error":"missing x-corefn-console header"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            asked = json.loads(body or b"{}")
            ids = None if asked.get("all") else [int(i) for i in asked["ids"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            await _answer(send, 400, b'{"error":"send {\\"ids\\": [ID, ...]} or {\\"all\\": true}"}')
            return
        from corefn.errors import ConfigurationError
        from corefn.local.dead import redrive

        kinds = {spec.name: spec.kind for spec in self.runtime.app.handlers}
        try:
            moved = redrive(self.runtime.store, ids, None, kinds)
        except ConfigurationError as exc:
            await _answer(send, 409, json.dumps({"error": str(exc)}).encode())
            return
        for runner in self.runtime.runners.values():
            runner.wake.set()
        self.runtime.console.line(f"console: redriven {len(moved)} dead letter(s): {', '.join(map(str, moved))}")
        await _answer(send, 200, json.dumps({"redriven": moved}).encode())

    # ------------------------------------------------------------------------------- state

    def state(self) -> dict[str, Any]:
        from corefn.local.dead import dead_letters

        runtime, now = self.runtime, time.time()
        db = runtime.store.connect()
        depth: dict[str, dict[str, int]] = {}
        for handler, waiting, delayed, flight in db.execute(
            "SELECT handler, SUM(claimed_at IS NULL AND visible_at<=?1), SUM(claimed_at IS NULL AND visible_at>?1),"
            " SUM(claimed_at IS NOT NULL) FROM deliveries WHERE handler IS NOT NULL GROUP BY handler",
            (now,),
        ):
            depth[str(handler)] = {"waiting": int(waiting or 0), "delayed": int(delayed or 0), "in_flight": int(flight or 0)}
        unrouted = {str(r): int(n) for r, n in db.execute("SELECT resource, COUNT(*) FROM deliveries WHERE handler IS NULL GROUP BY resource")}
        dead_counts = {str(h): int(n) for h, n in db.execute("SELECT handler, COUNT(*) FROM dead GROUP BY handler")}
        handlers = []
        for spec in runtime.app.handlers:
            tally = runtime.console.tallies.get(spec.name)
            counts = {k: getattr(tally, k, 0) for k in ("ok", "retried", "dead", "skipped", "replayed")}
            handlers.append({
                "name": spec.name, "kind": spec.kind, "resource": spec.resource, "ordered": spec.ordered,
                "idempotent": spec.options.idempotent is not None, **counts,
                "queue": depth.get(spec.name, {"waiting": 0, "delayed": 0, "in_flight": 0}),
                "dead_letters": dead_counts.get(spec.name, 0),
            })
        return {
            "app": runtime.app.name,
            "now": now,
            "handlers": handlers,
            "unrouted": unrouted,
            "streams": self._streams(db),
            "timers": self._timers(),
            "running": [
                {**entry, "elapsed_ms": round((now - entry["started"]) * 1000, 1)}
                for entry in list(runtime.console.running.values())
            ],
            "recent": list(runtime.console.recent)[-RECENT_SHOWN:][::-1],
            "dead": [d.summary() for d in dead_letters(runtime.store, limit=DEAD_SHOWN)],
            "flows": self._flow_runs(now),
        }

    def _flow_runs(self, now: float) -> list[dict[str, Any]]:
        """The latest flow runs (unfinished first) with how many of their steps are done."""
        runner = self.runtime.flows
        if runner is None:
            return []
        db = runner.store.connect()
        rows = db.execute(
            "SELECT r.id, r.flow, r.status, r.started, r.finished, r.error,"
            " (SELECT COUNT(*) FROM flow_steps s WHERE s.run = r.id AND s.status = 'succeeded'),"
            " (SELECT COUNT(*) FROM flow_steps s WHERE s.run = r.id)"
            " FROM flow_runs r ORDER BY r.finished IS NOT NULL, r.rowid DESC LIMIT ?",
            (FLOWS_SHOWN,),
        ).fetchall()
        return [
            {"id": run, "flow": flow, "status": status, "steps_done": int(done), "steps_seen": int(seen), "error": error,
             "elapsed_s": None if started is None else round((finished or now) - started, 3)}
            for run, flow, status, started, finished, error, done, seen in rows
        ]

    def _streams(self, db: Any) -> list[dict[str, Any]]:
        """Per ordered handler and partition: the last sequence it finished (this run), the next
        one waiting and how many wait (the local sequence is the store's delivery number)."""
        specs = {spec.name: spec for spec in self.runtime.app.handlers if spec.ordered and spec.kind != "http"}
        if not specs:
            return []
        marks = ",".join("?" * len(specs))
        waiting = {
            (str(h), str(p)): (int(seq), int(n))
            for h, p, seq, n in db.execute(
                f"SELECT handler, partition, MIN(seq), COUNT(*) FROM deliveries WHERE handler IN ({marks}) GROUP BY handler, partition",
                list(specs),
            )
        }
        positions = {k: v for k, v in self.runtime.console.positions.items() if k[0] in specs}
        out = []
        for handler, partition in sorted(set(waiting) | set(positions)):
            head = waiting.get((handler, partition))
            out.append({
                "handler": handler, "stream": specs[handler].resource, "partition": partition,
                "last_sequence": positions.get((handler, partition)),
                "next_sequence": None if head is None else head[0], "behind": 0 if head is None else head[1],
            })
        return out

    def _timers(self) -> list[dict[str, Any]]:
        from corefn.local.scheduler import next_tick

        now = self.runtime.clock.now()
        out = []
        for spec in self.runtime.app.handlers_of("timer"):
            schedule, tz = spec.trigger.schedule, spec.trigger.tz  # type: ignore[attr-defined]
            tick = next_tick(schedule, tz, now)
            out.append({
                "handler": spec.name, "schedule": schedule, "tz": tz,
                "next_local": f"{tick:%Y-%m-%d %H:%M} {tick.tzname()}",
                "next_utc": f"{tick.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                "in_s": round(tick.timestamp() - now, 1),
                "clock": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            })
        return out


async def _answer(send: Send, status: int, body: bytes, content_type: str = "application/json") -> None:
    headers = [
        (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
        # the page runs its own inline script and styles, and talks to this server only
        (b"content-security-policy", b"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:"),
        (b"x-frame-options", b"DENY"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
