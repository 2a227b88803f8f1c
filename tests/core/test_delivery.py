"""One delivery path: ``corefn.testing.call`` is what a deployed entry point runs
(``corefn.adapters.handle``), with the adapter's ``bind`` step, the deployment's settings
(``COREFN_HANDLER``, ``COREFN_NAMES`` or ``names=`` / ``env=``), and message groups that hold
after a failure whatever the handler declared."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from corefn import App, testing
from corefn.adapters import get_adapter, register, unregister
from corefn.deadletters import open_dead_letters
from corefn.errors import ConfigurationError, WrongCloudError
from corefn.events import Event, HttpResponse, InvokeEvent, QueueMessage, StreamRecord, TimerEvent, TopicMessage
from corefn.kit import Provider, Target, lazy
from corefn.policy import compile_policies, retry_policy

EVENTS = Path(__file__).resolve().parent.parent / "events"


def payload(cloud: str, name: str) -> Any:
    return json.loads((EVENTS / cloud / name).read_text())


def recorder() -> tuple[App, list[Event]]:
    """An app whose handlers of every kind record what they receive."""
    app = App("delivery")
    seen: list[Event] = []
    app.queue("jobs", name="jobs")(seen.append)
    app.stream("telemetry", name="readings")(seen.append)
    app.topic("alerts")(seen.append)
    app.timer("*/5 * * * *", name="tick")(seen.append)
    return app, seen


# ------------------------------------------------------------- the adapter's bind step


def test_a_pubsub_message_pinned_to_a_queue_or_stream_handler_arrives_as_that_kind() -> None:
    """Deployed, GCP's target re-reads a Pub/Sub message for the kind its handler declared;
    testing.call did not (TopicMessage with queue None; ConfigurationError for a stream)."""
    app, seen = recorder()
    names = {"gcf-test": "jobs", "my-topic": "telemetry"}  # the topics' physical names
    testing.call(app, payload("gcp", "topic-pubsub-cloudevent.json"), cloud="gcp", pinned="jobs", names=names)
    testing.call(app, payload("gcp", "topic-pubsub-cloudevent-ordering.json"), cloud="gcp", pinned="readings", names=names)
    testing.call(app, payload("gcp", "topic-pubsub-cloudevent.json"), cloud="gcp", names=names)  # found by topic
    queued, record, routed = seen
    assert isinstance(queued, QueueMessage) and queued.queue == "jobs"
    assert isinstance(record, StreamRecord) and record.stream == "telemetry" and record.partition == "ordering-key"
    assert isinstance(routed, QueueMessage) and routed.queue == "jobs"


def test_azure_envelopes_get_the_names_their_declaration_gives() -> None:
    """The host's queue and timer envelopes name no queue and no timer: the pinned handler does."""
    app, seen = recorder()
    testing.call(app, payload("azure", "queue-customhandler.json"), cloud="azure", pinned="jobs")
    testing.call(app, payload("azure", "timer-host.json"), cloud="azure", pinned="tick")
    queued, tick = seen
    assert isinstance(queued, QueueMessage) and queued.queue == "jobs"
    assert isinstance(tick, TimerEvent) and tick.name == "tick" and tick.schedule == "*/5 * * * *"


