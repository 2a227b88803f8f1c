"""A realistic app for the SAM generator tests: every trigger kind, every sink kind, and the
options the generator reads (retries, dead letters, order, API keys, warm-up, time zones)."""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.app import Cors

app = App("image-pipeline", cors=Cors(origins=("https://example.com",)))

originals = app.object_store("originals")
thumbnails = app.object_store("thumbnails")
devices_table = app.table("devices", key="deviceId", sort_key="ts")
sessions = app.cache("sessions")
reports = app.sql("reports")
alerts_out = app.publisher("alerts", target="topic")
outbox = app.publisher("outbox", target="queue")
telemetry_out = app.publisher("telemetry")


@app.storage(
    "originals", on=("created", "deleted"), prefix="uploads/", suffix=".jpg", memory=1024, timeout=60, uses=[originals, thumbnails]
)
def make_thumbnail(event: Any) -> None: ...


@app.http("GET", "/devices/{id}", api_key=True, uses=[devices_table, sessions])
def get_device(req: Any) -> Any: ...


@app.http("*", "/files/{path+}", timeout=45)
def files(req: Any) -> Any: ...


@app.http("GET", "/legacy", provider={"aws": {"api": "rest"}})
def legacy(req: Any) -> Any: ...


@app.queue("orders", max_attempts=3, timeout=20, batch_size=5, uses=[reports, alerts_out])
def take_order(message: Any) -> None: ...


@app.queue("payments", ordered=True, dead_letter="payments-poison")
def take_payment(message: Any) -> None: ...


@app.queue("payments-poison")
def inspect_poison(message: Any) -> None: ...


@app.topic("alerts", uses=["outbox", telemetry_out])
def on_alert(message: Any) -> None: ...


@app.timer("0 9 * * 1-5", tz="Asia/Seoul")
def morning_report(event: Any) -> None: ...


@app.stream("telemetry", start="earliest", max_attempts=10, batch_size=50)
def on_telemetry(record: Any) -> None: ...


@app.nosql("devices")
def on_device_change(change: Any) -> None: ...


@app.invoke("resize", warm=True, concurrency=5)
def resize(event: Any) -> Any: ...
