from __future__ import annotations

import asyncio

import pytest

from corefn import App, Batch, Context, Cors, HttpError, HttpRequest, HttpResponse
from corefn.dispatch import NotRunAfterFailure, dispatch
from corefn.errors import NoHandlerError
from corefn.events import QueueMessage, StorageEvent, StreamRecord, TimerEvent


def _app() -> App:
    app = App("t", cors=Cors(origins=("https://ok.example",)))

    @app.get("/devices/{id}")
    def get_device(req: HttpRequest) -> dict[str, str]:
        return {"id": req.params["id"]}

    @app.get("/devices/latest")
    def latest(req: HttpRequest) -> str:
        return "latest"

    @app.get("/files/{path+}")
    def files(req: HttpRequest) -> str:
        return req.params["path"]

    @app.post("/secret", api_key=True)
    def secret(req: HttpRequest) -> HttpResponse:
        return HttpResponse(201)

    @app.get("/boom")
    def boom(req: HttpRequest) -> None:
        raise RuntimeError("kaput")

    @app.get("/teapot")
    def teapot(req: HttpRequest) -> None:
        raise HttpError(418, "short and stout")

    @app.get("/async")
    async def slow(req: HttpRequest, ctx: Context) -> str:
        await asyncio.sleep(0)
        return ctx.function or ""

    return app


def http(app: App, method: str, path: str, **headers: str) -> HttpResponse:
    result = dispatch(app, [HttpRequest(method=method, path=path, headers=headers)], Context(app=app))
    assert result.response is not None
    return result.response


def test_routes_params_static_precedence_and_greedy() -> None:
    app = _app()
    assert http(app, "GET", "/devices/42").body == b'{"id":"42"}'
    assert http(app, "GET", "/devices/latest").body == b"latest"
    assert http(app, "GET", "/files/a/b/c.txt").body == b"a/b/c.txt"


def test_404_405_and_handler_errors_are_responses() -> None:
    app = _app()
    assert http(app, "GET", "/nope").status == 404
    not_allowed = http(app, "DELETE", "/devices/1")
    assert not_allowed.status == 405 and not_allowed.headers["allow"] == "GET"
    assert http(app, "GET", "/boom").status == 500
    teapot = http(app, "GET", "/teapot")
    assert teapot.status == 418 and b"short and stout" in teapot.body


def test_async_handlers_and_context() -> None:
    assert http(_app(), "GET", "/async").body == b"slow"


def test_api_key_is_checked_and_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    monkeypatch.delenv("COREFN_API_KEY", raising=False)
    assert http(app, "POST", "/secret", **{"x-api-key": ""}).status == 401
    monkeypatch.setenv("COREFN_API_KEY", "s3cret")
    assert http(app, "POST", "/secret").status == 401
    assert http(app, "POST", "/secret", **{"X-Api-Key": "wrong"}).status == 401
    assert http(app, "POST", "/secret", **{"X-Api-Key": "s3cret"}).status == 201


def test_cors_preflight_and_headers() -> None:
    app = _app()
    pre = http(app, "OPTIONS", "/devices/1", origin="https://ok.example", **{"access-control-request-method": "GET"})
    assert pre.status == 204 and pre.headers["access-control-allow-origin"] == "https://ok.example"
    assert http(app, "GET", "/devices/1", origin="https://ok.example").headers["access-control-allow-origin"]
    assert "access-control-allow-origin" not in http(app, "GET", "/devices/1", origin="https://evil.example").headers


def _queue_app(fail: set[str], *, ordered: bool = False) -> tuple[App, list[str]]:
    app = App("q")
    seen: list[str] = []

    @app.queue("orders", ordered=ordered)
    def on_order(msg: QueueMessage) -> None:
        seen.append(msg.id or "")
        if msg.id in fail:
            raise ValueError(f"bad {msg.id}")

    return app, seen


