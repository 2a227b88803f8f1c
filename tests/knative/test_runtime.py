"""The Knative runtime served by uvicorn, driven over HTTP with CloudEvents exactly as a Broker,
a PingSource, a KafkaSource or a Code Engine subscription sends them (attribute sets from the
fixtures under tests/events/knative/, which name their documentation), in binary and structured
mode: each reaches its handler as the right event; a failing handler gets a non-2xx (the sender
redelivers, then dead-letters); malformed and unknown events get 400 / 422 and reach no handler.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from corefn.events import QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage
from corefn_knative.runtime import WEBHOOK_PATH, KnativeRuntime
from tests.knative.sample_app import FAIL, RECEIVED, app

EVENTS = Path(__file__).parent.parent / "events" / "knative"
RETRIED_BY_KNATIVE = {404, 409, 429}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def binary(raw: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The JSON-form fixture sent in binary mode by the cloudevents SDK (what Knative's Go
    dispatcher sends: every attribute a ce- header, the data as the body)."""
    raw = dict(raw)
    data = raw.pop("data", None)
    if "data_base64" in raw:
        import base64

        data = base64.b64decode(raw.pop("data_base64"))
    elif isinstance(data, str):
        data = data.encode()
    return to_binary(CloudEvent.create(raw, data))


def structured(raw: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return {"content-type": "application/cloudevents+json; charset=utf-8"}, json.dumps(raw).encode()


class Served:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def post(self, headers: dict[str, str], body: bytes, path: str = "/") -> httpx.Response:
        return httpx.post(self.url + path, headers=headers, content=body, timeout=30)


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[[str | None], Served]]:
    """A uvicorn server per pinned handler (as one Knative Service per handler), started once."""
    servers: dict[str | None, Served] = {}

    def start(handler: str | None) -> Served:
        if handler not in servers:
            config = uvicorn.Config(KnativeRuntime(app, handler), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            for _ in range(500):
                if server.started:
                    break
                time.sleep(0.01)
            assert server.started, "uvicorn did not start"
            port = server.servers[0].sockets[0].getsockname()[1]
            servers[handler] = Served(server, thread, f"http://127.0.0.1:{port}")
        return servers[handler]

    yield start
    for served in servers.values():
        served.server.should_exit = True
        served.thread.join(timeout=10)


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    RECEIVED.clear()
    FAIL.clear()
    yield
    RECEIVED.clear()
    FAIL.clear()


MODES = {"binary": binary, "structured": structured}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "fixture_name, handler, kind, check",
    [
        ("timer-pingsource", "nightly", TimerEvent, lambda e: e.name == "nightly" and e.schedule == "0 3 * * *"),
        ("timer-codeengine-cron", "nightly", TimerEvent, lambda e: e.time.year == 2021),
        ("stream-kafkasource-key", "on_reading", StreamRecord,
         lambda e: (e.stream, e.partition, e.sequence, e.key, e.data.text) == ("example-topic", "46", "0", "sensor-7", "Hello!")),
        ("stream-kafkasource", "on_job", QueueMessage,
         lambda e: e.queue == "jobs" and e.body.json() == {"msg": "This is a test!"} and e.attributes["offset"] == "564"),
        ("storage-cos-write", "on_upload", StorageEvent, lambda e: (e.bucket, e.key, e.operation, e.size) == ("originals", "Notes.rtf", "created", 4642)),
        ("storage-corefn-created", "on_upload", StorageEvent, lambda e: e.key == "photos/2026/cat one.jpg"),
        ("topic-broker-event", "on_order", TopicMessage, lambda e: e.topic == "orders" and e.body.json()["order"] == "A-1043"),
    ],
)
def test_each_documented_event_reaches_its_handler(
    serve: Callable[[str | None], Served], fixture_name: str, handler: str, kind: type, check: Callable[[Any], bool], mode: str
) -> None:
    headers, body = MODES[mode](fixture(fixture_name))
    response = serve(handler).post(headers, body)
    assert 200 <= response.status_code < 300, response.text
    assert [name for name, _ in RECEIVED] == [handler]
    event = RECEIVED[0][1]
    assert isinstance(event, kind) and check(event), event


