"""Every target of the generated ``main.py``, loaded by functions-framework and called through
Flask's test client the way Cloud Functions calls it: binary- and structured-mode CloudEvents,
1st gen background events, Pub/Sub push bodies, Cloud Scheduler calls, HTTP requests."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from corefn.events import HttpRequest, NoSqlChange, QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage
from tests.gcp import sample_app
from tests.gcp.conftest import binary_mode, fixture, received

# ------------------------------------------------------------------------------------ HTTP


def test_http_target_routes_params_and_repeated_query_values(target: Any) -> None:
    client = target("get_device").test_client()
    answer = client.get("/devices/d%2042?q=a&q=b&x=%C3%A9", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
    assert answer.status_code == 200
    assert answer.get_json() == {"id": "d 42", "q": ["a", "b"]}
    (request,) = received("get_device")
    assert isinstance(request, HttpRequest)
    assert request.method == "GET" and request.path == "/devices/d 42"
    assert request.query.get_all("x") == ["é"] and request.client_ip == "203.0.113.7"
    assert request.to_dict()["headers"]["x-forwarded-for"] == "203.0.113.7, 10.0.0.1"


def test_http_target_binary_body_in_and_out(target: Any) -> None:
    payload = bytes(range(256))
    answer = target("make_png").test_client().post("/thumbnails", data=payload, content_type="application/octet-stream")
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.get_data() == b"\x89PNG\r\n\x1a\n" + payload
    (request,) = received("make_png")
    assert request.body.content == payload and request.to_dict()["body_encoding"] == "base64"


def test_http_target_serves_only_its_own_route(target: Any) -> None:
    client = target("get_device").test_client()
    assert client.post("/thumbnails", data=b"x").status_code == 404  # make_png's route: another function
    assert client.get("/nowhere").status_code == 404
    assert client.delete("/devices/1").status_code == 405
    assert received("make_png") == [] and received("get_device") == []


def test_http_warmup_ping_runs_no_handler(target: Any) -> None:
    answer = target("get_device").test_client().get("/devices/1", headers={"X-Corefn-Warmup": "1"})
    assert answer.status_code == 200 and answer.get_json() == {"warmup": True}
    assert sample_app.RECEIVED == []


# --------------------------------------------------------------------------------- storage


def test_storage_notification_pushed_by_the_subscription(target: Any) -> None:
    """What the deployed storage function receives: the bucket's Pub/Sub notification, pushed by
    corefn's subscription; 204 acknowledges it."""
    answer = target("on_upload").test_client().post("/", json=fixture("storage-notification-push.json"))
    assert answer.status_code == 204, answer.get_data(as_text=True)
    (event,) = received("on_upload")
    assert isinstance(event, StorageEvent) and event.operation == "created"


def test_storage_notification_outside_the_suffix_is_skipped_and_acknowledged(target: Any) -> None:
    """GCS notifications filter by prefix only: the suffix is corefn's to check."""
    push = fixture("storage-notification-push.json")
    client = target("on_upload_jpg").test_client()
    push["message"]["attributes"]["objectId"] = "inbox/door.jpg.part"
    assert client.post("/", json=push).status_code == 204
    assert received("on_upload_jpg") == []
    push["message"]["attributes"]["objectId"] = "inbox/door.jpg"
    assert client.post("/", json=push).status_code == 204
    (event,) = received("on_upload_jpg")
    assert (event.bucket, event.key) == ("uploads", "inbox/door.jpg")


# The same target still reads Eventarc's CloudEvents and 1st gen events (a function moved by hand).
def test_storage_binary_mode_cloud_event(target: Any) -> None:
    headers, body = binary_mode(fixture("storage-finalized-cloudevent.json"))
    answer = target("on_upload").test_client().post("/", headers=headers, data=body)
    assert answer.status_code == 204
    (event,) = received("on_upload")
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key, event.size, event.operation) == ("some-bucket", "folder/Test.cs", 352, "created")
    assert event.time == datetime(2020, 9, 29, 11, 32, 0, 123000, tzinfo=UTC)


def test_storage_structured_mode_cloud_event(target: Any) -> None:
    event = fixture("storage-deleted-cloudevent.json")
    answer = target("on_upload").test_client().post(
        "/", data=json.dumps(event), headers={"Content-Type": "application/cloudevents+json; charset=utf-8"}
    )
    assert answer.status_code == 204
    (got,) = received("on_upload")
    assert (got.key, got.operation, got.size) == ("photos/café 1.jpg", "deleted", 1024)


