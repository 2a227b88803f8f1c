"""Binding objects with odd values (empty bodies, ``None`` everywhere, wrong types the library
does not check) only ever give events or documented corefn errors; and JSON-form detection edge
cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest
from azure.functions import meta
from azure.functions.blob import InputStream
from azure.functions.queue import QueueMessage
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from corefn.adapters import parse
from corefn.errors import CorefnError, EventShapeError, UnrecognizedPayloadError
from corefn_azure.runtime import run
from tests.azure import sample_app

odd = st.one_of(
    st.none(), st.just(""), st.text(max_size=8), st.binary(max_size=8), st.integers(-(2**70), 2**70), st.booleans(),
    st.floats(allow_nan=False), st.datetimes(timezones=st.just(UTC)), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip


def _metadata(value: Any) -> dict[str, meta.Datum]:
    return {"PartitionContext": meta.Datum(json.dumps(value, default=str), "json")}


BUILDERS = {
    "queue": lambda v: QueueMessage(id=v[0], body=v[1] if isinstance(v[1], (str, bytes)) else None, dequeue_count=v[2],
                                    insertion_time=v[3], pop_receipt=v[4]),
    "servicebus": lambda v: ServiceBusMessage(body=v[1], message_id=v[0], application_properties=v[2], user_properties=v[3],
                                              delivery_count=v[4], session_id=v[5], enqueued_time_utc=v[6]),
    "eventhub": lambda v: func.EventHubEvent(body=v[1], trigger_metadata=_metadata({"PartitionId": v[0], "EventHubName": v[2]}),
                                             sequence_number=v[3], partition_key=v[4], enqueued_time=v[5]),
    "eventhub-many": lambda v: [func.EventHubEvent(body=v[1], trigger_metadata=_metadata({"PartitionId": v[0]}), sequence_number=v[3]),
                                func.EventHubEvent(body=v[4], trigger_metadata=_metadata({"PartitionId": v[0]}), sequence_number=v[5])],
    "blob": lambda v: InputStream(data=v[1] if isinstance(v[1], bytes) else b"", name=v[0], length=v[2], uri=v[3], blob_properties=v[4]),
    "timer": lambda v: TimerRequest(past_due=v[0], schedule_status=v[1], schedule=v[2]),
    "http": lambda v: func.HttpRequest(method=v[0], url=v[1], headers=v[2] if isinstance(v[2], dict) else None,
                                       route_params=v[3] if isinstance(v[3], dict) else None, body=v[4] if isinstance(v[4], bytes) else b""),
    "documents": lambda v: func.DocumentList([func.Document.from_dict({"id": v[0], "_ts": v[1], "_lsn": v[2]}), v[3]]),
    "eventgrid": lambda v: func.EventGridEvent(id=v[0], data=v[1], topic=v[2], subject=v[3], event_type=v[4], event_time=v[5],
                                               data_version=v[6]),
}  # fmt: skip


_T = datetime(2024, 1, 1, tzinfo=UTC)
#: one plausible value per builder slot; each slot is drawn as this value or an odd one, so both
#: the reading path and the error path are exercised
VALID: dict[str, list[Any]] = {
    "queue": ["m1", b"body", 2, _T, "pop", None, None],
    "servicebus": ["id", b"b", {"a": 1}, {}, 1, "session", _T],
    "eventhub": ["0", b"x", "hub", 5, "pk", _T, None],
    "eventhub-many": ["0", b"x", None, 5, b"y", 6, None],
    "blob": ["c/k.txt", b"abc", 3, "http://u/c/k.txt", {"ETag": "x"}, None, None],
    "timer": [True, {"Next": "2024-01-01T00:00:00Z"}, {}, None, None, None, None],
    "http": ["GET", "http://h/p?q=1&q=2", {"a": "b"}, {"id": "1"}, b"body", None, None],
    "documents": ["d1", 1700000000, 5, func.Document.from_dict({"id": "d2"}), None, None, None],
    "eventgrid": ["id", {"contentLength": 1}, "/a/b", "/blobServices/default/containers/c/blobs/k",
                  "Microsoft.Storage.BlobCreated", _T, "1"],
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_odd_binding_objects_only_raise_documented_errors(kind: str) -> None:
    slots = st.tuples(*(st.one_of(st.just(valid), odd) for valid in VALID[kind]))

    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(slots.map(list))
    def check(values: list[Any]) -> None:
        try:
            obj = BUILDERS[kind](values)
        except Exception:  # noqa: BLE001 - the library itself refused the values: nothing to read
            reject()
        try:
            parsed = parse(obj, cloud="azure")
        except CorefnError:
            return
        json.dumps([e.to_dict() for e in parsed.events])

    check()


def test_empty_bodies_and_missing_fields_read_as_empty_not_errors() -> None:
    events = parse(QueueMessage(id=None, body=b""), cloud="azure").events
    assert events[0].to_dict() == {"kind": "queue", "queue": None, "id": None, "body": "", "attributes": {}, "attempt": None}
    timer = parse(TimerRequest(), cloud="azure").events[0]
    assert timer.to_dict() == {"kind": "timer", "time": None, "schedule": None, "name": None, "past_due": False}


def test_event_hub_without_partition_context_is_a_named_error() -> None:
    with pytest.raises(EventShapeError, match="metadata"):
        parse(func.EventHubEvent(body=b"x", sequence_number=1), cloud="azure")


def test_failed_message_is_raised_by_the_runtime_never_swallowed() -> None:
    with pytest.raises(RuntimeError, match="order rejected"):
        run(sample_app.app, "take_order", QueueMessage(id="m", body="fail", dequeue_count=1))


def test_a_binding_object_for_another_trigger_is_refused_by_the_dispatcher() -> None:
    with pytest.raises(CorefnError):
        run(sample_app.app, "take_order", TimerRequest(past_due=False))


# --------------------------------------------------------------------------- JSON detection


def test_unknown_host_envelope_is_an_error_not_an_invoke() -> None:
    with pytest.raises(EventShapeError, match="names no trigger"):
        parse({"Data": {"x": 1}, "Metadata": {"Something": 1}}, cloud="azure")
    with pytest.raises(EventShapeError):
        parse({"Data": {}, "Metadata": {}}, cloud="azure")


def test_a_malformed_event_later_in_an_event_grid_array_is_an_error() -> None:
    good = {"subject": "/blobServices/default/containers/c/blobs/k", "eventType": "Microsoft.Storage.BlobCreated",
            "eventTime": "2024-01-01T00:00:00Z", "id": "1", "data": {}}  # fmt: skip
    with pytest.raises(EventShapeError, match=r"\[1\]"):
        parse([good, {"eventType": "Microsoft.Storage.BlobCreated", "subject": "/not/a/blob"}], cloud="azure")


def test_unsigned_json_is_not_claimed() -> None:
    assert parse([{"device-status": "good1"}], cloud="azure").shape_name == "invoke"
    with pytest.raises(UnrecognizedPayloadError):
        parse([{"id": "1", "name": "plain document"}])


def test_shape_can_be_forced() -> None:
    docs = [{"id": "1", "name": "no system fields"}]
    parsed = parse({"Data": {"documents": docs}, "Metadata": {}}, cloud="azure", shape="host-cosmosdb")
    assert parsed.events[0].to_dict()["keys"] == {"id": "1"}


def test_event_grid_object_time_and_types() -> None:
    event = func.EventGridEvent(id="x", data={"contentLength": 3}, topic="/a/b/acct", event_type="Microsoft.Storage.BlobCreated",
                                subject="/blobServices/default/containers/c/blobs/d/e.txt", event_time=datetime(2024, 1, 1, tzinfo=UTC),
                                data_version="1")  # fmt: skip
    got = parse(event, cloud="azure")
    assert got.shape_name == "eventgrid-object"
    assert got.events[0].to_dict() | {} == {"kind": "storage", "bucket": "c", "key": "d/e.txt", "size": 3, "operation": "created",
                                             "time": "2024-01-01T00:00:00Z", "id": "x"}  # fmt: skip


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([ServiceBusMessage(body=b"a", message_id="1", application_properties={}, user_properties={}), "not a message"], "azure servicebus-message payload: field '[1]' should be a ServiceBusMessage"),
        ([func.EventHubEvent(body=b"a", trigger_metadata=_metadata({"PartitionId": "0"}), sequence_number=1), {"body": "x"}],
         "azure eventhub-event payload: field '[1]' should be an EventHubEvent"),
    ],
)  # fmt: skip
def test_a_many_cardinality_list_names_the_item_that_is_no_binding_object(items: list[Any], expected: str) -> None:
    """The shape is claimed by the first item; a later foreign item is a named error, not a crash."""
    with pytest.raises(EventShapeError) as caught:
        parse(items, cloud="azure")
    assert str(caught.value) == expected


@pytest.mark.parametrize("data", [123, {"text": "hi"}, ["aGk="], True])
def test_base64_queue_text_that_is_not_text_is_an_error_not_an_empty_body(data: Any) -> None:
    """``Metadata.corefn.encoding: base64`` promises base64 text; anything else used to read as an
    empty message, silently dropping what the queue held."""
    raw = {"Data": {"msg": data}, "Metadata": {"DequeueCount": 1, "PopReceipt": "p", "Id": "1", "corefn": {"encoding": "base64"}}}
    with pytest.raises(EventShapeError) as caught:
        parse(raw, cloud="azure")
    assert str(caught.value) == "azure host-queue payload: field 'Data' should be base64 text (Metadata.corefn.encoding is base64)"


def test_base64_queue_text_may_be_null_or_empty() -> None:
    for data in (None, ""):
        raw = {"Data": {"msg": data}, "Metadata": {"DequeueCount": 1, "PopReceipt": "p", "Id": "1", "corefn": {"encoding": "base64"}}}
        assert parse(raw, cloud="azure").events[0].body == b""  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", ["host-http", "host-timer", "host-eventhub", "host-servicebus", "host-queue", "host-cosmosdb"])
def test_a_host_shape_forced_onto_no_envelope_names_what_is_missing(shape: str) -> None:
    """``--shape host-...`` on a payload without ``Data``/``Metadata`` used to fail with a bare
    unpacking TypeError behind ``field '?' is malformed``."""
    with pytest.raises(EventShapeError) as caught:
        parse({"id": "1", "body": "x"}, cloud="azure", shape=shape)
    assert str(caught.value) == (
        f"azure {shape} payload: field '$' should be a Functions host envelope: exactly Data and Metadata objects, "
        "Data holding the trigger's value"
    )


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("queue-message", "a QueueMessage"), ("timer-request", "a TimerRequest"), ("http-request", "a HttpRequest"),
     ("eventgrid-object", "an EventGridEvent"), ("blob-stream", "an InputStream")],
)  # fmt: skip
def test_a_binding_shape_forced_onto_json_names_the_object_it_needs(shape: str, expected: str) -> None:
    """``--shape queue-message`` on JSON used to fail with ``field '?' is malformed (AttributeError...)``."""
    for payload in ({"id": "1"}, [{"id": "1"}]):
        with pytest.raises(EventShapeError) as caught:
            parse(payload, cloud="azure", shape=shape)
        assert str(caught.value) == f"azure {shape} payload: field '$' should be {expected}"


def test_a_document_list_forced_onto_json_documents_still_reads_them() -> None:
    parsed = parse([{"id": "d1", "_ts": 1700000000}], cloud="azure", shape="document-list")
    assert [e.to_dict()["keys"] for e in parsed.events] == [{"id": "d1"}]
