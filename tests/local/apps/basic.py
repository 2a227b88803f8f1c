"""The app the local runtime's integration tests run with ``corefn run`` in a subprocess.

Handlers record what they saw as JSON lines in ``$COREFN_TEST_OUT/<handler>.jsonl`` so the test
process can check counts, attempts and order without sharing memory with the runtime.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from corefn import App
from corefn.events import HttpRequest, NoSqlChange, QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage

app = App("local-tests")
originals = app.object_store("originals")
devices = app.table("devices")
jobs = app.publisher("jobs")


def record(name: str, **fields: Any) -> None:
    out = Path(os.environ["COREFN_TEST_OUT"]) / f"{name}.jsonl"
    with out.open("a") as f:
        f.write(json.dumps(fields) + "\n")
        f.flush()


# ------------------------------------------------------------------------------------ HTTP


@app.get("/hello")
def hello(req: HttpRequest) -> dict[str, Any]:
    return {"hello": req.query.get("name", "world")}


@app.post("/echo")
def echo(req: HttpRequest) -> bytes:
    return req.body.content


@app.get("/secret", api_key=True)
def secret(req: HttpRequest) -> str:
    return "the secret"


@app.get("/slow")
def slow(req: HttpRequest) -> str:
    time.sleep(float(req.query.get("s", "2")))
    return "late"


@app.get("/async/{name}")
async def greet(req: HttpRequest) -> dict[str, Any]:
    import asyncio

    await asyncio.sleep(0)
    return {"hi": req.params["name"]}


@app.post("/upload/{key+}")
def upload(req: HttpRequest) -> dict[str, Any]:
    """Writes through the object sink: the sink's own notification and the folder watcher both
    see this write; the storage handler must run once."""
    info = originals.put(req.params["key"], req.body.content)
    return {"key": info.key, "size": info.size}


@app.delete("/upload/{key+}")
def remove(req: HttpRequest) -> None:
    originals.delete(req.params["key"])


@app.post("/jobs")
def post_job(req: HttpRequest) -> dict[str, Any]:
    return {"id": jobs.send(req.body.content)}


@app.put("/devices/{id}")
def put_device(req: HttpRequest) -> dict[str, Any]:
    return devices.put({"id": req.params["id"], **req.json()})


# -------------------------------------------------------------------------------- triggers


@app.storage("originals", suffix=".jpg")
def on_image(event: StorageEvent) -> None:
    record("on_image", key=event.key, size=event.size, operation=event.operation)


@app.storage("originals", on="deleted", prefix="gone/")
def on_removed(event: StorageEvent) -> None:
    record("on_removed", key=event.key, operation=event.operation)


@app.queue("jobs")
def on_job(msg: QueueMessage) -> None:
    body = msg.text
    if body.startswith("sleep:"):
        time.sleep(float(body.split(":")[1]))
    record("on_job", id=msg.id, body=body, attempt=msg.attempt)
    if body == "fail":
        raise RuntimeError("this job always fails")


@app.queue("risky", dead_letter="risky-dead", max_attempts=2)
def risky(msg: QueueMessage) -> None:
    record("risky", attempt=msg.attempt)
    raise RuntimeError("risky never works")


@app.queue("risky-dead")
def risky_dead(msg: QueueMessage) -> None:
    record("risky_dead", body=msg.text, attributes=dict(msg.attributes))


@app.queue("slowpoke", timeout=0.2, max_attempts=2)
def slowpoke(msg: QueueMessage) -> None:
    record("slowpoke", attempt=msg.attempt)
    time.sleep(0.4)


@app.topic("alerts")
def alert_a(msg: TopicMessage) -> None:
    record("alert_a", body=msg.text)


@app.topic("alerts")
def alert_b(msg: TopicMessage) -> None:
    record("alert_b", body=msg.text)


@app.stream("telemetry")
def on_reading(rec: StreamRecord) -> None:
    """``flaky`` records fail on their first two attempts."""
    body = rec.text
    record("on_reading_try", body=body, key=rec.key, partition=rec.partition)
    if body.endswith("flaky"):
        tries = Path(os.environ["COREFN_TEST_OUT"]) / f"tries-{body}"
        count = int(tries.read_text()) + 1 if tries.exists() else 1
        tries.write_text(str(count))
        if count <= 2:
            raise ValueError(f"{body} fails on attempt {count}")
    record("on_reading", body=body, key=rec.key, partition=rec.partition, sequence=rec.sequence)


@app.nosql("devices")
def on_device(change: NoSqlChange) -> None:
    record("on_device", operation=change.operation, keys=dict(change.keys), new=dict(change.new or {}))


@app.timer("*/30 9-10 * * *", tz="Asia/Seoul")
def seoul_morning(tick: TimerEvent) -> None:
    record("seoul_morning", time=tick.time.isoformat() if tick.time else None, past_due=tick.past_due)


@app.invoke()
def add(event: Any) -> dict[str, Any]:
    payload = event.payload
    return {"sum": payload["a"] + payload["b"]}