def test_a_declared_type_reaches_its_topic_handler_without_a_broker(serve: Callable[[str | None], Served]) -> None:
    raw = fixture("topic-broker-event")
    del raw["knativearrivaltime"]  # sent straight to the Service (a SinkBinding), not through a Broker
    response = serve("on_order").post(*binary(raw))
    assert response.status_code == 204
    assert RECEIVED[0][1].topic == "orders"


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_handler_gets_a_non_2xx_so_the_broker_redelivers(serve: Callable[[str | None], Served], mode: str) -> None:
    FAIL["on_order"] = 1
    served = serve("on_order")
    first = served.post(*MODES[mode](fixture("topic-broker-event")))
    assert first.status_code == 500 and "failed on purpose" in first.json()["detail"]
    again = served.post(*MODES[mode](fixture("topic-broker-event")))  # the broker's retry
    assert again.status_code == 204
    assert [name for name, _ in RECEIVED] == ["on_order", "on_order"]


def _one_line_reason(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.status_code not in RETRIED_BY_KNATIVE
    reason: str = response.json()["error"]
    assert reason and "\n" not in reason
    return reason


@pytest.mark.parametrize(
    "headers, body, expected",
    [
        ({"ce-specversion": "1.0", "ce-type": "dev.knative.sources.ping", "ce-source": "/x"}, b"", "'id'"),
        ({"ce-specversion": "0.3", "ce-id": "1", "ce-type": "t", "ce-source": "/x"}, b"", "1.0"),
        ({"content-type": "application/cloudevents+json"}, b"{not json", "not JSON"),
        ({"content-type": "application/cloudevents+json"}, b'{"specversion": "1.0", "id": "1", "source": "/x"}', "'type'"),
        ({"content-type": "application/cloudevents-batch+json"}, b"[]", "batched"),
        ({"ce-specversion": "1.0", "ce-id": "1", "ce-type": "dev.knative.kafka.event", "ce-source": "/x", "content-type": "application/json"}, b"{", "JSON"),
    ],
)
def test_malformed_cloudevents_get_400_and_reach_no_handler(
    serve: Callable[[str | None], Served], headers: dict[str, str], body: bytes, expected: str
) -> None:
    reason = _one_line_reason(serve("on_reading").post(headers, body), 400)
    assert expected in reason
    assert RECEIVED == []


def test_a_known_type_with_a_bad_field_gets_400(serve: Callable[[str | None], Served]) -> None:
    raw = fixture("stream-kafkasource-key")
    raw["subject"] = "offset 7"
    reason = _one_line_reason(serve("on_reading").post(*binary(raw)), 400)
    assert "subject" in reason and RECEIVED == []


def test_unknown_types_and_wrong_kinds_get_422(serve: Callable[[str | None], Served]) -> None:
    unknown = {"specversion": "1.0", "id": "1", "source": "/elsewhere", "type": "com.example.unheard.of"}
    assert "com.example.unheard.of" in _one_line_reason(serve("on_reading").post(*binary(unknown)), 422)
    wrong = fixture("timer-pingsource")
    assert "on_reading" in _one_line_reason(serve("on_reading").post(*structured(wrong)), 422)
    assert RECEIVED == []


def test_http_routes_are_served_per_handler(serve: Callable[[str | None], Served]) -> None:
    served = serve("get_device")
    ok = httpx.get(served.url + "/devices/7?q=a&q=b")
    assert ok.status_code == 200 and ok.json() == {"id": "7", "q": ["a", "b"]}
    assert httpx.get(served.url + "/health").status_code == 404  # another handler's Service
    assert httpx.post(served.url + "/devices/7").status_code == 405
    whole = serve(None)
    assert httpx.get(whole.url + "/health").text == "ok"
    event_service = serve("nightly")
    assert _one_line_reason(httpx.get(event_service.url + "/devices/7"), 400).startswith("this service runs handler 'nightly'")


def test_minio_webhook_route_wraps_notifications_into_storage_events(serve: Callable[[str | None], Served]) -> None:
    raw = fixture("storage-minio-webhook")
    raw["Records"][0]["s3"]["bucket"]["name"] = "originals"
    served = serve("on_upload")
    response = served.post({"content-type": "application/json"}, json.dumps(raw).encode(), WEBHOOK_PATH)
    assert response.status_code == 204, response.text
    event = RECEIVED[0][1]
    assert (event.bucket, event.key, event.size) == ("originals", "Tile_+002_+002.mtl", 210)
    bad = served.post({"content-type": "application/json"}, b'{"hello": 1}', WEBHOOK_PATH)
    assert "bucket notification" in _one_line_reason(bad, 400)



def test_corefn_http_and_invoke_cloudevents(serve: Callable[[str | None], Served]) -> None:
    from corefn.adapters import load_sample

    http = load_sample("corefn_knative.samples", "knative", "http")
    response = serve("get_device").post(*structured(http))
    assert response.status_code == 200 and response.json() == {"id": "7", "q": ["a"]}
    invoke = load_sample("corefn_knative.samples", "knative", "invoke")
    assert "invoke" in _one_line_reason(serve("on_reading").post(*binary(invoke)), 422)


def test_the_broker_publisher_reaches_a_topic_handler(serve: Callable[[str | None], Served], monkeypatch: pytest.MonkeyPatch) -> None:
    """The knative:// publisher POSTs a binary-mode CloudEvent (here straight to the handler's
    runtime standing in for the Broker ingress, which forwards the same request)."""
    from corefn.errors import SinkError
    from corefn.sinks import open_sink

    served = serve("on_alert")
    host = served.url.removeprefix("http://")
    publisher = open_sink(app.sink("alerts").spec, f"knative://{host}/shop/default")
    message_id = publisher.send({"level": "high"}, {"origin": "sensor 7", "Trace-Id": "t1"}, group="site-3")
    (name, message), = RECEIVED
    assert name == "on_alert" and message.topic == "alerts" and message.id == message_id
    assert message.body.json() == {"level": "high"} and message.group == "site-3"
    assert message.attributes == {"origin": "sensor 7", "Trace-Id": "t1"}
    FAIL["on_alert"] = 1
    with pytest.raises(SinkError, match="500"):
        publisher.send("again")
    refused = open_sink(app.sink("alerts").spec, f"knative://{host}/shop/default?type=com.example.unknown")
    with pytest.raises(SinkError, match="422"):
        refused.send("x")


def test_the_webhook_route_checks_its_token(serve: Callable[[str | None], Served], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_WEBHOOK_TOKEN", "s3cret")
    body = json.dumps(fixture("storage-minio-webhook")).encode()
    served = serve("on_upload")
    assert "COREFN_WEBHOOK_TOKEN" in _one_line_reason(served.post({"content-type": "application/json"}, body, WEBHOOK_PATH), 401)
    wrong = served.post({"content-type": "application/json", "authorization": "Bearer nope"}, body, WEBHOOK_PATH)
    assert wrong.status_code == 401 and RECEIVED == []
    ok = served.post({"content-type": "application/json", "authorization": "s3cret"}, body, WEBHOOK_PATH)
    assert ok.status_code == 204 and len(RECEIVED) == 1


def test_a_published_kafka_cloudevent_reaches_a_queue_handler_and_a_stream_handler_refuses_it(
    serve: Callable[[str | None], Served],
) -> None:
    """What a corefn Kafka publisher with ``cloudevents=True`` writes, as a KafkaSource delivers it
    (the record's binary-mode CloudEvent, HTTP binary mode): a queue handler takes the message; a
    stream handler answers 422, as the message has no partition and offset (the README says so)."""
    from corefn.cloudevents import message_form
    from corefn.cloudevents.bindings import kafka_form, kafka_record

    headers, key, value = kafka_record(message_form("queue", "jobs", b'{"job":1}', group="g-1", json_body=True), {"kind": "a"})
    form = kafka_form(headers, key, value)
    assert serve("on_job").post(*binary(form)).status_code == 204
    assert RECEIVED and RECEIVED[-1][0] == "on_job"
    stream = message_form("stream", "telemetry", b"21.5")
    _one_line_reason(serve("on_reading").post(*binary(stream)), 422)