def test_storage_legacy_background_event(target: Any) -> None:
    """A 1st gen payload: functions-framework turns it into a CloudEvent before corefn reads it."""
    answer = target("on_upload").test_client().post("/", json=fixture("storage-finalize-legacy.json"))
    assert answer.status_code == 204
    (event,) = received("on_upload")
    assert (event.bucket, event.key, event.size, event.id) == ("some-bucket", "folder/Test.cs", 352, "aaaaaa-1111-bbbb-2222-cccccccccccc")


def test_storage_operation_the_handler_did_not_declare_is_skipped(target: Any) -> None:
    headers, body = binary_mode(fixture("storage-archived-cloudevent.json"))
    assert target("on_upload").test_client().post("/", headers=headers, data=body).status_code == 204
    assert received("on_upload") == []


def test_failing_storage_handler_answers_500_so_pubsub_redelivers(target: Any) -> None:
    sample_app.FAIL["on_upload"] = 1
    headers, body = binary_mode(fixture("storage-finalized-cloudevent.json"))
    answer = target("on_upload").test_client().post("/", headers=headers, data=body)
    assert answer.status_code == 500
    assert len(received("on_upload")) == 1


# ----------------------------------------------------------------------------------- nosql


def test_firestore_protobuf_binary_mode(target: Any) -> None:
    event = fixture("nosql-firestore-protobuf-cloudevent.json")
    headers, body = binary_mode(event)
    assert headers["Content-Type"] == "application/protobuf"
    answer = target("on_device_change").test_client().post("/", headers=headers, data=body)
    assert answer.status_code == 200
    (change,) = received("on_device_change")
    assert isinstance(change, NoSqlChange)
    assert change.operation == "modify" and change.table == "devices" and change.keys == {"id": "sensor-42"}
    assert change.new is not None and change.new["count"] == 2 and change.new["dims"] == [1.5, None]
    assert change.old is not None and dict(change.old) == {"count": 1, "label": "old"}


def test_firestore_legacy_event(target: Any) -> None:
    answer = target("on_device_change").test_client().post("/", json=fixture("nosql-firestore-create-legacy.json"))
    assert answer.status_code == 200
    (change,) = received("on_device_change")
    assert change.operation == "insert" and change.old is None
    assert change.new["config"]["limits"] == {"max": 35.0, "min": -5.5}


# ------------------------------------------------------------------------ Pub/Sub-fed kinds


def _push_body(data: bytes, attributes: dict[str, str], *, attempt: int | None = None, key: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"data": base64.b64encode(data).decode(), "attributes": attributes,
                               "messageId": "42", "message_id": "42", "publishTime": "2024-05-06T07:00:00.5Z"}  # fmt: skip
    if key is not None:
        message["orderingKey"] = key
    body: dict[str, Any] = {"message": message, "subscription": "projects/test-project/subscriptions/sub-1"}
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


def test_topic_target_push_body(target: Any) -> None:
    answer = target("on_alert").test_client().post("/", json=_push_body(b"fire!", {"level": "high"}, attempt=2))
    assert answer.status_code == 204
    (message,) = received("on_alert")
    assert isinstance(message, TopicMessage)
    assert (message.topic, message.subscription, message.text, message.attempt) == ("alerts", "sub-1", "fire!", 2)
    assert message.attributes == {"level": "high"}


def test_topic_target_binary_and_structured_cloud_events_and_legacy(target: Any) -> None:
    client = target("on_alert").test_client()
    headers, body = binary_mode(fixture("topic-pubsub-cloudevent.json"))
    assert client.post("/", headers=headers, data=body).status_code == 204
    structured = json.dumps(fixture("topic-pubsub-cloudevent-nonutf8.json"))
    assert client.post("/", data=structured, headers={"Content-Type": "application/cloudevents+json"}).status_code == 204
    assert client.post("/", json=fixture("topic-pubsub-legacy.json")).status_code == 204
    first, second, third = received("on_alert")
    assert (first.topic, first.text, first.attributes) == ("gcf-test", "test message 3", {"attr1": "attr1-value"})
    assert second.body.content == b"\xff\xfe\x00\x01"
    assert (third.id, third.text) == ("aaaaaa-1111-bbbb-2222-cccccccccccc", "test message 3")


def test_failing_topic_handler_nacks_with_500(target: Any) -> None:
    sample_app.FAIL["on_alert"] = 1
    client = target("on_alert").test_client()
    assert client.post("/", json=_push_body(b"x", {})).status_code == 500
    assert client.post("/", json=_push_body(b"x", {})).status_code == 204  # the redelivery succeeds


