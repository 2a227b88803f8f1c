"""The app the GCP tests deploy: one handler of every kind, recording what it received.

``RECEIVED`` collects (handler name, event) pairs; ``FAIL`` names handlers that raise while the
test wants them to (a failing handler must never be acknowledged).
"""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.events import HttpRequest, HttpResponse

app = App("gcp-test")
RECEIVED: list[tuple[str, Any]] = []
FAIL: dict[str, int] = {}  # handler → how many more calls should fail


def _record(name: str, event: Any) -> None:
    RECEIVED.append((name, event))
    if FAIL.get(name, 0) > 0:
        FAIL[name] -= 1
        raise RuntimeError(f"{name} failed on purpose")


@app.http("GET", "/devices/{id}")
def get_device(request: HttpRequest) -> dict[str, Any]:
    _record("get_device", request)
    return {"id": request.params["id"], "q": request.query.get_all("q")}


@app.http("POST", "/thumbnails")
def make_png(request: HttpRequest) -> HttpResponse:
    _record("make_png", request)
    return HttpResponse(201, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" + request.body.content)


@app.storage("originals", on=("created", "deleted"))
def on_upload(event: Any) -> None:
    _record("on_upload", event)


@app.storage("uploads", on="created", suffix=".jpg")
def on_upload_jpg(event: Any) -> None:
    _record("on_upload_jpg", event)


@app.topic("alerts")
def on_alert(message: Any, ctx: Any) -> None:
    _record("on_alert", message)


@app.queue("orders", dead_letter="orders-dead", max_attempts=5)
def on_order(message: Any) -> None:
    _record("on_order", message)


@app.stream("telemetry")
def on_reading(record: Any) -> None:
    _record("on_reading", record)


@app.timer("*/5 * * * *", tz="Asia/Seoul")
def every_five(event: Any) -> None:
    _record("every_five", event)


@app.nosql("devices")
def on_device_change(change: Any) -> None:
    _record("on_device_change", change)


@app.invoke()
def resize(event: Any) -> dict[str, Any]:
    _record("resize", event)
    return {"width": event.payload["width"] // 2}
