"""Every corefn event survives a trip through a CloudEvent: the SDK's object, both HTTP content
modes as the SDK writes them, and corefn's own reading of those wire forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import from_http

from corefn.errors import EventShapeError
from corefn.events import (
    Event,
    HttpRequest,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
)
from corefn_knative._envelope import from_binary, from_structured
from corefn_knative.cloudevent import from_cloudevent, from_json_form, to_cloudevent, to_json_form, type_of

T = datetime(2026, 12, 1, 10, 0, 5, 250000, tzinfo=UTC)

EVENTS: list[tuple[Event, str]] = [
    (StorageEvent(bucket="originals", key="a b/ü.jpg", operation="created", size=12, etag="e1", content_type="image/jpeg", version="3", time=T, id="s1"), "dev.corefn.storage.created"),
    (StorageEvent(bucket="originals", key="k", operation="metadata_updated", time=T, id="s2"), "dev.corefn.storage.metadata_updated"),
    (StorageEvent(bucket="originals", key="k", operation="deleted", time=T, id="s3"), "dev.corefn.storage.deleted"),
    (QueueMessage(queue="readings", body="héllo", attributes={"Trace Id": "x"}, attempt=3, group="g1", dedup_id="d1", time=T, id="q1"), "dev.corefn.queue.message"),
    (QueueMessage(queue="bin", body=b"\xff\x00\x10", time=T, id="q2"), "dev.corefn.queue.message"),
    (TopicMessage(topic="orders", subscription="billing", body='{"a":1}', attributes={"k": "v"}, time=T, id="t1"), "dev.corefn.topic.message"),
    (TimerEvent(time=T, schedule="0 3 * * *", name="nightly", past_due=True, id="tm1"), "dev.corefn.timer.fired"),
    (StreamRecord(stream="telemetry", partition="4", sequence="49590338271490256608559692538361571095921575989136588898", key="dev-1", data=b"\x01\x02", time=T, id="r1"), "dev.corefn.stream.record"),
    (NoSqlChange(table="devices", operation="modify", keys={"id": "d1"}, new={"id": "d1", "n": 2}, old={"id": "d1", "n": 1}, sequence="77", time=T, id="n1"), "dev.corefn.nosql.modify"),
    (NoSqlChange(table="devices", operation="remove", keys={"id": "d1"}, time=T, id="n2"), "dev.corefn.nosql.remove"),
    (InvokeEvent(payload={"width": 100, "tags": ["a"]}, name="resize", id="i1"), "dev.corefn.invoke"),
    (HttpRequest(method="POST", path="/devices/7", headers={"X-A": "1"}, query="a=1&a=2", body=b"\x00\xff", params={"id": "7"}, id="h1"), "dev.corefn.http.request"),
]


def _same(a: Event, b: Event) -> None:
    assert type(a) is type(b)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("event, ce_type", EVENTS, ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_type_is_documented_per_kind(event: Event, ce_type: str) -> None:
    assert type_of(event) == ce_type
    assert to_json_form(event)["type"] == ce_type


@pytest.mark.parametrize("event", [e for e, _ in EVENTS], ids=lambda e: f"{e.kind}-{e.id}")
def test_round_trip_through_the_sdk_object(event: Event) -> None:
    _same(event, from_cloudevent(to_cloudevent(event)))


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("event", [e for e, _ in EVENTS], ids=lambda e: f"{e.kind}-{e.id}")
def test_round_trip_over_http_as_the_sdk_sends_it(event: Event, mode: str) -> None:
    headers, body = (to_binary if mode == "binary" else to_structured)(to_cloudevent(event))
    # corefn's own wire reading (what the runtime does) ...
    raw = from_binary(headers, body) if mode == "binary" else from_structured(body)
    _same(event, from_json_form(raw))
    # ... and the SDK's, for a consumer that is not corefn
    _same(event, from_cloudevent(from_http(headers, body, data_unmarshaller=lambda b: b)))


def test_source_and_subject_name_the_resource_and_object() -> None:
    form = to_json_form(EVENTS[0][0])
    assert form["source"] == "/corefn/storage/originals" and form["subject"] == "a b/ü.jpg"
    record = to_json_form(EVENTS[7][0])
    assert record["subject"].startswith("partition:4#") and record["partitionkey"] == "dev-1"


def test_an_event_without_id_gets_one() -> None:
    assert to_json_form(InvokeEvent(payload=1))["id"]


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"specversion": "1.0", "id": "1", "source": "/x", "type": "com.example.other"}, "type"),
        ({"specversion": "1.0", "id": "1", "source": "/corefn/storage/b", "type": "dev.corefn.storage.exploded", "data": {"key": "k"}}, "type"),
        ({"specversion": "1.0", "id": "1", "source": "/corefn/stream/s", "type": "dev.corefn.stream.record", "subject": "4/5"}, "subject"),
        ({"specversion": "1.0", "id": "1", "source": "/corefn/queue/q", "type": "dev.corefn.queue.message", "corefnattempt": "two"}, "corefnattempt"),
    ],
)
def test_bad_corefn_cloudevents_name_the_attribute(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(EventShapeError) as info:
        from_json_form(raw)
    assert info.value.field == field


@pytest.mark.parametrize("name", ["storage-cos-write", "stream-codeengine-kafka", "timer-pingsource", "queue-corefn-message"])
def test_corefn_inspect_cli_reads_structured_cloudevents(name: str) -> None:
    """``corefn inspect --cloud knative FILE`` on a structured-mode CloudEvent prints its corefn
    events, the same as the fixture's expected form."""
    from click.testing import CliRunner

    from corefn.cli import main

    path = Path(__file__).parent.parent / "events" / "knative" / f"{name}.json"
    done = CliRunner().invoke(main, ["inspect", "--cloud", "knative", str(path)])
    assert done.exit_code == 0, done.output
    from corefn.testing import assert_matches

    assert_matches(json.loads(path.with_name(f"{name}.expected.json").read_text()), json.loads(done.output))
