"""Idempotent handlers in the dispatcher: declaration, the keys events give, batches, HTTP routes.
The record stores themselves are proved against each emulator in tests/sinks/test_idempotency_records.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from corefn import App, Batch, Context, HttpRequest, NoSqlChange, QueueMessage, StorageEvent, StreamRecord, TimerEvent
from corefn.dispatch import dispatch, dispatch_http
from corefn.errors import ConfigurationError
from corefn.idempotency import DEFAULT_TABLE, Idempotency
from corefn.sinks.memory import open_backend as open_memory
from corefn.sinks.sqlite import open_backend as open_sqlite
from corefn.specs import SinkSpec

T = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def bind_memory_table(app: App, name: str = DEFAULT_TABLE) -> None:
    app.sink(name).bind(open_sqlite(SinkSpec("table", name, {"key": "id"}), "sqlite://"))


def test_idempotent_true_declares_the_default_table() -> None:
    app = App("a")

    @app.queue("q", idempotent=True)
    def handle(message: QueueMessage) -> None: ...

    assert app.handler("handle").options.idempotent == Idempotency()
    (sink,) = app.sinks
    assert (sink.kind, sink.name, sink.options["key"]) == ("table", DEFAULT_TABLE, "id")


def test_idempotent_false_is_off_and_bad_values_are_refused() -> None:
    app = App("a")

    @app.queue("q", idempotent=False)
    def handle(message: QueueMessage) -> None: ...

    assert app.handler("handle").options.idempotent is None and not app.sinks
    with pytest.raises(ConfigurationError, match="idempotent= takes"):
        app.queue("q2", idempotent="yes")
    with pytest.raises(ConfigurationError, match="not both"):
        Idempotency(table="t", cache="c")
    with pytest.raises(ConfigurationError, match="positive"):
        Idempotency(expiry_s=0)


def test_app_defaults_can_make_every_handler_idempotent() -> None:
    from corefn import Options

    app = App("a", defaults=Options(idempotent=True))

    @app.queue("q")
    def handle(message: QueueMessage) -> None: ...

    @app.queue("r", idempotent=False)
    def other(message: QueueMessage) -> None: ...

    assert app.handler("handle").options.idempotent == Idempotency()
    assert app.handler("other").options.idempotent is None
    assert [s.name for s in app.sinks] == [DEFAULT_TABLE]


def test_an_undeclared_record_sink_is_a_clear_error() -> None:
    app = App("a")

    @app.queue("q", idempotent=Idempotency(cache="records"))
    def handle(message: QueueMessage) -> None: ...

    with pytest.raises(ConfigurationError, match=r"declare it with app.cache\('records'\)"):
        dispatch(app, [QueueMessage(queue="q", id="1")], Context(app=app))


@pytest.mark.parametrize(
    ("event", "identity"),
    [
        (QueueMessage(queue="q", id="m-1"), "m-1"),
        (StorageEvent(bucket="b", key="k", operation="created", sequencer="0055AED6DCD90281E5"), "b/k:created:0055AED6DCD90281E5"),
        (StorageEvent(bucket="b", key="k", operation="created", etag="e1", time=T), "b/k:created:e1:2026-12-06T07:00:00Z"),
        (StorageEvent(bucket="b", key="k", operation="created", id="evt", sequencer="1"), "evt"),
        (StorageEvent(bucket="b", key="k", operation="deleted"), None),
        (StreamRecord(stream="s", partition="0", sequence="42"), "s/0/42"),
        (NoSqlChange(table="t", operation="insert", sequence="7"), "t:7"),
        (TimerEvent(name="nightly", time=T), "nightly@2026-12-06T07:00:00Z"),
        (HttpRequest(method="POST", path="/", headers={"Idempotency-Key": "abc"}, id="req-1"), "abc"),
        (HttpRequest(method="POST", path="/", id="req-1"), None),
    ],
)
def test_identity_of_each_kind(event: Any, identity: str | None) -> None:
    assert event.identity == identity


def test_the_sequencer_stays_out_of_the_json_form_and_equality() -> None:
    one = StorageEvent(bucket="b", key="k", operation="created", sequencer="1")
    two = StorageEvent(bucket="b", key="k", operation="created", sequencer="2")
    assert "sequencer" not in one.to_dict() and one == two and "sequencer" not in repr(one)


def test_aws_s3_notification_carries_its_sequencer() -> None:
    from corefn.adapters import parse

    raw = {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-06T07:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": {"key": "k", "size": 1, "eTag": "e", "sequencer": "0055AED6DCD90281E5"}},
    }]}  # fmt: skip
    (event,) = parse(raw, cloud="aws").events
    assert event.identity == "b/k:created:0055AED6DCD90281E5"


def test_an_event_without_a_key_fails_its_delivery_or_uses_the_key_function() -> None:
    app = App("a")
    runs: list[str] = []

    @app.storage("b", on="deleted", idempotent=True)
    def gone(event: StorageEvent) -> None:
        runs.append(event.key)

    @app.queue("orders", idempotent=Idempotency(key=lambda m: m.json()["order"]))
    def order(message: QueueMessage) -> None:
        runs.append(message.text)

    bind_memory_table(app)
    (outcome,) = dispatch(app, [StorageEvent(bucket="b", key="k", operation="deleted")], Context(app=app)).outcomes
    assert isinstance(outcome.error, ConfigurationError) and "Idempotency(key=fn)" in str(outcome.error)
    for mid in ("m1", "m2"):  # two messages, one order: the key function makes them one
        dispatch(app, [QueueMessage(queue="orders", id=mid, body='{"order": 7}')], Context(app=app))
    assert runs == ['{"order": 7}']


def test_batch_handler_gets_only_what_was_not_handled() -> None:
    app = App("a")
    seen: list[list[str]] = []

    @app.queue("q", batch=True, idempotent=True)
    def handle(batch: Batch) -> None:
        seen.append([m.id for m in batch])
        for message in batch:
            if message.text == "bad":
                batch.fail(message)

    bind_memory_table(app)
    first = [QueueMessage(queue="q", id="1", body="ok"), QueueMessage(queue="q", id="2", body="bad")]
    result = dispatch(app, first, Context(app=app))
    assert [o.ok for o in result.outcomes] == [True, False]
    again = [*first, QueueMessage(queue="q", id="3", body="ok")]
    result = dispatch(app, again, Context(app=app))
    assert seen == [["1", "2"], ["2", "3"]]  # 1 was answered from its record; 2 failed, so it runs again
    assert [o.replayed for o in result.outcomes] == [True, False, False]


def test_idempotent_http_route_replays_the_stored_response() -> None:
    app = App("a")
    calls: list[str] = []

    @app.post("/payments", idempotent=True)
    def pay(request: HttpRequest) -> Any:
        calls.append(request.text)
        return {"paid": request.json()["amount"], "n": len(calls)}

    bind_memory_table(app)

    def post(key: str | None) -> Any:
        headers = {"idempotency-key": key} if key else {}
        return dispatch_http(app, HttpRequest(method="POST", path="/payments", headers=headers, body='{"amount": 5}'), Context(app=app))

    missing = post(None)
    assert missing.status == 400 and b"Idempotency-Key" in missing.body
    first, second = post("k1"), post("k1")
    assert first.status == second.status == 200 and first.body == second.body == b'{"paid":5,"n":1}'
    assert second.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert post("k2").body == b'{"paid":5,"n":2}'
    assert len(calls) == 2


def test_http_request_in_progress_is_a_409() -> None:
    app = App("a")

    @app.post("/slow", idempotent=Idempotency(cache="records"))
    def slow(request: HttpRequest) -> str:
        return "done"

    app.cache("records").bind(open_memory(SinkSpec("cache", "records"), "memory://idem-409"))  # type: ignore[attr-defined]
    app.sink("records").add("slow#k", '{"status": "in_progress"}', ttl=60)
    answer = dispatch_http(app, HttpRequest(method="POST", path="/slow", headers={"idempotency-key": "k"}), Context(app=app))
    assert answer.status == 409


def test_record_sink_names_where_the_records_live() -> None:
    from corefn.idempotency import record_sink

    app = App("a")

    @app.queue("q", idempotent=True)
    def one(message: QueueMessage) -> None: ...

    @app.queue("r", idempotent=Idempotency(cache="locks"))
    def two(message: QueueMessage) -> None: ...

    @app.queue("s")
    def three(message: QueueMessage) -> None: ...

    assert [record_sink(app.handler(n)) for n in ("one", "two", "three")] == [DEFAULT_TABLE, "locks", None]


def test_the_record_sink_counts_in_uses() -> None:
    """Least privilege: an idempotent handler's function is granted its records' sink even when
    its uses= names only the sinks its own code touches."""
    from corefn.policy import used_sinks

    app = App("a")
    photos = app.object_store("photos")
    app.cache("locks")

    @app.queue("q", idempotent=True, uses=[photos])
    def one(message: QueueMessage) -> None: ...

    @app.queue("r", idempotent=Idempotency(cache="locks"), uses=["photos"])
    def two(message: QueueMessage) -> None: ...

    @app.queue("s", uses=[photos])
    def three(message: QueueMessage) -> None: ...

    assert [s.name for s in used_sinks(app, app.handler("one"))] == ["photos", DEFAULT_TABLE]
    assert [s.name for s in used_sinks(app, app.handler("two"))] == ["photos", "locks"]
    assert [s.name for s in used_sinks(app, app.handler("three"))] == ["photos"]
