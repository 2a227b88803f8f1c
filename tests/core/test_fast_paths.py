"""The warm path's shortcuts (issue 25) answer exactly as the general code they bypass.

Each shortcut skips work the general path does on every invocation: a dict lookup for
``os.environ.get``, one prebuilt C JSON encoder for ``json.dumps(..., separators, default)``,
a dict of static routes before the regular expressions, a positional request constructor for
the busiest gateway, a memo of textual content types. These tests hold them to the general
path's answers, including the corners the shortcut could get wrong. (No timings here: speed is
``benchmarks/``' business.)
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from corefn import App
from corefn._env import getenv
from corefn.events import Body, Headers, HttpRequest, HttpResponse, Query
from corefn.events.http import as_response, gateway_request, json_bytes, textual_type
from corefn.routing import Router

# ------------------------------------------------------------------------------ environment


def test_getenv_reads_what_os_environ_holds_as_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COREFN_FAST_PATH_TEST", raising=False)
    assert getenv("COREFN_FAST_PATH_TEST") is None
    monkeypatch.setenv("COREFN_FAST_PATH_TEST", "ünïcode value")
    assert getenv("COREFN_FAST_PATH_TEST") == os.environ["COREFN_FAST_PATH_TEST"] == "ünïcode value"
    os.environ["COREFN_FAST_PATH_TEST"] = "changed"
    assert getenv("COREFN_FAST_PATH_TEST") == "changed"
    del os.environ["COREFN_FAST_PATH_TEST"]
    assert getenv("COREFN_FAST_PATH_TEST") is None


def test_getenv_follows_an_os_environ_that_was_swapped_for_a_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"COREFN_FAST_PATH_TEST": "from a dict"})
    assert getenv("COREFN_FAST_PATH_TEST") == "from a dict"
    assert getenv("COREFN_NOT_SET_ANYWHERE") is None


# ------------------------------------------------------------------------------------ JSON

VALUES: list[Any] = [
    {"message": "hello"},
    {"a": 1, "b": [1, 2.5, None, True, False], "c": "é\"\\\n", "d": {"nested": []}},
    "a string",
    3,
    -1.5e300,
    [],
    {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
    {"tuple": (1, 2)},
    {"date": date(2020, 1, 2), "time": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC), "decimal": Decimal("1.10")},
    {"nan": float("nan"), "inf": float("inf")},
    {"emoji": "\U0001f600", "control": "\x00\x1f"},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_json_bytes_writes_what_json_dumps_writes(value: Any) -> None:
    assert json_bytes(value) == json.dumps(value, separators=(",", ":"), default=str).encode()


def test_json_bytes_refuses_a_cycle() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(RecursionError):
        json_bytes(cyclic)


def test_a_cyclic_answer_becomes_a_500_not_a_crash() -> None:
    app = App("cycle")
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic

    @app.get("/")
    def loop(req: HttpRequest) -> dict[str, Any]:
        return cyclic

    from corefn.context import Context
    from corefn.dispatch import dispatch_http

    response = dispatch_http(app, HttpRequest(method="GET", path="/"), Context())
    assert response.status == 500


def test_json_responses_keep_their_checks_and_headers() -> None:
    with pytest.raises(TypeError):
        HttpResponse.json({}, 700)
    with pytest.raises(TypeError):
        HttpResponse.json({}, True)  # type: ignore[arg-type]
    response = HttpResponse.json({"a": 1}, 201, {"x-extra": "1"})
    assert (response.status, response.body, response.cookies) == (201, b'{"a":1}', ())
    assert response.headers == {"content-type": "application/json", "x-extra": "1"}
    assert response == HttpResponse(201, {"content-type": "application/json", "x-extra": "1"}, b'{"a":1}')
    assert as_response({"k": "v"}) == HttpResponse.json({"k": "v"})


# ---------------------------------------------------------------------------- content type


@pytest.mark.parametrize(
    ("content_type", "textual"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("text/html", True),
        ("image/svg+xml", True),
        ("application/vnd.api+json", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("", False),
    ],
)
def test_textual_types_are_decided_as_before_and_memoised_alike(content_type: str, textual: bool) -> None:
    assert textual_type(content_type) is textual
    assert textual_type(content_type) is textual  # from the memo


def test_the_content_type_is_found_whatever_its_case() -> None:
    response = HttpResponse(200, {"Content-Type": "image/png"}, b"\x89PNG")
    assert response.content_type == "image/png"
    assert response.encoded_body() == ("iVBORw==", True)
    assert HttpResponse(200, {"CONTENT-TYPE": "text/plain"}, b"hi").encoded_body() == ("hi", False)
    assert HttpResponse(200, {}, b"").encoded_body() == ("", False)
    assert HttpResponse(200, {"content-type": "text/plain"}, b"\xff").encoded_body() == ("/w==", True)


# -------------------------------------------------------------------------------- routing


def _router(*routes: tuple[str, tuple[str, ...]]) -> tuple[App, Router]:
    app = App("routes")
    for index, (route, methods) in enumerate(routes):
        app.http(methods, route, name=f"h{index}")(lambda req: None)
    return app, app.router


def test_a_static_route_wins_and_a_method_it_lacks_falls_through_to_a_parameterised_one() -> None:
    _, router = _router(("/devices/{id}", ("GET", "DELETE")), ("/devices/latest", ("GET",)))
    spec, params, _ = router.match("GET", "/devices/latest")
    assert spec is not None and spec.name == "h1" and params == {}
    spec, params, _ = router.match("DELETE", "/devices/latest")
    assert spec is not None and spec.name == "h0" and params == {"id": "latest"}


def test_static_routes_keep_the_trailing_slash_head_and_405_rules() -> None:
    _, router = _router(("/hello", ("GET",)), ("/", ("POST",)))
    assert router.match("GET", "/hello/")[0] is not None
    assert router.match("HEAD", "/hello")[0] is not None
    assert router.match("get", "/hello")[0] is not None
    spec, _, allowed = router.match("PUT", "/hello")
    assert spec is None and allowed == frozenset({"GET"})
    assert router.match("POST", "/")[0] is not None
    assert router.match("POST", "//")[0] is None
    assert router.match("GET", "/hello/x") == (None, {}, frozenset())


def test_static_routes_need_no_regular_expression_and_match_only_their_paths() -> None:
    """A static route is matched by equality (``re`` is imported only for parameterised routes):
    the newline ``$`` used to accept after a path matches nothing now."""
    _, router = _router(("/hello", ("GET",)), ("/a.b", ("GET",)), ("/items/{id}", ("GET",)))
    assert [route.pattern is None for route in router._routes] == [True, True, False]
    assert router.match("GET", "/hello\n") == (None, {}, frozenset())
    assert router.match("GET", "/aXb") == (None, {}, frozenset())
    assert router.match("GET", "/a.b/")[0] is not None
    spec, params, _ = router.match("GET", "/items/7/")
    assert spec is not None and params == {"id": "7"}


# ------------------------------------------------------------------------- gateway request


def test_a_gateway_request_equals_the_one_the_constructor_builds() -> None:
    raw = {"any": "payload"}
    built = gateway_request(
        "POST", "/p", Headers({"A": "1"}), Query("x=1&x=2"), Body("{}"), ("c=1",), "192.0.2.1", "req-1", raw, None
    )
    made = HttpRequest(
        method="POST", path="/p", headers=Headers({"A": "1"}), query=Query("x=1&x=2"), body=Body("{}"),
        cookies=("c=1",), client_ip="192.0.2.1", id="req-1", raw=raw,
    )  # fmt: skip
    assert built.to_dict() == made.to_dict()
    assert built.params == {} and built.auth is None and built.raw is raw
    assert built.replace(params={"id": "7"}).params == {"id": "7"}


@pytest.mark.parametrize("source", [None, "text", b"bytes", bytearray(b"array"), memoryview(b"view")])
def test_bodies_read_alike_whatever_they_were_built_from(source: Any) -> None:
    body = Body(source)
    expected = b"" if source is None else source.encode() if isinstance(source, str) else bytes(source)
    assert body.content == expected and body.text == expected.decode()
    assert Body("aGk=", base64=True).content == b"hi" and Body(b"aGk=", base64=True).content == b"hi"


# ------------------------------------------------------------------------------- base64


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize(
    "data", ["aGk=", "aGk", "aG k=", "aGk=\n", "a!Gk=", "é", "", b"aGVsbG8=", b"aGVs\nbG8=", "====", "aGk==="]
)
def test_b64decode_answers_and_refuses_as_base64_does(data: str | bytes, validate: bool) -> None:
    """corefn's base64 decoder (``base64`` imports ``re``, so the cold path does without it)
    returns what ``base64.b64decode`` returns and raises the same error type with the same text."""
    import base64

    from corefn.events.base import b64decode

    try:
        expected: bytes | tuple[type[BaseException], str] = base64.b64decode(data, validate=validate)
    except ValueError as exc:
        expected = (type(exc), str(exc))
    try:
        got: bytes | tuple[type[BaseException], str] = b64decode(data, validate=validate)
    except ValueError as exc:
        got = (type(exc), str(exc))
    assert got == expected
