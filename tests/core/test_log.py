"""Structured logs carry the invocation id and the event id: JSON on the clouds, short readable
lines locally. Checked in fresh interpreters, since the format is chosen once per process."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
from corefn import App, Context, QueueMessage
from corefn.dispatch import dispatch
app = App("logs")
@app.queue("orders")
def on_order(msg, ctx):
    ctx.logger.info("handling %s", msg.text)
    if msg.text == "bad":
        raise ValueError("cannot handle")
dispatch(app, [QueueMessage(queue="orders", id="m-1", body="good"), QueueMessage(queue="orders", id="m-2", body="bad")],
         Context(cloud={cloud!r}, invocation_id="inv-42"))
"""


def _stderr(cloud: str) -> str:
    done = subprocess.run([sys.executable, "-c", CODE.format(cloud=cloud)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_cloud_logs_are_json_lines_with_ids() -> None:
    lines = [json.loads(line) for line in _stderr("aws").splitlines() if line.startswith("{")]
    info = [r for r in lines if r["message"] == "handling good"][0]
    assert info["invocation_id"] == "inv-42" and info["event_id"] == "m-1" and info["function"] == "on_order"
    error = [r for r in lines if r["level"] == "ERROR"][0]
    assert error["event_id"] == "m-2" and "cannot handle" in error["message"] and "ValueError" in error["exception"]


def test_local_logs_are_readable_lines() -> None:
    err = _stderr("local")
    assert "I corefn.handler.on_order: handling good [function=on_order event_id=m-1]" in err
    assert "handler on_order failed on queue event m-2: ValueError: cannot handle" in err
