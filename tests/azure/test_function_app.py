"""The generated ``function_app.py``, checked with the azure-functions library's own indexing
(``get_functions()`` / ``get_bindings()``) and run by calling each function's user callable with
real ``azure.functions`` objects: the Azure path without the Functions host."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.blob import InputStream
from azure.functions.queue import QueueMessage as AzureQueueMessage
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from corefn.events import NoSqlChange, QueueMessage, StorageEvent, StreamRecord, TimerEvent, TopicMessage
from tests.azure import sample_app

#: handler → (trigger type, binding fields that must be there)
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "get_device": ("httpTrigger", {"route": "devices/{id}", "methods": ["GET"], "authLevel": "ANONYMOUS"}),
    "make_thumb": ("httpTrigger", {"route": "thumbs/{name}", "methods": ["POST"]}),
    "copy_blob": ("blobTrigger", {"path": "originals/{name}.jpg", "connection": "CorefnStorage", "source": "EventGrid"}),  # Flex: Event Grid based
    "on_upload": ("eventGridTrigger", {}),
    "take_order": ("queueTrigger", {"queueName": "orders", "connection": "CorefnStorage"}),
    "take_payment": ("serviceBusTrigger", {"queueName": "payments", "isSessionsEnabled": True}),
    "page": ("serviceBusTrigger", {"topicName": "alerts", "subscriptionName": "pager"}),
    "tick": ("timerTrigger", {"schedule": "0 */5 * * * *"}),
    "seoul_morning": ("timerTrigger", {"schedule": "0 0 0 * * *"}),  # 09:00 Seoul (+09:00, no DST) in UTC
    "telemetry": ("eventHubTrigger", {"eventHubName": "telemetry", "cardinality": "ONE"}),
    "clicks": ("eventHubTrigger", {"eventHubName": "clicks", "cardinality": "MANY"}),
    "device_changed": ("cosmosDBTrigger", {"containerName": "devices", "databaseName": "azure-sample"}),
}


def functions(module: ModuleType) -> dict[str, Any]:
    """The library's own index of the app (``get_functions`` may run once per FunctionApp: it
    records names to refuse duplicates, as the worker's indexing does)."""
    found: dict[str, Any] | None = getattr(module, "_indexed", None)
    if found is None:
        found = module._indexed = {fn.get_function_name(): fn for fn in module.app.get_functions()}
    return found


def call(module: ModuleType, name: str, binding: Any) -> Any:
    return functions(module)[name].get_user_function()(binding, context=None)


def _value(value: Any) -> Any:
    return getattr(value, "value", value)  # enums (cardinality, auth level) as their names


def test_functions_match_the_declarations_one_to_one(function_app: ModuleType) -> None:
    found = functions(function_app)
    assert set(found) == set(EXPECTED)
    declared = {s.name.replace("-", "_") for s in sample_app.app.handlers}
    assert set(found) == declared
    for name, (trigger_type, fields) in EXPECTED.items():
        function = found[name]
        trigger = function.get_trigger().get_dict_repr()
        assert trigger in [b.get_dict_repr() for b in function.get_bindings()]
        assert trigger["type"] == trigger_type, name
        for key, value in fields.items():
            got = _value(trigger[key])
            got = [_value(v) for v in got] if isinstance(got, list) else got
            assert str(got).upper() == str(value).upper() if isinstance(value, str) else got == value, (name, key, got)


def test_event_hub_and_cosmos_functions_carry_a_retry_policy(function_app: ModuleType) -> None:
    found = functions(function_app)
    for name in ("telemetry", "clicks", "device_changed"):
        retry = found[name].get_setting("retry_policy")
        assert retry is not None, name
        assert retry.get_dict_repr()["max_retry_count"] == "4" and retry.get_dict_repr()["strategy"] == "exponential_backoff"
    assert found["take_order"].get_setting("retry_policy") is None  # Queue Storage retries by dequeue count