def test_unreadable_delivery_is_nacked_not_dropped(target: Any) -> None:
    client = target("on_alert").test_client()
    assert client.post("/", data=b"not json").status_code == 400
    bad = _push_body(b"x", {})
    bad["message"]["data"] = "***"
    answer = client.post("/", json=bad)
    assert answer.status_code == 400 and "message.data" in answer.get_json()["error"]
    assert received("on_alert") == []


def test_queue_target_gets_queue_messages(target: Any) -> None:
    answer = target("on_order").test_client().post("/", json=_push_body(b'{"sku": 1}', {}, attempt=4))
    assert answer.status_code == 204
    (message,) = received("on_order")
    assert isinstance(message, QueueMessage)
    assert (message.queue, message.attempt, message.json()) == ("orders", 4, {"sku": 1})


def test_stream_target_maps_ordering_key_to_partition(target: Any) -> None:
    answer = target("on_reading").test_client().post("/", json=_push_body(b"21.5", {}, key="device-7"))
    assert answer.status_code == 204
    (record,) = received("on_reading")
    assert isinstance(record, StreamRecord)
    assert (record.stream, record.partition, record.key, record.sequence, record.text) == ("telemetry", "device-7", "device-7", "42", "21.5")


def test_timer_target_reads_cloud_scheduler_http_calls(target: Any) -> None:
    headers = {"X-Corefn-Timer": "every_five", "X-CloudScheduler": "true", "X-CloudScheduler-JobName": "gcp-test-every-five-schedule",
               "X-CloudScheduler-ScheduleTime": "2024-05-06T09:05:00+09:00", "User-Agent": "Google-Cloud-Scheduler"}  # fmt: skip
    answer = target("every_five").test_client().post("/", data=b"{}", headers=headers)
    assert answer.status_code == 204
    (tick,) = received("every_five")
    assert isinstance(tick, TimerEvent)
    assert tick.time == datetime(2024, 5, 6, 0, 5, tzinfo=UTC)
    assert (tick.name, tick.schedule) == ("every_five", "*/5 * * * *")


def test_timer_target_reads_pubsub_scheduler_ticks(target: Any) -> None:
    event = json.dumps(fixture("timer-scheduler-pubsub.json"))
    answer = target("every_five").test_client().post("/", data=event, headers={"Content-Type": "application/cloudevents+json"})
    assert answer.status_code == 204
    (tick,) = received("every_five")
    assert tick.time == datetime(2024, 5, 6, 18, 0, 0, 207000, tzinfo=UTC) and tick.schedule == "0 3 * * *"


def test_timer_target_refuses_calls_without_the_scheduler_mark(target: Any) -> None:
    assert target("every_five").test_client().post("/", json={"hello": 1}).status_code == 400
    assert received("every_five") == []


# ---------------------------------------------------------------------------------- invoke


def test_invoke_target_returns_the_handlers_result(target: Any) -> None:
    client = target("resize").test_client()
    answer = client.post("/", json={"width": 100})
    assert answer.status_code == 200 and answer.get_json() == {"width": 50}
    assert client.post("/", json={"corefn": "warmup"}).get_json() == {"warmup": True}
    assert len(received("resize")) == 1


def test_first_gen_background_function_glue() -> None:
    from google.cloud.functions.context import Context

    from corefn_gcp import runtime

    legacy = fixture("storage-delete-legacy.json")
    context = Context(**legacy["context"])
    runtime.serve_background(legacy["data"], context, "tests.gcp.sample_app:app", "on_upload")
    (event,) = received("on_upload")
    assert (event.key, event.operation) == ("folder/Old File.txt", "deleted")
    sample_app.FAIL["on_upload"] = 1
    with pytest.raises(RuntimeError, match="on purpose"):
        runtime.serve_background(legacy["data"], context, "tests.gcp.sample_app:app", "on_upload")


def test_warmup_pings_reach_no_handler_on_event_targets(target: Any) -> None:
    assert target("on_alert").test_client().post("/", json={"corefn": "warmup"}).get_json() == {"warmup": True}
    headers = {"ce-specversion": "1.0", "ce-type": "dev.corefn.warmup", "ce-source": "//corefn/warmup", "ce-id": "warmup",
               "Content-Type": "application/json"}  # fmt: skip  (what the generated keep-warm job sends)
    assert target("on_upload").test_client().post("/", headers=headers, data=b"{}").status_code == 200
    assert sample_app.RECEIVED == []