def test_batch_failures_are_recorded_never_swallowed() -> None:
    app, seen = _queue_app({"2"})
    events = [QueueMessage(queue="orders", id=str(i), body="x") for i in range(1, 4)]
    result = dispatch(app, events, Context())
    assert seen == ["1", "2", "3"]
    assert [o.event.id for o in result.failed] == ["2"]
    assert isinstance(result.failed[0].error, ValueError)


def test_ordered_groups_block_after_a_failure() -> None:
    app, seen = _queue_app({"a1"}, ordered=True)
    events = [
        QueueMessage(queue="orders", id="a1", group="a"),
        QueueMessage(queue="orders", id="b1", group="b"),
        QueueMessage(queue="orders", id="a2", group="a"),
    ]
    result = dispatch(app, events, Context())
    assert seen == ["a1", "b1"]
    failed = {o.event.id: o.error for o in result.failed}
    assert set(failed) == {"a1", "a2"} and isinstance(failed["a2"], NotRunAfterFailure)


def test_streams_are_always_ordered_per_partition() -> None:
    app = App("s")
    seen: list[str] = []

    @app.stream("telemetry")
    def on_record(record: StreamRecord) -> None:
        seen.append(record.sequence)
        if record.sequence == "1":
            raise RuntimeError("first fails")

    records = [StreamRecord(stream="telemetry", partition=p, sequence=s) for p, s in [("x", "1"), ("y", "2"), ("x", "3")]]
    result = dispatch(app, records, Context())
    assert seen == ["1", "2"]
    assert [o.event.sequence for o in result.failed] == ["1", "3"]  # type: ignore[attr-defined]


def test_batch_handlers_mark_failures() -> None:
    app = App("b")

    @app.queue("jobs", batch=True)
    def jobs(batch: Batch) -> None:
        for msg in batch:
            if msg.text == "bad":
                batch.fail(msg, ValueError("bad"))

    events = [QueueMessage(queue="jobs", id=str(i), body=b) for i, b in enumerate(["ok", "bad", "ok"])]
    assert [o.event.id for o in dispatch(app, events, Context()).failed] == ["1"]


def test_storage_filters_skip_without_error() -> None:
    app = App("st")
    seen: list[str] = []

    @app.storage("originals", prefix="in/", suffix=".jpg")
    def on_upload(event: StorageEvent) -> None:
        seen.append(event.key)

    events = [
        StorageEvent(bucket="originals", key="in/a.jpg", operation="created"),
        StorageEvent(bucket="originals", key="out/a.jpg", operation="created"),
        StorageEvent(bucket="originals", key="in/a.jpg", operation="deleted"),
    ]
    result = dispatch(app, events, Context())
    assert seen == ["in/a.jpg"] and result.ok and [o.skipped for o in result.outcomes] == [False, True, True]


def test_physical_names_map_to_logical_and_pinning(monkeypatch: pytest.MonkeyPatch) -> None:
    app, seen = _queue_app(set())
    monkeypatch.setenv("COREFN_NAMES", '{"prod-orders-7f3a": "orders"}')  # read again when it changes
    result = dispatch(app, [QueueMessage(queue="prod-orders-7f3a", id="1")], Context())
    assert seen == ["1"] and result.outcomes[0].event.queue == "orders"  # type: ignore[attr-defined]
    with pytest.raises(NoHandlerError, match="elsewhere"):
        dispatch(app, [QueueMessage(queue="elsewhere", id="2")], Context())
    dispatch(app, [QueueMessage(queue="elsewhere", id="3")], Context(), pinned="on_order")
    assert seen == ["1", "3"]


def test_nameless_timer_goes_to_the_only_timer() -> None:
    app = App("tm")
    ticks: list[TimerEvent] = []
    app.timer("*/5 * * * *", tz="Asia/Seoul")(ticks.append)
    dispatch(app, [TimerEvent()], Context())
    assert len(ticks) == 1