def test_the_pin_and_the_names_come_from_the_environment_or_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    app, seen = recorder()
    sqs = payload("aws", "queue-sqs.json")
    physical = sqs["Records"][0]["eventSourceARN"].rsplit(":", 1)[1]
    monkeypatch.delenv("COREFN_HANDLER", raising=False)
    monkeypatch.delenv("COREFN_NAMES", raising=False)
    testing.call(app, sqs, cloud="aws", names={physical: "jobs"})
    assert isinstance(seen[-1], QueueMessage) and seen[-1].queue == "jobs"
    before = dict(os.environ)
    testing.call(app, sqs, cloud="aws", env={"COREFN_NAMES": json.dumps({physical: "jobs"})})
    assert seen[-1].queue == "jobs"  # type: ignore[attr-defined]
    testing.call(app, payload("gcp", "topic-pubsub-push-attempt.json"), cloud="gcp", env={"COREFN_HANDLER": "jobs"})
    assert isinstance(seen[-1], QueueMessage) and seen[-1].queue == "jobs"
    assert dict(os.environ) == before  # the process environment is as it was
    monkeypatch.setenv("COREFN_HANDLER", "jobs")  # as a deployed function reads it
    testing.call(app, payload("gcp", "topic-pubsub-push-attempt.json"), cloud="gcp")
    assert isinstance(seen[-1], QueueMessage) and seen[-1].queue == "jobs"
    testing.call(app, payload("gcp", "topic-pubsub-push-attempt.json"), cloud="gcp", env={"COREFN_HANDLER": None})
    assert isinstance(seen[-1], TopicMessage)  # unpinned: a push body without a topic stays a topic message
    assert os.environ["COREFN_HANDLER"] == "jobs"


def test_inspect_output_does_not_depend_on_the_deployment_settings(tmp_path: Path) -> None:
    """``corefn inspect`` is the JSON-form contract: a developer's shell cannot change it."""
    from corefn.cli import main

    runner = CliRunner()
    path = str(EVENTS / "aws" / "queue-sqs.json")
    plain = runner.invoke(main, ["inspect", path], env={"COREFN_HANDLER": None, "COREFN_NAMES": None})
    assert plain.exit_code == 0, plain.output
    physical = json.loads(plain.output)["events"][0]["queue"]
    shell = {"COREFN_HANDLER": "no-such-handler", "COREFN_NAMES": json.dumps({physical: "renamed"})}
    assert runner.invoke(main, ["inspect", path], env=shell).output == plain.output
    assert runner.invoke(main, ["inspect", path], env={"COREFN_NAMES": "not json"}).output == plain.output


# ----------------------------------------------------------------------- the Provider value


class _Echo:
    name: ClassVar[str] = "echo"
    kind: ClassVar[str] = "invoke"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and "echo" in raw

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def to_events(self) -> list[Event]:
        return [InvokeEvent(payload=self.raw["echo"], name="echo")]

    def to_response(self, result: Any) -> Any:
        return result.value()


def test_a_provider_declaring_only_name_and_shapes_gets_every_default() -> None:
    app = App("echo")
    app.invoke("echo")(lambda event: event.payload * 2)
    bare = Provider("bare", (_Echo,))
    register(bare)
    try:
        assert testing.call(app, {"echo": 21}, cloud="bare") == 42  # bind: nothing to add
        with pytest.raises(ConfigurationError, match="no sample payloads"):
            get_adapter("bare").sample("queue")
        with pytest.raises(NotImplementedError, match="generates no deployment"):
            get_adapter("bare").generate(app, "echo:app")
        with pytest.raises(NotImplementedError, match="does not compile retry policies"):
            compile_policies(app, "bare")
        with pytest.raises(ConfigurationError, match="offers no dead-letter operations"):
            open_dead_letters("bare", {})
    finally:
        unregister("bare")
    assert bare.bundle_root is None  # corefn deploy warns that it does not bundle
    assert (bare.facts, bare.limits) == ("corefn_bare.facts", "corefn_bare.limits")
    assert bare.package == "tests"  # the declaring module's package: what corefn deploy vendors


def test_a_generator_module_without_plan_and_render_is_named() -> None:
    app = App("gen")
    with pytest.raises(ConfigurationError, match=r"corefn.errors is not a corefn generator: it must define plan"):
        Provider("odd", (_Echo,), generator="corefn.errors").generate(app, "gen:app")


def test_an_object_that_is_not_a_provider_is_refused_with_what_to_write() -> None:
    class OldStyle:  # an adapter class of before the kit
        name = "old-style"
        shapes = (_Echo,)

    with pytest.raises(ConfigurationError, match=r"not a corefn adapter: make it corefn.kit.Provider"):
        register(OldStyle())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="needs a name"):
        Provider("", (_Echo,))


