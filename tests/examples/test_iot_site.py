"""The IoT site, handler by handler, through ``corefn.dispatch`` (and one AWS payload through
``corefn.testing.call``), with the local backends (SQLite tables and SQL, folder buckets) in a
temporary state folder.

The one stand-in: the publishers are bound to a recorder (``SinkHandle.bind``), so a test can
deliver what the API published as the queue message / stream record it becomes; the durable
queue itself is exercised end to end in ``test_iot_site_run.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from corefn import App, Context, HttpRequest, QueueMessage, StorageEvent, StreamRecord, TimerEvent
from corefn.dispatch import dispatch
from corefn.loader import load_app
from tests.examples.conftest import SAMPLES, check_outputs, photo

IOT_REF = "examples/iot_site/app.py:app"
KEY = "test-key-1"


class Recorder:
    """A publisher that keeps what was sent (see the module docstring)."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, str | None]] = []

    def send(self, body: Any, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        self.sent.append((body, group))
        return f"m{len(self.sent)}"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_apps: None) -> Iterator[Any]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COREFN_API_KEY", KEY)
    monkeypatch.setenv("PIPELINE_FORMAT", "PNG")
    app = load_app(IOT_REF)
    queue, stream = Recorder(), Recorder()
    app.sink("readings").bind(queue)
    app.sink("telemetry").bind(stream)

    class Site:
        def __init__(self) -> None:
            self.app: App = app
            self.queue, self.stream = queue, stream
            self.module = __import__("sys").modules[app.handler("get_device").handler.__module__]

        def http(
            self, method: str, path: str, body: Any = None, key: str | None = KEY, **headers: str
        ) -> tuple[int, Any]:
            data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
            if key is not None:
                headers["x-api-key"] = key
            response = dispatch(
                app, [HttpRequest(method=method, path=path, headers=headers, body=data)], Context(app=app)
            ).response
            assert response is not None
            return response.status, json.loads(response.body) if response.body else None

        def deliver(self, *events: Any) -> Any:
            return dispatch(app, list(events), Context(app=app))

        def register(self, device: str = "sensor-1") -> None:
            assert self.http("POST", "/devices", {"id": device, "name": "Roof", "site": "seoul"})[0] == 201

    yield Site()


# ------------------------------------------------------------------------------------- HTTP


def test_register_and_get_a_device(site: Any) -> None:
    status, body = site.http("POST", "/devices", {"id": "sensor-1", "name": "Roof", "site": "seoul"})
    assert status == 201 and body["id"] == "sensor-1" and body["readings"] == 0
    assert site.http("POST", "/devices", {"id": "sensor-1"})[0] == 409
    status, body = site.http("GET", "/devices/sensor-1")
    assert status == 200 and (body["name"], body["site"], body["stats"]) == ("Roof", "seoul", None)
    assert site.http("GET", "/devices/nobody")[0] == 404
    assert site.http("POST", "/devices", {"id": "Not Valid!"})[0] == 422
    assert site.http("POST", "/devices", b"{not json")[0] == 400


def test_every_route_needs_the_api_key(site: Any) -> None:
    site.register()
    for method, path in (("POST", "/devices"), ("GET", "/devices/sensor-1"), ("POST", "/devices/sensor-1/readings"),
                         ("POST", "/devices/sensor-1/telemetry"), ("PUT", "/devices/sensor-1/photos/a.jpg")):  # fmt: skip
        assert site.http(method, path, {"temperature": 1}, key=None)[0] == 401
        assert site.http(method, path, {"temperature": 1}, key="wrong")[0] == 401


def test_a_reading_is_validated_then_queued(site: Any) -> None:
    site.register()
    assert site.http("POST", "/devices/sensor-1/readings", {"temperature": "hot"})[0] == 422
    assert site.http("POST", "/devices/sensor-1/readings", {"temperature": 999})[0] == 422
    assert site.http("POST", "/devices/sensor-1/readings", {})[0] == 422
    assert site.http("POST", "/devices/sensor-1/readings", {"temperature": 20, "time": "2026-11-25T10:00:00"})[0] == 422
    assert site.http("POST", "/devices/ghost/readings", {"temperature": 20})[0] == 404
    assert site.queue.sent == []
    status, body = site.http(
        "POST", "/devices/sensor-1/readings", {"temperature": 21.5, "humidity": 40, "time": "2026-11-25T16:01:00+09:00"}
    )
    assert status == 202
    ((reading, _),) = site.queue.sent
    assert reading == {
        "id": body["accepted"],
        "device": "sensor-1",
        "time": "2026-11-25T07:01:00+00:00",
        "temperature": 21.5,
        "humidity": 40.0,
    }


# ------------------------------------------------------------------------ queue, stream, timer


def queued(site: Any, index: int, attempt: int = 1) -> QueueMessage:
    body, _ = site.queue.sent[index]
    return QueueMessage(queue="readings", id=f"q{index}-{attempt}", body=json.dumps(body), attempt=attempt)


def test_a_redelivered_reading_is_stored_once(site: Any) -> None:
    site.register()
    site.http("POST", "/devices/sensor-1/readings", {"temperature": 21.5})
    assert site.deliver(queued(site, 0)).ok
    assert site.deliver(queued(site, 0, attempt=2)).ok  # at-least-once: the same message again
    device = site.http("GET", "/devices/sensor-1")[1]
    assert device["readings"] == 1 and device["last_reading"]["temperature"] == 21.5


