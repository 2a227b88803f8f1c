"""Where no gateway verifies (OpenWhisk web actions, Cloud Functions HTTP, a Lambda Function URL),
the function verifies the bearer token exactly as ``corefn run`` does: the same token, the same
answers, through each cloud's real entry shape."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from corefn import App, HttpRequest, Jwt
from corefn.adapters import get_adapter, handle
from corefn.context import Context
from tests.auth.conftest import AUDIENCE, Issuer


def make_app(issuer: Issuer) -> App:
    app = App("clouds", auth=Jwt(issuer.url, AUDIENCE))

    @app.http("*", "/{rest}")
    def whoami(req: HttpRequest) -> dict[str, Any]:
        assert req.auth is not None
        return {"sub": req.auth.subject, "via": req.auth.via}

    return app


def openwhisk(token: str | None) -> tuple[Any, Any]:
    payload = copy.deepcopy(get_adapter("openwhisk").sample("http"))  # type: ignore[attr-defined]
    payload["__ow_path"] = "/me"
    if token is not None:
        payload["__ow_headers"]["authorization"] = f"Bearer {token}"
    return payload, lambda answer: (answer["statusCode"], answer)


def function_url(token: str | None) -> tuple[Any, Any]:
    payload = copy.deepcopy(get_adapter("aws").sample("http"))  # type: ignore[attr-defined]
    payload["requestContext"].pop("authorizer", None)  # a Function URL with auth type NONE
    payload["requestContext"]["domainName"] = "abc123.lambda-url.us-east-1.on.aws"
    payload["requestContext"]["http"]["path"] = payload["rawPath"] = "/me"
    payload["requestContext"]["stage"] = "$default"
    if token is not None:
        payload["headers"]["authorization"] = f"Bearer {token}"
    return payload, lambda answer: (answer["statusCode"], answer)


def cloud_functions(token: str | None) -> tuple[Any, Any]:
    import flask

    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    context = flask.Flask("corefn-test").test_request_context("/me", headers=headers)
    context.push()
    PUSHED.append(context)
    return flask.request, lambda answer: (answer.status_code, answer)


PUSHED: list[Any] = []
CLOUDS = {"openwhisk": openwhisk, "aws": function_url, "gcp": cloud_functions}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_each_cloud_verifies_in_the_function(issuer: Issuer, cloud: str, alg: str) -> None:
    app = make_app(issuer)
    cases = [(issuer.sign(alg, sub="carol"), 200), (None, 401), (issuer.sign(alg, aud="other"), 401)]
    for token, status in cases:
        payload, read = CLOUDS[cloud](token)
        try:
            answer = handle(get_adapter(cloud), app, payload, Context(cloud=cloud, app=app))
        finally:
            while PUSHED:
                PUSHED.pop().pop()
        got, raw = read(answer)
        assert got == status, (cloud, token, raw)
        if status == 200:
            body = raw["body"] if isinstance(raw, dict) else raw.get_data(as_text=True)
            if isinstance(raw, dict) and cloud == "openwhisk" and not isinstance(body, str):
                body = json.dumps(body)
            assert json.loads(body) == {"sub": "carol", "via": "corefn"}