def test_the_bind_step_gets_the_pinned_handler_once() -> None:
    app = App("echo")
    app.invoke("echo")(lambda event: event.payload * 2)

    def bind(event: Event, target: Target) -> Event:
        assert target.spec is not None and target.spec.name == "echo"  # the pin, resolved once
        return event.replace(payload=event.payload * 10)  # type: ignore[attr-defined,no-any-return]

    register(Provider("doubling", (_Echo,), bind=bind))
    try:
        assert testing.call(app, {"echo": 2}, cloud="doubling", pinned="echo") == 40
    finally:
        unregister("doubling")


def test_lazy_steps_import_their_module_on_first_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    if "corefn_aws.policy" in sys.modules:  # restored after the test: others hold the first copy
        monkeypatch.delitem(sys.modules, "corefn_aws.policy")
    step = lazy("corefn_aws.policy", "compile_policy")
    assert "corefn_aws.policy" not in sys.modules and step.__name__ == "compile_policy"
    app = App("lazy")
    app.queue("jobs", name="jobs")(lambda event: None)
    compiled = step(app, retry_policy(app, app.handler("jobs")))
    assert "corefn_aws.policy" in sys.modules and compiled.cloud == "aws"


def test_wrong_cloud_messages_read_as_english() -> None:
    from corefn.adapters import parse

    for expected, article in (("azure", "an azure"), ("openwhisk", "an openwhisk"), ("gcp", "a gcp")):
        with pytest.raises(WrongCloudError) as info:
            parse(payload("aws", "queue-sqs.json"), cloud=expected)
        assert "payload is an aws 'sqs' event" in str(info.value) and f"not {article} one" in str(info.value)


# ------------------------------------------------------------------ message groups hold


def _group_app(batch: bool, fail: set[str]) -> tuple[App, list[str]]:
    """A queue / topic / stream handler *not* declared ordered, failing on the ids in ``fail``."""
    app = App("groups")
    ran: list[str] = []

    def each(event: Any) -> None:
        ran.append(str(event.id))
        if event.id in fail:
            raise RuntimeError(f"failed {event.id}")

    def whole(records: Any) -> None:
        for record in records:
            ran.append(str(record.id))
            if record.id in fail:
                records.fail(record)

    handler = whole if batch else each
    for kind in ("queue", "topic"):
        getattr(app, kind)(kind, name=kind, batch=batch)(handler)
    app.stream("stream", name="stream", batch=batch)(handler)
    return app, ran


def _sqs_fifo() -> Any:
    raw = payload("aws", "queue-sqs-fifo.json")  # m1, m2 in group device-17; m3 in device-42
    for record in raw["Records"]:
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:queue"
    return raw


def test_a_failed_sqs_fifo_message_holds_back_the_rest_of_its_group_unordered_handler() -> None:
    """m1 fails: m2 (same group) is not run and is reported failed, so SQS redelivers it after
    m1; m3 (another group) runs. The handler did not declare ``ordered=True``."""
    raw = _sqs_fifo()
    m1, m2, m3 = (r["messageId"] for r in raw["Records"])
    app, ran = _group_app(batch=False, fail={m1})
    answer = testing.call(app, raw, cloud="aws", pinned="queue")
    assert ran == [m1, m3]
    assert answer == {"batchItemFailures": [{"itemIdentifier": m1}, {"itemIdentifier": m2}]}


def test_a_batch_handler_cannot_count_the_rest_of_a_failed_group_done() -> None:
    raw = _sqs_fifo()
    m1, m2, m3 = (r["messageId"] for r in raw["Records"])
    app, ran = _group_app(batch=True, fail={m1})
    answer = testing.call(app, raw, cloud="aws", pinned="queue")
    assert ran == [m1, m2, m3]  # it had the whole batch
    assert answer == {"batchItemFailures": [{"itemIdentifier": m1}, {"itemIdentifier": m2}]}


