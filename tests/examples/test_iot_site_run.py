"""The IoT site end to end on ``corefn run`` (a real subprocess, real HTTP): register a device,
post readings and telemetry, upload a photo, and watch the queue, the stream, the storage
trigger and the Asia/Seoul timer do their part. The timer's clock starts just before a 5-minute
tick (``--now``), so the run sees one tick within seconds."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.examples.conftest import ROOT, photo

KEY = "smoke-key"
CORFN = str(Path(sys.executable).parent / "corefn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    def __init__(self, port: int, proc: subprocess.Popen[str], state: Path) -> None:
        self.base, self.proc, self.state = f"http://127.0.0.1:{port}", proc, state

    def request(
        self, method: str, path: str, body: Any = None, key: str | None = KEY, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"content-type": content_type}
        )
        if key:
            request.add_header("x-api-key", key)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.proc.poll() is None, f"corefn run exited with {self.proc.returncode}"
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COREFN_", "PIPELINE_"))}
    env.update(COREFN_STATE_DIR=str(state), COREFN_API_KEY=KEY, COREFN_LOG_FORMAT="text")
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [CORFN, "run", "examples/iot_site/app.py:app", "--port", str(port), "--now", "2026-11-25T07:04:47Z"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    found = Site(port, proc, state)
    try:
        found.wait(lambda: _answers(found.base), "the HTTP server")
        yield found
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        print((tmp_path / "run.log").read_text())


def _answers(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/devices/x", timeout=1)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def test_the_whole_site_on_the_local_runtime(site: Site) -> None:
    assert site.request("POST", "/devices", {"id": "sensor-1", "name": "Roof", "site": "seoul"})[0] == 201
    assert site.request("GET", "/devices/sensor-1", key=None)[0] == 401
    for minute, value in ((1, 20.0), (2, 22.0), (3, 27.0)):  # readings inside the tick's window 07:00-07:05 UTC
        assert (
            site.request(
                "POST", "/devices/sensor-1/readings", {"temperature": value, "time": f"2026-11-25T07:0{minute}:00Z"}
            )[0]
            == 202
        )
    for value in (18, 19, 23):
        assert site.request("POST", "/devices/sensor-1/telemetry", {"temperature": value})[0] == 202
    original = photo((800, 600))
    assert site.request("PUT", "/devices/sensor-1/photos/cam.jpg", original, content_type="image/jpeg")[0] == 202

    def device() -> dict[str, Any]:
        return dict(site.request("GET", "/devices/sensor-1")[1])

    site.wait(lambda: device().get("readings") == 3, "the queue to store 3 readings")
    site.wait(lambda: (device().get("stats") or {}).get("temperature", {}).get("count") == 3, "the stream aggregates")
    site.wait(lambda: "thumbnail" in (device().get("last_photo") or {}), "the photo pipeline")
    stats = device()["stats"]["temperature"]
    assert (stats["min"], stats["max"], stats["mean"]) == (18, 23, 20)
    thumb = site.state / "objects" / "photo-thumbnails" / "devices" / "sensor-1" / "cam.jpg"
    assert (
        thumb.is_file()
        and (site.state / "objects" / "photo-watermarked" / "devices" / "sensor-1" / "cam.jpg").is_file()
    )

    def summary() -> list[tuple[Any, ...]]:
        try:
            with sqlite3.connect(site.state / "sql-reports.db") as db:
                return db.execute("SELECT window_seoul, device, readings, temperature_avg FROM summaries").fetchall()
        except sqlite3.OperationalError:  # the table is created on the first write
            return []

    site.wait(lambda: bool(summary()), "the 07:05 UTC (16:05 Seoul) timer tick", timeout=40)
    assert summary() == [("2026-11-25 16:00", "sensor-1", 3, 23.0)]