def test_a_reading_that_cannot_be_stored_fails_back_to_the_queue(site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the AWS adapter: the SQS message comes back in ``batchItemFailures`` (retried, then
    dead-lettered after max_attempts), never acknowledged."""
    from corefn.testing import call

    site.register()
    site.http("POST", "/devices/sensor-1/readings", {"temperature": 21.5})
    monkeypatch.setenv("COREFN_SINK_REPORTS", "postgresql://nobody:secret@127.0.0.1:9/none?connect_timeout=1")
    site.app.sink("reports").reset()
    body, _ = site.queue.sent[0]
    sqs = {"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEB", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764054000000"}, "messageAttributes": {},
        "md5OfBody": "x", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:readings",
        "awsRegion": "us-east-1"}]}  # fmt: skip
    answer = call(site.app, sqs, cloud="aws")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]}
    spec = site.app.handler("store_reading")
    assert (spec.options.max_attempts, spec.options.dead_letter) == (5, "readings-dead")


def test_telemetry_aggregates_per_device_in_order(site: Any) -> None:
    site.register("a")
    site.register("b")
    for device, value in (("a", 20), ("b", 5), ("a", 24), ("a", 22)):
        assert site.http("POST", f"/devices/{device}/telemetry", {"temperature": value})[0] == 202
    assert [group for _, group in site.stream.sent] == ["a", "b", "a", "a"]  # partition key = device
    records = [
        StreamRecord(stream="telemetry", partition=group or "", sequence=str(i), key=group, data=json.dumps(body))
        for i, (body, group) in enumerate(site.stream.sent)
    ]
    assert site.deliver(*records).ok
    a = site.http("GET", "/devices/a")[1]["stats"]["temperature"]
    assert (a["count"], a["min"], a["max"], a["mean"], a["last"]) == (3, 20, 24, 22, 22)
    assert site.http("GET", "/devices/b")[1]["stats"]["temperature"]["count"] == 1


def test_timer_summarizes_the_last_five_minutes_in_seoul_time(site: Any) -> None:
    spec = site.app.handler("summarize")
    assert (spec.trigger.schedule, spec.trigger.tz) == ("*/5 * * * *", "Asia/Seoul")
    site.register("a")
    site.register("b")
    for device, value, at in (
        ("a", 20, "07:01"),
        ("a", 24, "07:04:59"),
        ("b", 10, "07:02"),
        ("a", 99, "06:59:59"),
        ("b", 50, "07:05"),
    ):
        site.http("POST", f"/devices/{device}/readings", {"temperature": value, "time": f"2026-11-25T{at}Z"})
    assert site.deliver(*[queued(site, i) for i in range(len(site.queue.sent))]).ok
    tick = TimerEvent(time=datetime(2026, 11, 25, 7, 5, tzinfo=UTC), schedule="*/5 * * * *", name="summarize")
    assert site.deliver(tick).ok
    assert site.deliver(tick).ok  # a retried tick rewrites its window, never duplicates it
    rows = site.module.reports_db.summaries(site.app.sink("reports"))
    assert [(r["device"], r["readings"], r["temperature_min"], r["temperature_max"]) for r in rows] == [
        ("a", 2, 20, 24),
        ("b", 1, 10, 10),
    ]
    assert {r["window_seoul"] for r in rows} == {"2026-11-25 16:00"}  # 07:00 UTC is 16:00 in Seoul
    assert {r["window_start"] for r in rows} == {"2026-11-25T07:00:00+00:00"}


# ------------------------------------------------------------------------------------ photos


def test_photo_upload_goes_through_the_image_pipeline(site: Any) -> None:
    site.register()
    original = photo()
    status, body = site.http("PUT", "/devices/sensor-1/photos/cam.jpg", original, **{"content-type": "image/jpeg"})
    assert status == 202 and body == {"key": "devices/sensor-1/cam.jpg"}
    assert site.deliver(
        StorageEvent(bucket="photos", key="devices/sensor-1/cam.jpg", operation="created", size=len(original))
    ).ok
    last = site.http("GET", "/devices/sensor-1")[1]["last_photo"]
    assert last == {
        "key": "devices/sensor-1/cam.jpg",
        "watermarked": "devices/sensor-1/cam.png",
        "thumbnail": "devices/sensor-1/cam.png",
        "size": [1600, 1200],
    }
    marked, thumb = (
        site.app.sink("photo-watermarked").get(last["watermarked"]),
        site.app.sink("photo-thumbnails").get(last["thumbnail"]),
    )
    check_outputs(original, marked, thumb, fmt="PNG", lossless=True)


def test_a_bad_photo_is_noted_and_a_key_outside_the_prefix_is_skipped(site: Any) -> None:
    site.register()
    site.app.sink("photos").put("devices/sensor-1/cut.jpg", (SAMPLES / "truncated.jpg").read_bytes())
    assert site.deliver(StorageEvent(bucket="photos", key="devices/sensor-1/cut.jpg", operation="created")).ok
    assert site.http("GET", "/devices/sensor-1")[1]["last_photo"] == {
        "key": "devices/sensor-1/cut.jpg",
        "rejected": "truncated",
    }
    site.app.sink("photos").put("elsewhere/cam.jpg", photo())
    result = site.deliver(StorageEvent(bucket="photos", key="elsewhere/cam.jpg", operation="created"))
    (outcome,) = result.outcomes
    assert outcome.skipped and outcome.ok  # the trigger's prefix filter: no code ran
    assert not any(info.key.startswith("elsewhere/") for info in site.app.sink("photo-thumbnails").list())


def test_loading_the_site_imports_neither_pillow_nor_sqlalchemy() -> None:
    """Cold start: the API's functions load the same module; Pillow (~20 ms) and SQLAlchemy load
    only in the handlers that use them."""
    import subprocess
    import sys

    from tests.examples.conftest import ROOT

    code = (
        "import sys; from corefn.loader import load_app; load_app('examples/iot_site/app.py:app'); "
        "print(sorted(m for m in ('PIL', 'sqlalchemy', 'imaging') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