def test_a_failed_service_bus_session_message_holds_back_its_session() -> None:
    from azure.functions.servicebus import ServiceBusMessage

    def message(mid: str, session: str) -> ServiceBusMessage:
        return ServiceBusMessage(body=b"{}", message_id=mid, session_id=session, application_properties={}, user_properties={})

    app, ran = _group_app(batch=False, fail={"1"})
    batch = [message("1", "customer-7"), message("2", "customer-7"), message("3", "customer-9")]
    with pytest.raises(RuntimeError, match="failed 1"):  # the Functions host retries the messages
        testing.call(app, batch, cloud="azure", pinned="queue", shape="servicebus-message")
    assert ran == ["1", "3"]


def test_a_failed_kafka_record_holds_back_its_partition() -> None:
    raw = payload("openwhisk", "stream-kafka-batch.json")  # three records of partition 0
    raw["messages"].append({**raw["messages"][0], "partition": 1, "offset": 7})
    app, ran = _group_app(batch=False, fail={"mytopic/0/100"})
    answer = testing.call(app, raw, cloud="openwhisk", pinned="stream")
    assert ran == ["mytopic/0/100", "mytopic/1/7"]
    assert "error" in answer


def test_a_standard_queue_message_orders_nothing() -> None:
    raw = payload("aws", "queue-sqs-batch3.json")
    for record in raw["Records"]:
        record["attributes"].pop("MessageGroupId", None)
    ids = [r["messageId"] for r in raw["Records"]]
    app, ran = _group_app(batch=False, fail={ids[0]})
    testing.call(app, raw, cloud="aws", pinned="queue")
    assert ran == ids


# ---------------------------------------------------------------------------- HTTP answers


HTTP_FIXTURES = {
    "aws": "http-apigw-v2.json",
    "azure": "http-host-get-query.json",
    "openwhisk": "http-webaction-get.json",
}


def _status(cloud: str, answer: Any) -> int:
    if cloud == "azure":
        return int(answer["Outputs"]["res"]["statusCode"])
    return int(answer["statusCode"])


def _catch_all(handler: Any) -> App:
    app = App("http")
    for method in ("GET", "POST"):
        app.http(method, "/{path+}", name=f"all-{method}")(handler)
        app.http(method, "/", name=f"root-{method}")(handler)
    return app


@pytest.mark.parametrize("cloud", [*sorted(HTTP_FIXTURES), "gcp"])
def test_an_http_handler_crash_is_a_500_logged_with_the_invocation_id(cloud: str, caplog: pytest.LogCaptureFixture) -> None:
    def boom(request: Any) -> Any:
        raise RuntimeError("kaput")

    with caplog.at_level(logging.ERROR, logger="corefn"):
        if cloud == "gcp":  # functions-framework hands the function a Flask request
            import flask

            with flask.Flask("parity").test_request_context("/devices", method="GET"):
                answer = testing.call(_catch_all(boom), flask.request._get_current_object(), cloud=cloud, invocation_id="inv-42")  # type: ignore[attr-defined]
            assert answer.status_code == 500 and answer.get_json()["invocation_id"] == "inv-42"
        else:
            answer = testing.call(_catch_all(boom), payload(cloud, HTTP_FIXTURES[cloud]), cloud=cloud, invocation_id="inv-42")
            assert _status(cloud, answer) == 500
    assert [r for r in caplog.records if getattr(r, "invocation_id", None) == "inv-42" and "kaput" in r.getMessage()]


def test_an_azure_response_the_library_refuses_is_a_500_not_an_exception(caplog: pytest.LogCaptureFixture) -> None:
    """``func.HttpResponse`` cannot carry a non-string header name (IndexError inside the
    library): the function still answers, 500, as a gateway does on the other clouds."""
    import azure.functions as func

    app = _catch_all(lambda request: HttpResponse(200, {7: "seven"}, b"ok"))  # type: ignore[dict-item]
    request = func.HttpRequest("GET", "https://example.net/devices", headers={}, body=b"")
    with caplog.at_level(logging.ERROR, logger="corefn"):
        answer = testing.call(app, request, cloud="azure", pinned="all-GET", shape="http-request", invocation_id="inv-7")
    assert answer.status_code == 500 and json.loads(answer.get_body())["invocation_id"] == "inv-7"
    assert [r for r in caplog.records if getattr(r, "invocation_id", None) == "inv-7"]


