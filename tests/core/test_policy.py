"""Declarations the deploy reads: ``uses=`` (validated at declaration), ``include=``, and the
portable retry policy with its defaults (queues and streams alike poison after 5 attempts)."""

from __future__ import annotations

from typing import Any

import pytest

from corefn import App
from corefn.errors import ConfigurationError
from corefn.policy import DEFAULT_MAX_ATTEMPTS, DeadLetter, retry_policy, used_sinks


def _app() -> tuple[App, Any, Any]:
    app = App("shop")
    orders = app.table("orders")
    photos = app.object_store("photos")
    app.publisher("alerts", target="topic")
    return app, orders, photos


def test_uses_takes_sink_objects_and_names_and_keeps_only_those() -> None:
    app, orders, photos = _app()

    @app.queue("jobs", uses=[orders, "alerts"])
    def work(message: Any) -> None: ...

    @app.queue("other")
    def other(message: Any) -> None: ...

    assert app.handler("work").options.uses == ("orders", "alerts")
    assert [s.name for s in used_sinks(app, app.handler("work"))] == ["orders", "alerts"]
    assert [s.name for s in used_sinks(app, app.handler("other"))] == ["orders", "photos", "alerts"]  # no uses=: all


@pytest.mark.parametrize("uses", [["nope"], [42], "orders-typo"])
def test_uses_naming_an_undeclared_sink_fails_at_declaration(uses: Any) -> None:
    app, _, _ = _app()
    with pytest.raises(ConfigurationError):

        @app.queue("jobs", uses=uses)
        def work(message: Any) -> None: ...


def test_uses_refuses_a_sink_of_another_app() -> None:
    app, _, _ = _app()
    other = App("other")
    foreign = other.table("orders")
    with pytest.raises(ConfigurationError, match="another app"):

        @app.queue("jobs", uses=[foreign])
        def work(message: Any) -> None: ...


@pytest.mark.parametrize(
    "options", [{"max_attempts": -1}, {"max_attempts": 2.5}, {"backoff": -1}, {"max_age": 0}, {"memory": 64}, {"max_attempts": True}]
)
def test_bad_retry_options_fail_at_declaration(options: dict[str, Any]) -> None:
    app, _, _ = _app()
    with pytest.raises(ConfigurationError):

        @app.stream("clicks", **options)
        def work(record: Any) -> None: ...


@pytest.mark.parametrize("kind", ["queue", "stream", "nosql"])
def test_queues_streams_and_change_feeds_poison_after_five_attempts(kind: str) -> None:
    app, _, _ = _app()
    getattr(app, kind)("orders" if kind == "nosql" else "in", name="h")(lambda e: None)
    policy = retry_policy(app, app.handlers[0])
    assert policy.max_attempts == DEFAULT_MAX_ATTEMPTS == 5
    assert policy.bisect is (kind != "queue")


def test_max_attempts_zero_retries_until_expiry_and_dead_letters_are_resolved() -> None:
    app, _, _ = _app()

    @app.stream("clicks", max_attempts=0, max_age=3600, dead_letter="alerts")
    def clicks(record: Any) -> None: ...

    @app.queue("jobs", dead_letter="jobs-dead")
    def jobs(message: Any) -> None: ...

    forever = retry_policy(app, app.handler("clicks"))
    assert forever.retries_forever and forever.max_age == 3600 and forever.dead_letter == DeadLetter("alerts", "topic", True)
    assert retry_policy(app, app.handler("jobs")).dead_letter == DeadLetter("jobs-dead", "queue", False)


def test_dead_letter_of_the_wrong_kind_or_itself_is_refused() -> None:
    app, _, _ = _app()

    @app.queue("jobs", dead_letter="orders")  # a table
    def jobs(message: Any) -> None: ...

    @app.queue("loop", dead_letter="loop")
    def loop(message: Any) -> None: ...

    with pytest.raises(ConfigurationError, match="queue, topic or bucket"):
        retry_policy(app, app.handler("jobs"))
    with pytest.raises(ConfigurationError, match="loop"):
        retry_policy(app, app.handler("loop"))


def test_max_age_is_for_streams_only_and_http_is_never_retried() -> None:
    app, _, _ = _app()

    @app.queue("jobs", max_age=60)
    def jobs(message: Any) -> None: ...

    @app.get("/x")
    def page(req: Any) -> None: ...

    with pytest.raises(ConfigurationError, match="max_age"):
        retry_policy(app, app.handler("jobs"))
    assert retry_policy(app, app.handler("page")).max_attempts == 1


@pytest.mark.parametrize("bad", ["/etc/passwd", "../secrets", "a/../../b", "C:/x", ""])
def test_include_paths_stay_inside_the_app_folder(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        App("x", include=[bad])
    assert App("x", include=["data/", "fonts/logo.ttf"]).include == ("data", "fonts/logo.ttf")
