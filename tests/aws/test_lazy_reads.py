"""What the Lambda path works out only when a handler reads it (issue 25): ``ctx.deadline``
(Lambda's ``get_remaining_time_in_millis()``) and ``req.auth`` from an HTTP API JWT authorizer.
Deferred, each answers what it answered when it was computed up front; a malformed payload is
still refused before the handler runs. (No timings here: speed is ``benchmarks/``' business.)"""

from __future__ import annotations

import copy
import pickle
import time
from typing import Any

import pytest

from corefn import App
from corefn.adapters import parse
from corefn.auth import Auth
from corefn.context import Context
from corefn.errors import EventShapeError
from corefn.events import HttpRequest
from corefn_aws._gateway_auth import vouched_identity
from corefn_aws.http import HttpApiV2
from tests.aws.conftest import load


class CountingContext:
    """Lambda's context object as the handler sees it; counts the runtime calls it receives."""

    aws_request_id = "req-lazy"
    function_name = "lazy"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms, self.asked = remaining_ms, 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return self.remaining_ms


def _app(read: str) -> tuple[App, list[Any]]:
    seen: list[Any] = []
    app = App("lazy")

    @app.post("/my/path")
    def handler(req: HttpRequest, ctx: Context) -> str:
        seen.append(getattr(ctx, read) if read == "deadline" else getattr(req, read) if read else None)
        return "ok"

    return app, seen


def _call(app: App, event: dict[str, Any], context: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    import corefn_aws.runtime as runtime

    monkeypatch.setattr(runtime, "load_app", lambda: app)
    return runtime.handler(event, context)


def _event() -> dict[str, Any]:
    event = load("http-apigw-v2")
    event["requestContext"]["stage"] = "$default"
    return event


def test_lambda_is_not_asked_for_the_time_left_when_no_handler_reads_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = _app("")
    context = CountingContext(30_000)
    assert _call(app, _event(), context, monkeypatch)["statusCode"] == 200
    assert context.asked == 0


def test_the_deadline_read_late_is_the_one_lambda_set(monkeypatch: pytest.MonkeyPatch) -> None:
    app, seen = _app("deadline")
    context = CountingContext(30_000)
    before = time.time()
    assert _call(app, _event(), context, monkeypatch)["statusCode"] == 200
    assert context.asked == 1
    assert before + 30 <= seen[0] <= time.time() + 30


def test_a_context_asks_once_and_an_assigned_deadline_wins() -> None:
    asked: list[int] = []
    ctx = Context(cloud="aws", remaining_ms=lambda: asked.append(1) or 2_000)  # type: ignore[func-returns-value]
    assert asked == []
    first = ctx.deadline
    assert first is not None and ctx.deadline == first and asked == [1]
    remaining = ctx.remaining()
    assert remaining is not None and 0 < remaining <= 2
    assert Context(remaining_ms=lambda: None).deadline is None
    assert Context(deadline=5.0).deadline == 5.0 and Context().deadline is None
    late = Context(remaining_ms=lambda: 1_000)
    late.deadline = 7.0
    assert late.deadline == 7.0


def test_the_jwt_authorizer_identity_is_read_on_first_use_and_equals_the_eager_one() -> None:
    event = _event()
    (request,) = HttpApiV2(event).to_events()
    assert isinstance(request, HttpRequest)
    assert request._vouch is not None  # deferred until read
    expected = vouched_identity(copy.deepcopy(event["requestContext"]))
    assert isinstance(expected, Auth) and expected.scopes == ("scope1", "scope2")
    assert request.auth == expected and request._vouch is None
    assert request.auth is request.auth  # worked out once
    assert "auth=Auth(" in repr(request)
    (again,) = HttpApiV2(event).to_events()
    assert again == request  # equality reads auth on both sides
    assert request.replace(auth=None).auth is None
    assert pickle.loads(pickle.dumps(request)).auth == expected


def test_without_an_authorizer_nothing_is_deferred_and_auth_is_none() -> None:
    event = _event()
    del event["requestContext"]["authorizer"]
    (request,) = HttpApiV2(event).to_events()
    assert isinstance(request, HttpRequest) and request._vouch is None and request.auth is None


@pytest.mark.parametrize(
    "authorizer",
    [None, "a string", {"jwt": "not a dict"}, {"jwt": {"claims": ["a", "list"]}}, {"lambda": 3}, {"iam": {"accessKey": "k"}}],
)
def test_an_unreadable_authorizer_is_no_identity_read_late_as_early(authorizer: Any) -> None:
    event = _event()
    event["requestContext"]["authorizer"] = authorizer
    (request,) = HttpApiV2(event).to_events()
    assert isinstance(request, HttpRequest) and request.auth is None


def test_a_malformed_payload_is_still_refused_before_the_handler_with_an_authorizer() -> None:
    event = _event()
    event["requestContext"]["http"]["method"] = 7
    with pytest.raises(EventShapeError, match="requestContext.http.method"):
        parse(event, cloud="aws")