@pytest.mark.parametrize("cloud", sorted(HTTP_FIXTURES))
def test_a_response_body_may_be_what_a_handler_returns(cloud: str) -> None:
    app = _catch_all(lambda request: HttpResponse(201, {"x-kind": "json"}, {"a": 1}))
    answer = testing.call(app, payload(cloud, HTTP_FIXTURES[cloud]), cloud=cloud)
    assert _status(cloud, answer) == 201
    body = answer["Outputs"]["res"]["body"] if cloud == "azure" else answer["body"]
    assert json.loads(body) == {"a": 1}


def test_http_response_bodies() -> None:
    assert HttpResponse(200, {}, {"a": 1}).body == b'{"a":1}'
    assert HttpResponse(200, {}, {"a": 1}).content_type == "application/json"
    assert HttpResponse(200, {}, [1, 2]).body == b"[1,2]"
    assert HttpResponse(200, {}, "héllo").body == "héllo".encode() and HttpResponse(200, {}, "x").content_type.startswith("text/plain")
    assert HttpResponse(200, {"Content-Type": "text/html"}, "<p>").headers == {"Content-Type": "text/html"}
    assert HttpResponse(200, {}, bytearray(b"ab")).body == b"ab" and HttpResponse(200, {}, None).body == b""
    assert HttpResponse(200, {}, b"raw").headers == {}
    with pytest.raises(TypeError, match="body must be bytes, str, a dict or list"):
        HttpResponse(200, {}, 3.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="status must be an int"):
        HttpResponse("200", {}, b"")  # type: ignore[arg-type]


# ----------------------------------------------------------------- the local runtime agrees


def test_local_deliveries_carry_a_group_only_on_ordered_resources() -> None:
    """Locally as deployed: an unordered queue is a standard queue, whose messages have no group
    (so the dispatcher orders nothing); an ordered one keeps the publisher's group."""
    from corefn.local.deliveries import to_event
    from corefn.local.store import Delivery

    def row(partition: str | None) -> Delivery:
        return Delivery(1, "m1", "queue", "jobs", "jobs", partition, "customer-7", b"{}", {}, {}, 1, 0.0)

    assert to_event(row(None)).group is None  # type: ignore[attr-defined]
    assert to_event(row("customer-7")).group == "customer-7"  # type: ignore[attr-defined]
    assert isinstance(to_event(row("customer-7")), QueueMessage)


def test_invoke_replays_a_provider_event_through_the_deployed_flow() -> None:
    """``corefn invoke APP NAME --event FILE`` runs the adapter's bind step too: a Pub/Sub
    message replayed to a queue handler arrives as that handler's QueueMessage."""
    from corefn.cli import main
    from tests import parity_app

    parity_app.RECEIVED.clear()
    path = str(EVENTS / "gcp" / "topic-pubsub-cloudevent.json")
    result = CliRunner().invoke(main, ["invoke", "tests.parity_app:app", "jobs", "--event", path], env={"COREFN_NAMES": None})
    assert result.exit_code == 0, result.output
    ((name, event),) = parity_app.RECEIVED
    parity_app.RECEIVED.clear()
    assert name == "jobs" and isinstance(event, QueueMessage) and event.queue == "gcf-test"


def test_a_warmup_ping_short_circuits_even_when_the_entry_point_names_its_shape() -> None:
    app, seen = recorder()
    assert testing.call(app, {"corefn": "warmup"}, cloud="aws", pinned="jobs", shape="sqs") == {"warmup": True}
    assert seen == []