def test_http_get_with_route_params_and_repeated_query(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    req = func.HttpRequest("GET", "https://x.azurewebsites.net/devices/42?tag=a&tag=b", headers={"X-Trace": "t1", "X-Forwarded-For": "203.0.113.7:5120, 10.0.0.1"},
                           route_params={"id": "42"}, body=b"")  # fmt: skip
    response = call(function_app, "get_device", req)
    assert isinstance(response, func.HttpResponse)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert json.loads(response.get_body()) == {"id": "42", "tags": ["a", "b"]}
    request = seen["get_device"][0]
    assert request.path == "/devices/42" and request.headers["x-trace"] == "t1" and request.client_ip == "203.0.113.7"


def test_http_binary_response_and_cookies(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    req = func.HttpRequest("POST", "https://x/thumbs/cat", headers={}, body=b"\xff\x00raw")
    response = call(function_app, "make_thumb", req)
    assert response.status_code == 201
    assert response.get_body() == b"\x89PNG\r\n\x1a\n\xff\x00raw"
    assert response.mimetype == "image/png"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_http_unknown_path_is_a_404_response(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    response = call(function_app, "get_device", func.HttpRequest("GET", "https://x/nowhere", body=b""))
    assert response.status_code == 404 and not seen["get_device"]


def test_blob_trigger_input_stream(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    blob = InputStream(data=b"abc", name="originals/2024/cat.jpg", length=3, uri="http://acct/originals/2024/cat.jpg",
                            blob_properties={"ETag": "0x1", "ContentType": "image/jpeg", "LastModified": "2024-05-01T10:00:00+00:00"})  # fmt: skip
    assert call(function_app, "copy_blob", blob) is None
    event = seen["copy_blob"][0]
    assert isinstance(event, StorageEvent)
    assert (event.bucket, event.key, event.size, event.operation) == ("originals", "2024/cat.jpg", 3, "created")
    assert event.time == datetime(2024, 5, 1, 10, tzinfo=UTC) and event.etag == "0x1"


def test_event_grid_blob_deleted(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    event = func.EventGridEvent(
        id="e1", topic="/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
        subject="/blobServices/default/containers/uploads/blobs/a%20b.txt", event_type="Microsoft.Storage.BlobDeleted",
        event_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), data_version="", data={"api": "DeleteBlob", "url": "x"},
    )  # fmt: skip
    call(function_app, "on_upload", event)
    got = seen["on_upload"][0]
    assert (got.bucket, got.key, got.operation, got.size, got.id) == ("uploads", "a b.txt", "deleted", None, "e1")


def test_queue_message_success_and_failure_raises(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    ok = AzureQueueMessage(id="m1", body=b"hello", dequeue_count=1, insertion_time=datetime(2024, 1, 1, tzinfo=UTC))
    assert call(function_app, "take_order", ok) is None
    bad = AzureQueueMessage(id="m2", body="fail", dequeue_count=3)
    with pytest.raises(RuntimeError, match="order rejected"):  # the host must see it to retry / poison
        call(function_app, "take_order", bad)
    first, second = seen["take_order"]
    assert isinstance(first, QueueMessage) and first.queue == "orders" and first.attempt == 1 and first.text == "hello"
    assert second.attempt == 3 and second.id == "m2"


def _sb(**kwargs: Any) -> ServiceBusMessage:
    base: dict[str, Any] = {"body": b"{}", "message_id": "sb1", "application_properties": {}, "user_properties": {}}
    return ServiceBusMessage(**{**base, **kwargs})


def test_service_bus_queue_session_and_properties(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    msg = _sb(body=b'{"amount": 5}', session_id="customer-7", delivery_count=2,
              application_properties={"priority": "high", "retries": 3}, enqueued_time_utc=datetime(2024, 2, 2, tzinfo=UTC))  # fmt: skip
    call(function_app, "take_payment", msg)
    got = seen["take_payment"][0]
    assert isinstance(got, QueueMessage) and got.queue == "payments"
    assert (got.group, got.attempt, got.attributes, got.json()) == ("customer-7", 2, {"priority": "high", "retries": "3"}, {"amount": 5})


def test_service_bus_topic_subscription_is_a_topic_message(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    call(function_app, "page", _sb(body=b"disk full", delivery_count=1))
    got = seen["page"][0]
    assert isinstance(got, TopicMessage) and (got.topic, got.subscription, got.text) == ("alerts", "pager", "disk full")


def test_timer_request(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    timer = TimerRequest(past_due=True, schedule_status={"Last": "2024-03-01T09:55:00+00:00", "Next": "2024-03-01T10:00:00+00:00"})
    call(function_app, "tick", timer)
    call(function_app, "seoul_morning", TimerRequest())
    tick, seoul = seen["tick"][0], seen["seoul-morning"][0]
    assert isinstance(tick, TimerEvent)
    assert (tick.name, tick.schedule, tick.past_due, tick.time) == ("tick", "*/5 * * * *", True, datetime(2024, 3, 1, 10, tzinfo=UTC))
    assert (seoul.name, seoul.time, seoul.past_due) == ("seoul-morning", None, False)


def _hub_metadata(hub: str, partition: str) -> dict[str, meta.Datum]:
    context = {"EventHubName": hub, "PartitionId": partition, "ConsumerGroup": "$Default"}
    return {"PartitionContext": meta.Datum(json.dumps(context), "json")}


def test_event_hub_single_and_batch(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    one = func.EventHubEvent(body=b'{"t": 20}', trigger_metadata=_hub_metadata("telemetry", "3"), sequence_number=17,
                             partition_key="dev-1", enqueued_time=datetime(2024, 4, 4, tzinfo=UTC), offset="4096")  # fmt: skip
    call(function_app, "telemetry", one)
    record = seen["telemetry"][0]
    assert isinstance(record, StreamRecord)
    assert (record.stream, record.partition, record.sequence, record.key) == ("telemetry", "3", "17", "dev-1")
    batch = [func.EventHubEvent(body=f"c{i}".encode(), trigger_metadata=_hub_metadata("clicks", "0"), sequence_number=i)
             for i in range(3)]  # fmt: skip
    call(function_app, "clicks", batch)
    assert [r.sequence for r in seen["clicks"]] == ["0", "1", "2"] and seen["clicks"][2].text == "c2"


def test_cosmos_document_list(function_app: ModuleType, seen: dict[str, list[Any]]) -> None:
    docs = func.DocumentList([func.Document.from_dict({"id": "d1", "deviceId": "dev-9", "temp": 21, "_rid": "r", "_self": "s",
                                                       "_etag": "e", "_attachments": "a", "_ts": 1700000000, "_lsn": 12})])  # fmt: skip
    call(function_app, "device_changed", docs)
    change = seen["device_changed"][0]
    assert isinstance(change, NoSqlChange) and change.table == "devices" and change.operation == "upsert"
    assert dict(change.keys) == {"id": "d1", "deviceId": "dev-9"}  # partition key from app.table(key=...)
    assert dict(change.new or {}) == {"id": "d1", "deviceId": "dev-9", "temp": 21} and change.old is None
    assert change.sequence == "12" and change.time == datetime.fromtimestamp(1700000000, UTC)


def _parity_bindings() -> list[tuple[str, str, str, Any]]:
    """(function, handler, shape, binding object) for each trigger the generated app has."""
    docs = func.DocumentList([func.Document.from_dict({"id": "d1", "deviceId": "dev-9", "_ts": 1700000000, "_lsn": 3})])
    hub = func.EventHubEvent(body=b"{}", trigger_metadata=_hub_metadata("telemetry", "3"), sequence_number=17)
    return [
        ("take_order", "take_order", "queue-message", AzureQueueMessage(id="m1", body=b"hi", dequeue_count=2)),
        ("take_payment", "take_payment", "servicebus-message", _sb(session_id="customer-7", delivery_count=2)),
        ("page", "page", "servicebus-message", _sb(body=b"disk full")),
        ("tick", "tick", "timer-request", TimerRequest(past_due=True)),
        ("telemetry", "telemetry", "eventhub-event", hub),
        ("device_changed", "device_changed", "document-list", docs),
        ("copy_blob", "copy_blob", "blob-stream", InputStream(data=b"abc", name="originals/cat.jpg", length=3, uri="http://a/originals/cat.jpg")),
    ]


@pytest.mark.parametrize("case", range(7))
def test_generated_function_and_testing_call_deliver_the_same_event(
    function_app: ModuleType, seen: dict[str, list[Any]], case: int
) -> None:
    """The binding-object half of tests/test_parity.py: the generated function (which names its
    shape) and ``testing.call(..., pinned=, shape=)`` run the same flow."""
    from corefn import testing

    function, handler, shape, binding = _parity_bindings()[case]
    call(function_app, function, binding)
    testing.call(sample_app.app, binding, cloud="azure", pinned=handler, shape=shape)
    deployed, tested = seen[handler]
    assert type(deployed) is type(tested)
    assert deployed.to_dict() == tested.to_dict()
