from __future__ import annotations

import pytest

from corefn import App, ConfigurationError, Options
from corefn.events import QueueMessage


def test_declarations_are_frozen_specs_read_by_everything() -> None:
    app = App("shop", defaults=Options(timeout=10))
    originals = app.object_store("originals")

    @app.storage("originals", on=("created", "deleted"), suffix=".jpg", memory=512)
    def resize(event, ctx):  # type: ignore[no-untyped-def]
        return None

    @app.queue("orders", batch=True, max_attempts=3)
    def orders(batch):  # type: ignore[no-untyped-def]
        return None

    spec = app.handler("resize")
    assert spec.kind == "storage" and spec.resource == "originals" and spec.takes_context
    assert spec.options.memory == 512 and spec.options.timeout == 10  # app defaults merged
    assert app.handler("orders").batch and app.handler("orders").options.max_attempts == 3
    resources = app.resources()
    assert resources["originals"].type == "bucket"
    assert resources["originals"].handlers == ("resize",) and resources["originals"].sinks == ("originals",)
    assert app.sink("originals") is originals


def test_one_namespace_conflicting_kinds_are_rejected() -> None:
    app = App("x")
    app.object_store("things")
    with pytest.raises(ConfigurationError, match="declared both as a queue and as a bucket"):

        @app.queue("things")
        def on_thing(msg):  # type: ignore[no-untyped-def]
            return None

    assert "on_thing" not in [s.name for s in app.handlers]  # the failed declaration left nothing


def test_publisher_takes_the_kind_of_the_trigger_it_shares_a_name_with() -> None:
    app = App("x")

    @app.topic("alerts")
    def on_alert(msg):  # type: ignore[no-untyped-def]
        return None

    app.publisher("alerts")
    assert app.resources()["alerts"].type == "topic"


@pytest.mark.parametrize(
    "declare, message",
    [
        (lambda app: app.timer("*/5 * * *"), "5-field cron"),
        (lambda app: app.timer("*/5 * * * *", tz="Mars/Olympus"), "unknown time zone"),
        (lambda app: app.http("FETCH", "/x"), "unknown HTTP method"),
        (lambda app: app.http("GET", "x"), "must start with '/'"),
        (lambda app: app.storage("b", on="renamed"), "storage 'on'"),
        (lambda app: app.queue("bad name!"), "queue name"),
        (lambda app: app.queue("q", retries=3), "unknown option"),
    ],
)
def test_bad_declarations_say_what_is_wrong(declare, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match=message):
        declare(App("x"))


def test_handler_signature_is_checked_once() -> None:
    app = App("x")
    with pytest.raises(ConfigurationError, match=r"\(event\) or \(event, ctx\)"):

        @app.invoke()
        def three(a, b, c):  # type: ignore[no-untyped-def]
            return None


def test_duplicate_handler_names_are_rejected() -> None:
    app = App("x")

    @app.invoke()
    def resize(payload):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ConfigurationError, match="declared twice"):
        app.invoke(name="resize")(lambda payload: None)


def test_decorators_return_the_plain_function() -> None:
    app = App("x")

    @app.queue("q")
    def handle(msg: QueueMessage) -> str:
        return msg.text

    assert handle(QueueMessage(queue="q", id="1", body="plain")) == "plain"
