"""A corefn app with one handler of every kind Azure serves, used by the Azure tests.

Handlers record what they saw in ``SEEN`` (handler name → list of events) so tests can check
that the generated function app reached the portable handler with the right event. The
``copy_blob`` handler copies the triggering blob to the ``copies`` container of the storage
account named by ``COREFN_TEST_BLOB_CONN`` (set by the Azurite test).
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from corefn import App
from corefn.context import Context
from corefn.dispatch import Batch
from corefn.events import (
    HttpRequest,
    HttpResponse,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
)

app = App("azure-sample")
devices = app.table("devices", key="deviceId")
SEEN: dict[str, list[Any]] = defaultdict(list)


@app.http("GET", "/devices/{id}")
def get_device(req: HttpRequest) -> dict[str, Any]:
    SEEN["get_device"].append(req)
    return {"id": req.params["id"], "tags": req.query.get_all("tag")}


@app.http("POST", "/thumbs/{name}")
def make_thumb(req: HttpRequest) -> HttpResponse:
    SEEN["make_thumb"].append(req)
    return HttpResponse(201, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" + req.body.content, cookies=("a=1", "b=2"))


@app.storage("originals", suffix=".jpg")
def copy_blob(event: StorageEvent, ctx: Context) -> None:
    SEEN["copy_blob"].append(event)
    conn = os.environ.get("COREFN_TEST_BLOB_CONN")
    if conn:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(conn)
        data = service.get_blob_client(event.bucket, event.key).download_blob().readall()
        service.get_blob_client("copies", event.key).upload_blob(data, overwrite=True)


@app.storage("uploads", on=("created", "deleted"))
def on_upload(event: StorageEvent) -> None:
    SEEN["on_upload"].append(event)


@app.queue("orders")
def take_order(msg: QueueMessage) -> None:
    SEEN["take_order"].append(msg)
    if msg.text == "fail":
        raise RuntimeError("order rejected")


@app.queue("payments", provider={"azure": {"service": "servicebus"}}, ordered=True)
def take_payment(msg: QueueMessage) -> None:
    SEEN["take_payment"].append(msg)


@app.topic("alerts", subscription="pager")
def page(msg: TopicMessage) -> None:
    SEEN["page"].append(msg)


@app.timer("*/5 * * * *")
def tick(event: TimerEvent) -> None:
    SEEN["tick"].append(event)


@app.timer("0 9 * * *", tz="Asia/Seoul", name="seoul-morning")
def seoul(event: TimerEvent) -> None:
    SEEN["seoul-morning"].append(event)


@app.stream("telemetry")
def telemetry(record: StreamRecord) -> None:
    SEEN["telemetry"].append(record)


@app.stream("clicks", batch=True)
def clicks(batch: Batch) -> None:
    SEEN["clicks"].extend(batch)


@app.nosql("devices")
def device_changed(change: NoSqlChange) -> None:
    SEEN["device_changed"].append(change)
