from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from corefn.events import (
    Body,
    HttpRequest,
    HttpResponse,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
    parse_time,
)
from corefn.events.base import Headers, LazyMap, Query, format_time
from corefn.events.http import as_response


def test_events_are_frozen_and_slotted() -> None:
    event = StorageEvent(bucket="b", key="k", operation="created")
    with pytest.raises(AttributeError, match="frozen"):
        event.key = "other"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")
    changed = event.replace(key="other")
    assert (changed.key, event.key) == ("other", "k") and changed == StorageEvent(bucket="b", key="other", operation="created")
    import pickle

    assert pickle.loads(pickle.dumps(changed)) == changed


def test_body_decodes_base64_lazily_and_once() -> None:
    body = Body(base64.b64encode(b"\xff\x00binary").decode(), base64=True)
    assert body._content is None  # nothing decoded yet
    assert body.content == b"\xff\x00binary"
    assert not body.is_text()
    text, is_b64 = body.to_json_value()
    assert is_b64 and base64.b64decode(text) == b"\xff\x00binary"


def test_body_text_json_and_equality() -> None:
    body = Body('{"a": 1}')
    assert body.json() == {"a": 1}
    assert body == b'{"a": 1}' == Body(b'{"a": 1}')
    assert Body(None).content == b"" and not Body(None)


def test_headers_are_case_insensitive_and_join_repeats() -> None:
    headers = Headers({"Accept": ["a", "b"], "X-One": "1"})
    assert headers["accept"] == "a, b"
    assert headers.get_all("ACCEPT") == ["a", "b"]
    assert "x-one" in headers and headers.to_dict() == {"accept": "a, b", "x-one": "1"}


@pytest.mark.parametrize(
    "source",
    [{"Accept": "a", "X-Id": "1"}, {"Cookie": "a=1", "cookie": "b=2"}, {"x": ["1", "2"], "y": "3"}, {}, {"n": 5, "none": None}],
)
def test_headers_fast_path_agrees_with_the_general_one(source: dict[str, object]) -> None:
    """A dict of strings takes a one-comprehension path; names that fold together and list
    values take the general one. Both must read the same."""
    headers = Headers(source)  # type: ignore[arg-type]
    general = Headers(list(source.items()))  # type: ignore[arg-type]
    assert headers.to_dict() == general.to_dict()
    for name in [*general, "missing"]:
        assert headers.get(name.upper()) == general.get(name.upper())
        if name != "missing":
            assert headers[name] == general[name] == ", ".join(general.get_all(name))


def test_query_keeps_every_value_in_order_and_decodes() -> None:
    query = Query("a=1&b=x+y&a=2&c=%2F&flag")
    assert query.to_dict() == {"a": ["1", "2"], "b": ["x y"], "c": ["/"], "flag": [""]}
    assert query["a"] == query.get("a") == "1" and query.get_all("a") == ["1", "2"]
    assert query.get("missing", "none") == "none"
    assert Query({"a": ["1", "2"], "b": "3", "n": None}).to_dict() == {"a": ["1", "2"], "b": ["3"]}


def test_lazy_map_computes_on_first_access_only() -> None:
    calls = []

    def factory() -> dict[str, int]:
        calls.append(1)
        return {"x": 1}

    lazy = LazyMap(factory)
    assert calls == []
    assert lazy["x"] == 1 and dict(lazy) == {"x": 1} and lazy == {"x": 1}
    assert calls == [1]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2017-06-26T18:41:00.9584103Z", "2017-06-26T18:41:00.958410Z"),
        ("2020-09-29T11:32:00.123+02:00", "2020-09-29T09:32:00.123000Z"),
        ("2016-12-30T18:44:49Z", "2016-12-30T18:44:49Z"),
        (1545082649183, "2018-12-17T21:37:29.183000Z"),
        ("2021-01-01T00:00:00", "2021-01-01T00:00:00Z"),
    ],
)
def test_times_are_utc_iso(value: str | int, expected: str) -> None:
    assert format_time(parse_time(value)) == expected


def test_missing_time_is_null_never_now() -> None:
    assert parse_time(None) is None
    assert TimerEvent().to_dict()["time"] is None


def test_json_forms_have_the_contract_fields() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert HttpRequest(method="GET", path="/x", body=b"\xff").to_dict() == {
        "kind": "http", "method": "GET", "path": "/x", "headers": {}, "query": {}, "body": "/w==",
        "body_encoding": "base64",
    }
    assert StorageEvent(bucket="b", key="a b", operation="deleted", time=when).to_dict() == {
        "kind": "storage", "bucket": "b", "key": "a b", "size": None, "operation": "deleted",
        "time": "2024-01-02T03:04:05Z",
    }
    assert QueueMessage(queue="q", id="1", body="hi", attempt=2).to_dict() == {
        "kind": "queue", "queue": "q", "id": "1", "body": "hi", "attributes": {}, "attempt": 2,
    }
    assert TopicMessage(topic="t", id="1", body="hi").to_dict()["topic"] == "t"
    assert StreamRecord(stream="s", partition="p", sequence="9", data=b"x", time=when).to_dict() == {
        "kind": "stream", "stream": "s", "partition": "p", "sequence": "9", "key": None, "data": "x",
        "time": "2024-01-02T03:04:05Z",
    }
    change = NoSqlChange(table="t", operation="modify", keys={"id": 1}, new=LazyMap(lambda: {"id": 1, "n": [1]}))
    assert change.to_dict() == {"kind": "nosql", "table": "t", "operation": "modify", "keys": {"id": 1},
                                "new": {"id": 1, "n": [1]}, "old": None}
    assert InvokeEvent(payload={"a": 1}).to_dict() == {"kind": "invoke", "payload": {"a": 1}}
    assert TimerEvent(time=when, schedule="*/5 * * * *", name="tick").to_dict() == {
        "kind": "timer", "time": "2024-01-02T03:04:05Z", "schedule": "*/5 * * * *", "name": "tick",
    }


@pytest.mark.parametrize(
    "result, status, content_type, body",
    [
        (HttpResponse(201, {}, b"x"), 201, "", b"x"),
        ("hello", 200, "text/plain; charset=utf-8", b"hello"),
        (b"\x00", 200, "application/octet-stream", b"\x00"),
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, 2], 200, "application/json", b"[1,2]"),
        (None, 204, "", b""),
    ],
)
def test_handler_results_become_responses(result: object, status: int, content_type: str, body: bytes) -> None:
    response = as_response(result)
    assert (response.status, response.content_type, response.body) == (status, content_type, body)


def test_unsupported_result_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="return HttpResponse"):
        as_response(object())


def test_binary_response_is_not_text() -> None:
    assert not HttpResponse(200, {"content-type": "image/png"}, b"\x89PNG").is_text()
    assert HttpResponse.json({"a": 1}).is_text()
