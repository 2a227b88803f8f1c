"""The app the reliability tests run with ``corefn run``: an idempotent queue handler, one that
fails on demand (dead letters to list and redrive), a topic with two subscribers, a timer in
Seoul time and an HTTP route (the console's graph and live invocations).

Handlers append what they saw to ``$COREFN_TEST_OUT/<handler>.jsonl``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from corefn import App, HttpRequest, InvokeEvent, QueueMessage, StreamRecord, TimerEvent, TopicMessage
from corefn.flows import step

app = App("reliable")
ledger = app.table("ledger")
audit = app.publisher("audit", target="queue")


def record(name: str, **fields: Any) -> None:
    out = Path(os.environ["COREFN_TEST_OUT"]) / f"{name}.jsonl"
    with out.open("a") as f:
        f.write(json.dumps(fields) + "\n")


@app.queue("payments", idempotent=True, concurrency=4)
def pay(message: QueueMessage) -> dict[str, Any]:
    """``sleep:S`` holds the run S seconds (so duplicates overlap)."""
    record("pay", id=message.id, body=message.text, attempt=message.attempt)
    if message.text.startswith("sleep:"):
        time.sleep(float(message.text.split(":", 1)[1]))
    return {"paid": message.text}


@app.queue("jobs", max_attempts=2)
def work(message: QueueMessage) -> None:
    """Fails while the file ``$COREFN_TEST_OUT/broken`` exists and the body is ``fragile``."""
    record("work", id=message.id, body=message.text, attempt=message.attempt)
    if message.text == "poison" or (message.text == "fragile" and (Path(os.environ["COREFN_TEST_OUT"]) / "broken").exists()):
        raise ValueError(f"cannot process {message.text!r}")


@app.queue("jobs-retry")
def rework(message: QueueMessage) -> None:
    record("rework", id=message.id, body=message.text, attempt=message.attempt)


@app.topic("alerts")
def alert_a(message: TopicMessage) -> None:
    record("alert_a", body=message.text)


@app.topic("alerts")
def alert_b(message: TopicMessage) -> None:
    ledger.put({"id": message.text})


@app.stream("clicks")
def click(record_: StreamRecord) -> None:
    record("click", partition=record_.partition, sequence=record_.sequence, key=record_.key)


@app.timer("0 9 * * *", tz="Asia/Seoul")
def morning(tick: TimerEvent) -> None:
    record("morning", time=str(tick.time))


@app.post("/charge", idempotent=True)
def charge(request: HttpRequest) -> dict[str, Any]:
    record("charge", body=request.text)
    return {"charged": request.text}


@app.post("/pay")
def pay_http(request: HttpRequest) -> dict[str, str]:
    audit.send(request.text)
    return {"queued": request.text}


@app.invoke()
def prepare(event: InvokeEvent) -> dict[str, Any]:
    return {**event.payload, "prepared": True}


@app.invoke()
def ship(event: InvokeEvent) -> dict[str, Any]:
    if event.payload.get("fail"):
        raise ValueError("no courier")
    return {**event.payload, "shipped": True}


order = app.flow("order", [step("prepare"), step("ship")])
