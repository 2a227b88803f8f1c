"""The app the Knative tests serve and deploy: one handler of every kind Knative feeds,
recording what it received.

``RECEIVED`` collects (handler name, event) pairs; ``FAIL`` names handlers that raise while the
test wants them to (a failing handler must never be acknowledged with a 2xx).
"""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.events import HttpRequest

app = App("kn-test")
RECEIVED: list[tuple[str, Any]] = []
FAIL: dict[str, int] = {}  # handler → how many more calls should fail

reports = app.object_store("reports")
readings_db = app.sql("readings-db")


def _record(name: str, event: Any) -> None:
    RECEIVED.append((name, event))
    if FAIL.get(name, 0) > 0:
        FAIL[name] -= 1
        raise RuntimeError(f"{name} failed on purpose")


@app.get("/devices/{id}", memory=256, timeout=30, concurrency=10, uses=[reports])
def get_device(request: HttpRequest) -> dict[str, Any]:
    _record("get_device", request)
    return {"id": request.params["id"], "q": request.query.get_all("q")}


@app.get("/health")
def health(request: HttpRequest) -> str:
    return "ok"


@app.storage("originals", on=("created", "deleted"), max_attempts=4, dead_letter="originals-dead")
def on_upload(event: Any) -> None:
    _record("on_upload", event)


@app.topic("orders", provider={"knative": {"type": "com.example.orders.placed"}}, max_attempts=3)
def on_order(message: Any, ctx: Any) -> None:
    _record("on_order", message)


alerts_out = app.publisher("alerts", target="topic")


@app.topic("alerts")
def on_alert(message: Any) -> None:
    _record("on_alert", message)


@app.queue("jobs", warm=True)
def on_job(message: Any) -> None:
    _record("on_job", message)


@app.stream("telemetry", start="earliest", env={"LOG_LEVEL": "debug"}, max_attempts=0, backoff=2)
def on_reading(record: Any) -> None:
    _record("on_reading", record)


@app.timer("0 3 * * *", tz="Europe/Paris", max_attempts=3)
def nightly(event: Any) -> None:
    _record("nightly", event)
