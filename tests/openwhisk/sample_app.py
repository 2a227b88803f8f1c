"""The app the OpenWhisk tests deploy: one handler per trigger kind, plus failing ones.

Handlers record what they saw in ``SEEN`` so tests can check the event a handler received.
"""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.context import Context
from corefn.events import (
    HttpRequest,
    HttpResponse,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
)

app = App("owtest")
SEEN: list[Any] = []
thumbnails = app.object_store("thumbnails")


@app.http("GET", "/secret", api_key=True)
def secret(req: HttpRequest) -> str:
    return "s3cret"


@app.http("GET", "/devices/{id}")
def get_device(req: HttpRequest) -> dict[str, Any]:
    return {"id": req.params["id"], "verbose": req.query.get_all("verbose")}


@app.http("POST", "/upload")
def upload(req: HttpRequest) -> HttpResponse:
    data = req.body.content
    return HttpResponse(201, {"content-type": "application/octet-stream", "x-size": str(len(data))}, data[::-1])


@app.http("POST", "/echo")
def echo(req: HttpRequest) -> str:
    return req.text


@app.http("GET", "/boom")
def boom(req: HttpRequest) -> str:
    raise RuntimeError("kaput")


@app.storage("originals", on=("created", "deleted"))
def on_object(event: StorageEvent, ctx: Context) -> None:
    SEEN.append((event, ctx.invocation_id, ctx.remaining()))
    if event.key.startswith("poison"):
        raise ValueError(f"cannot process {event.key}")


@app.stream("mytopic")
def on_record(record: StreamRecord) -> None:
    SEEN.append(record)
    if record.data.text == "bad":
        raise ValueError("bad record")


@app.queue("orders-in", max_attempts=3, dead_letter="orders-poison")
def take_order(message: QueueMessage) -> None:
    SEEN.append(message)
    if message.body.text.startswith("bad"):
        raise ValueError(f"cannot take order {message.body.text!r}")


@app.nosql("orders")
def on_change(change: NoSqlChange) -> None:
    SEEN.append(change)
    if change.keys.get("_id") == "poison":
        raise ValueError("poison change")


@app.timer("0 2 * * *", tz="Asia/Seoul", warm=True)
def nightly_report(event: TimerEvent) -> None:
    SEEN.append(event)


@app.invoke("resize", memory=512, timeout=30)
def resize(event: InvokeEvent) -> Any:
    SEEN.append(event)
    payload = event.payload
    if payload.get("fail"):
        raise RuntimeError("resize failed")
    if payload.get("as_list"):
        return [payload["width"]]
    return {"width": payload["width"] * 2}
