"""``@app.authorizer`` on API Gateway: the real published authorizer payloads (tests/events/aws,
sources in SOURCES.md) reach the handler, and its decision goes back as the policy or simple
response the gateway reads; a failing or undecided handler never lets a request through."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from corefn import Allow, App, AuthorizeRequest, Deny, HttpRequest
from corefn.adapters import handle, parse
from corefn.context import Context
from corefn_aws import adapter
from tests.aws.conftest import load

ROOT = Path(__file__).resolve().parents[2]
SEEN: list[AuthorizeRequest] = []


def make_app(decide: Any, response: str = "simple") -> App:
    app = App("gate")

    @app.authorizer("gate", response=response)
    def gate(request: AuthorizeRequest) -> Any:
        SEEN.append(request)
        return decide(request)

    @app.get("/orders/{id}")
    def order(req: HttpRequest) -> dict[str, Any]:
        assert req.auth is not None
        return {"sub": req.auth.subject, "via": req.auth.via, "claims": dict(req.auth.claims)}

    return app


def run(app: App, payload: Any, pinned: str = "gate") -> Any:
    SEEN.clear()
    return handle(adapter, app, payload, Context(cloud="aws", app=app), pinned=pinned)


def test_a_token_authorizer_gets_the_token_without_its_scheme_and_answers_a_policy() -> None:
    payload = adapter.sample("authorizer-token")
    answer = run(make_app(lambda r: Allow("user-42", {"tenant": "t1", "plan": {"tier": 2}, "admin": False})), payload)
    (request,) = SEEN
    assert request.token == payload["authorizationToken"].removeprefix("Bearer ")
    assert answer == {
        "principalId": "user-42",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": payload["methodArn"]}]},
        "context": {"tenant": "t1", "plan": '{"tier":2}', "admin": False},  # no objects in a policy's context
    }  # fmt: skip


@pytest.mark.parametrize("fixture", ["authorizer-apigw-token", "authorizer-apigw-request-v1", "authorizer-apigw-request-rest"])
def test_deny_and_undecided_answers_are_deny_policies(fixture: str) -> None:
    payload = load(fixture)
    for decide in (lambda r: Deny("mallory"), lambda r: None, lambda r: "yes"):
        answer = run(make_app(decide), payload)
        (statement,) = answer["policyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Resource"] == payload["methodArn"]
        assert "context" not in answer


def test_a_rest_request_authorizer_sees_the_request() -> None:
    payload = adapter.sample("authorizer-rest")
    run(make_app(lambda r: True), payload)
    (request,) = SEEN
    assert request.method == "GET" and request.path == "/request" and request.token is not None
    assert request.token.count(".") == 2  # the JWT, without "Bearer "
    assert request.query.get("QueryString1") == "queryValue1" and request.params == {}


def test_an_http_api_v2_authorizer_answers_simple_or_policy() -> None:
    payload = load("authorizer-apigw-request-v2")
    allow = lambda r: Allow("u-1", {"tenant": "t1"})  # noqa: E731
    assert run(make_app(allow), payload) == {"isAuthorized": True, "context": {"sub": "u-1", "tenant": "t1"}}
    (request,) = SEEN
    assert (request.method, request.path, request.client_ip) == ("POST", "/merchants", "10.10.10.10")
    assert request.query.get_all("parameter1") == ["value1", "value2"] and request.params == {"parameter1": "value1"}
    assert run(make_app(lambda r: Deny()), payload) == {"isAuthorized": False}
    policy = run(make_app(allow, response="policy"), payload)
    assert policy["policyDocument"]["Statement"][0]["Resource"] == payload["routeArn"]


def test_a_failing_authorizer_fails_the_invocation() -> None:
    def boom(request: AuthorizeRequest) -> Any:
        raise RuntimeError("identity provider down")

    with pytest.raises(RuntimeError, match="identity provider down"):  # API Gateway answers 500
        run(make_app(boom), load("authorizer-apigw-token"))


def test_the_route_behind_it_sees_the_authorizer_context() -> None:
    """HTTP API payload 2.0 puts a simple response's context at ``requestContext.authorizer.lambda``."""
    app = make_app(lambda r: Allow("u-1", {"tenant": "t1"}))
    context = run(app, load("authorizer-apigw-request-v2"))["context"]
    request = copy.deepcopy(load("http-apigw-v2"))
    request.update(rawPath="/orders/42", rawQueryString="", body=None, isBase64Encoded=False)
    request["requestContext"].update(stage="$default", authorizer={"lambda": context})
    request["requestContext"]["http"].update(method="GET", path="/orders/42")
    answer = run(app, request, pinned="order")
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"sub": "u-1", "via": "aws:lambda-authorizer", "claims": {"sub": "u-1", "tenant": "t1"}}


@pytest.mark.parametrize("trigger, shape", [
    ("authorizer", "apigw-authz-v2"), ("authorizer-token", "apigw-authz-token"), ("authorizer-rest", "apigw-authz-request"),
])  # fmt: skip
def test_corefn_event_prints_authorizer_samples(trigger: str, shape: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from corefn.cli import main; sys.exit(main())", "event", "aws", trigger],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    parsed = parse(json.loads(done.stdout))  # detected without --cloud
    assert (parsed.cloud, parsed.shape_name) == ("aws", shape)
    assert [e.kind for e in parsed.events] == ["authorizer"]


def test_the_http_shapes_still_leave_authorizer_payloads_alone() -> None:
    for name in ("authorizer-apigw-request-v1", "authorizer-apigw-request-v2", "authorizer-apigw-request-rest"):
        assert parse(load(name), cloud="aws").shape_name.startswith("apigw-authz-")
