"""``auth=Jwt(...)`` on AWS: the HTTP API JWT authorizer the generator configures (validated with
cfn-lint and the SAM translator, as the other generator tests do), and the identity the function
then trusts — only ``requestContext.authorizer.jwt``, only for the route's issuer and audience."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from corefn import App, HttpRequest
from corefn_aws import adapter
from corefn_aws.runtime import handler as lambda_handler
from tests.aws.auth_app import ISSUER, RSA, app, gated
from tests.aws.conftest import load
from tests.aws.test_generator import _lint, _translate


def generated() -> tuple[str, dict[str, Any]]:
    text = adapter.generate(app, "tests.aws.auth_app:app")["template.yaml"]
    assert isinstance(text, str)
    return text, yaml.safe_load(text)


def test_the_template_and_its_cloudformation_pass_cfn_lint() -> None:
    text, template = generated()
    assert _lint(text) == []
    assert _lint(json.dumps(_translate(template))) == []


def test_an_http_api_jwt_authorizer_per_issuer_and_audience() -> None:
    _, template = generated()
    authorizers = template["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    assert authorizers == {
        "CorefnJwt1": {"IdentitySource": "$request.header.Authorization",
                       "JwtConfiguration": {"issuer": ISSUER, "audience": ["orders-client", "admin-client"]}},
        "CorefnJwt2": {"IdentitySource": "$request.header.Authorization",
                       "JwtConfiguration": {"issuer": "https://login.example.com/tenant/v2.0", "audience": ["api://other"]}},
    }  # fmt: skip
    resources = template["Resources"]

    def route_auth(function: str) -> Any:
        (event,) = resources[function]["Properties"]["Events"].values()
        return event["Properties"].get("Auth")

    assert route_auth("OrdersFunction") == {"Authorizer": "CorefnJwt1"}
    assert route_auth("CreateFunction") == {"Authorizer": "CorefnJwt1", "AuthorizationScopes": ["orders/write"]}
    assert route_auth("UpdateFunction") == {"Authorizer": "CorefnJwt1"}  # the gateway wants one of; corefn all
    assert route_auth("OtherFunction") == {"Authorizer": "CorefnJwt2"}
    assert route_auth("MixedFunction") is None and route_auth("PublicFunction") is None


def test_the_translated_api_has_jwt_authorizers_on_the_routes() -> None:
    """SAM inlines an HTTP API as an OpenAPI body: the security schemes and each operation's
    ``security`` are what API Gateway will enforce."""
    _, template = generated()
    cfn = _translate(template)["Resources"]
    body = cfn["HttpApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["CorefnJwt1"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt" and scheme["jwtConfiguration"]["issuer"] == ISSUER
    paths = body["paths"]
    assert paths["/orders"]["post"]["security"] == [{"CorefnJwt1": ["orders/write"]}]
    assert paths["/orders"]["get"]["security"] == [{"CorefnJwt1": []}]
    assert "security" not in paths["/public"]["get"] and "security" not in paths["/mixed"]["get"]


def test_the_readme_says_which_routes_verify_in_the_function() -> None:
    readme = adapter.generate(app, "tests.aws.auth_app:app")["README.md"]
    assert isinstance(readme, str) and "mixed: the function verifies its bearer token itself" in readme


def _with_claims(claims: dict[str, str], route: str = "GET /orders") -> dict[str, Any]:
    payload = copy.deepcopy(load("http-apigw-v2"))
    method, path = route.split()
    payload.update(rawPath=path, routeKey=route, rawQueryString="", body=None, isBase64Encoded=False)
    payload["requestContext"]["http"].update(method=method, path=path)
    payload["requestContext"]["stage"] = "$default"
    payload["headers"].pop("authorization", None)
    payload["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return payload


class FakeContext:
    aws_request_id = "req-1"
    function_name = "orders"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_APP", "tests.aws.auth_app:app")
    monkeypatch.setenv("COREFN_HANDLER", "orders")


def invoke(payload: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler(payload, FakeContext())  # type: ignore[no-any-return]


def test_gateway_claims_reach_the_handler(lambda_env: None) -> None:
    claims = {"iss": ISSUER, "client_id": "orders-client", "sub": "u-1", "scope": "orders/read", "exp": "1900000000"}
    answer = invoke(_with_claims(claims))
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"]) == {"sub": "u-1", "via": "aws:jwt-authorizer", "scopes": ["orders/read"]}


@pytest.mark.parametrize("claims", [
    {"iss": "https://elsewhere.example", "aud": "orders-client", "sub": "u-1"},
    {"iss": ISSUER, "aud": "someone-else", "sub": "u-1"},
])  # fmt: skip
def test_claims_of_another_issuer_or_audience_are_refused(lambda_env: None, claims: dict[str, str]) -> None:
    answer = invoke(_with_claims(claims))
    assert answer["statusCode"] == 401 and answer["headers"]["www-authenticate"] == 'Bearer error="invalid_token"'


def test_without_the_gateway_s_claims_the_function_wants_a_token(lambda_env: None) -> None:
    payload = _with_claims({})
    del payload["requestContext"]["authorizer"]
    payload["headers"]["x-amzn-oidc-data"] = "forged"  # headers are the caller's: never read as identity
    assert invoke(payload)["statusCode"] == 401


# --------------------------------------------------------------------- Lambda authorizers wired


def test_a_route_behind_an_app_authorizer_gets_an_http_api_lambda_authorizer() -> None:
    text = adapter.generate(gated, "tests.aws.auth_app:gated")["template.yaml"]
    assert isinstance(text, str) and _lint(text) == []
    template = yaml.safe_load(text)
    authorizers = template["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    assert authorizers["GateAuthorizer"] == {
        "FunctionArn": {"Fn::GetAtt": ["GateFunction", "Arn"]}, "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True, "Identity": {"Headers": ["Authorization"], "ReauthorizeEvery": 0},
    }  # fmt: skip
    assert authorizers["GatePolicyAuthorizer"]["EnableSimpleResponses"] is False
    cfn = _translate(template)
    assert _lint(json.dumps(cfn)) == []
    resources = cfn["Resources"]
    schemes = resources["HttpApi"]["Properties"]["Body"]["components"]["securitySchemes"]
    assert schemes["GateAuthorizer"]["x-amazon-apigateway-authorizer"]["type"] == "request"
    assert resources["HttpApi"]["Properties"]["Body"]["paths"]["/inside"]["get"]["security"] == [{"GateAuthorizer": []}]
    permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert any(p["Principal"] == "apigateway.amazonaws.com" and "GateFunction" in json.dumps(p["FunctionName"]) for p in permissions)


def test_a_route_naming_a_missing_authorizer_is_refused() -> None:
    from corefn.errors import ConfigurationError

    bad = App("bad")
    bad.get("/x", name="x", provider={"aws": {"authorizer": "nope"}})(lambda req: "x")
    with pytest.raises(ConfigurationError, match="nope"):
        adapter.generate(bad, "x:bad")


def test_a_rest_api_authorizer_s_identity_reaches_the_route() -> None:
    """REST API payloads: a Lambda authorizer's principalId and context (the published fixture), and
    a Cognito user pool authorizer's claims, which stand in for the token on a Jwt route."""
    from corefn.adapters import parse

    (request,) = parse(load("http-apigw-v1-post"), cloud="aws").events
    assert isinstance(request, HttpRequest) and request.auth is not None
    assert (request.auth.subject, request.auth.via) == ("admin", "aws:lambda-authorizer")
    assert request.auth.claims == {"clientId": 1, "clientName": "Exata"}
    (plain,) = parse(load("http-apigw-v1"), cloud="aws").events  # "authorizer": {"claims": null}
    assert isinstance(plain, HttpRequest) and plain.auth is None

    rest = App("rest")
    rest.get("/orders", name="orders", auth=RSA, provider={"aws": {"api": "rest"}})(lambda req: req.auth.via)
    payload = copy.deepcopy(load("http-apigw-v1"))
    payload.update(httpMethod="GET", path="/orders", resource="/orders", body=None, isBase64Encoded=False)
    payload["requestContext"].update(path="/orders", stage="$default")
    payload["requestContext"]["authorizer"] = {"claims": {"iss": ISSUER, "aud": "orders-client", "sub": "u-9"}}
    from corefn.testing import call

    answer = call(rest, payload, cloud="aws")
    assert answer["statusCode"] == 200 and answer["body"] == "aws:cognito-authorizer"
    payload["requestContext"]["authorizer"] = {"principalId": "u-9", "iss": ISSUER, "aud": "orders-client"}
    assert call(rest, payload, cloud="aws")["statusCode"] == 401  # a Lambda authorizer's say-so is not a verified JWT


def test_the_bundle_pins_pyjwt_when_a_route_verifies_in_the_function() -> None:
    from corefn_aws._sam_resources import CODE_DIR

    pins = adapter.generate(app, "tests.aws.auth_app:app")[f"{CODE_DIR}/requirements.txt"]
    assert isinstance(pins, str)
    names = {line.split("==")[0].lower() for line in pins.splitlines() if "==" in line}
    assert {"pyjwt", "cryptography"} <= names
    plain = App("plain")
    plain.get("/x", name="x")(lambda req: "x")
    assert "pyjwt" not in str(adapter.generate(plain, "tests.aws.auth_app:plain")[f"{CODE_DIR}/requirements.txt"]).lower()
