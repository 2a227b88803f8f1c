"""``auth=Jwt(...)`` verified in the function, as the local runtime and every cloud without a
gateway authorizer do: keys generated in the test, served by a real loopback OIDC issuer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import subprocess
import sys
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from corefn import App
from corefn.auth import Auth, Jwt, _jwks
from corefn.context import Context
from corefn.dispatch import dispatch_http
from corefn.errors import ConfigurationError
from corefn.events.http import HttpRequest, HttpResponse
from tests.auth.conftest import AUDIENCE, Issuer


def make_app(issuer: Issuer, **jwt_options: Any) -> tuple[App, list[Auth]]:
    seen: list[Auth] = []
    api = Jwt(issuer.url, AUDIENCE, **jwt_options)
    app = App("orders", auth=api)

    @app.get("/orders")
    def orders(req: HttpRequest) -> dict[str, Any]:
        assert req.auth is not None
        seen.append(req.auth)
        return {"sub": req.auth.subject}

    @app.post("/orders", auth=api.require(scopes=("orders:write",)))
    def create(req: HttpRequest) -> dict[str, Any]:
        return {"created": True}

    @app.delete("/orders", auth=api.require(roles=("admin",)))
    def purge(req: HttpRequest) -> None:
        return None

    @app.get("/health", auth=False)
    def health(req: HttpRequest) -> str:
        return "ok"

    return app, seen


def call(app: App, token: str | None, method: str = "GET", path: str = "/orders", scheme: str = "Bearer") -> HttpResponse:
    headers = {"authorization": f"{scheme} {token}"} if token is not None else {}
    return dispatch_http(app, HttpRequest(method=method, path=path, headers=headers, id="req-1"), Context(app=app))


def challenge(response: HttpResponse) -> str:
    return response.headers.get("www-authenticate", "")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_valid_token_reaches_the_handler_with_its_claims(issuer: Issuer, alg: str) -> None:
    app, seen = make_app(issuer)
    response = call(app, issuer.sign(alg, sub="alice"))
    assert response.status == 200 and json.loads(response.body) == {"sub": "alice"}
    (auth,) = seen
    assert auth.subject == "alice" and auth.claims["aud"] == AUDIENCE and auth.via == "corefn"
    assert auth.scopes == ("orders:read",)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": -120}, id="expired"),
        pytest.param({"nbf": 300}, id="not-yet-valid"),
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-exp"),
    ],
)
def test_a_bad_token_is_refused_with_401_and_the_reason_only_logged(
    issuer: Issuer, alg: str, changes: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    claims = {k: (now + v if k in ("exp", "nbf") and v is not None else v) for k, v in changes.items()}
    app, seen = make_app(issuer)
    with caplog.at_level(logging.WARNING, "corefn.auth"):
        response = call(app, issuer.sign(alg, **claims))
    assert response.status == 401 and not seen
    assert challenge(response) == 'Bearer error="invalid_token"'
    assert json.loads(response.body) == {"error": "unauthorized"}
    (record,) = [r for r in caplog.records if r.name == "corefn.auth"]
    assert "req-1" in record.getMessage() and "refused (401)" in record.getMessage()


def test_leeway_absorbs_clock_skew(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    now = int(time.time())
    assert call(app, issuer.sign(exp=now - 30, nbf=now + 30)).status == 200  # default leeway: 60 s
    strict, _ = make_app(issuer, leeway=0)
    assert call(strict, issuer.sign(exp=now - 30)).status == 401


def test_no_token_gets_a_bare_challenge(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    for response in (call(app, None), call(app, "abc", scheme="Basic"), call(app, "", scheme="Bearer")):
        assert response.status == 401 and challenge(response) == "Bearer"  # RFC 6750 §3.1: no error code
    garbage = call(app, "not.a.jwt")
    assert garbage.status == 401 and challenge(garbage) == 'Bearer error="invalid_token"'


def test_an_unknown_kid_refetches_the_key_set_once(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = make_app(issuer)
    assert call(app, issuer.sign("ES256")).status == 200
    assert issuer.hits == ["/.well-known/openid-configuration", "/jwks.json"]
    assert call(app, issuer.sign("RS256")).status == 200  # cached: no fetch
    assert len(issuer.hits) == 2

    rotated = issuer.add("RS256")  # the provider publishes a new key and signs with it at once
    token = issuer.sign("RS256", kid=rotated)
    assert call(app, token).status == 401  # fetched a moment ago: rate-limited, no refetch
    assert len(issuer.hits) == 2
    monkeypatch.setattr(_jwks, "REFETCH_AFTER", 0.0)
    assert call(app, token).status == 200
    assert issuer.hits[2:] == ["/jwks.json"]
    unpublished = issuer.add("ES256", publish=False)  # a kid nobody publishes stays refused
    assert call(app, issuer.sign("ES256", kid=unpublished)).status == 401


def test_alg_none_is_refused(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    token = jwt.encode(issuer.claims(), None, algorithm="none", headers={"kid": issuer.kid("RS256")})
    assert call(app, token).status == 401


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("key_form", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key_is_refused(issuer: Issuer, key_form: str) -> None:
    """The algorithm-confusion attack: the attacker knows the public key (it is published) and
    signs an HS256 token with it as the HMAC secret."""
    kid = issuer.kid("RS256")
    public = issuer.keys[kid][1].public_key()
    if key_form == "pem":
        secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        secret = json.dumps(next(k for k in issuer.jwks()["keys"] if k["kid"] == kid)).encode()
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{_b64(json.dumps(issuer.claims()).encode())}"
    token = signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    app, seen = make_app(issuer)
    assert call(app, token).status == 401 and not seen
    # ... even when a careless configuration asks for it: HMAC is refused at declaration.
    with pytest.raises(ConfigurationError, match="HMAC"):
        Jwt(issuer.url, AUDIENCE, algorithms=("HS256", "RS256"))
    with pytest.raises(ConfigurationError):
        Jwt(issuer.url, AUDIENCE, algorithms=("none",))


def test_a_key_of_another_type_under_the_same_kid_is_not_used(issuer: Issuer) -> None:
    """A token saying ES256 with the kid of an RSA key finds no fitting key (RFC 7518 §6)."""
    app, _ = make_app(issuer)
    es_key = issuer.keys[issuer.kid("ES256")][1]
    token = jwt.encode(issuer.claims(), es_key, algorithm="ES256", headers={"kid": issuer.kid("RS256")})
    assert call(app, token).status == 401


def test_scopes_and_roles_answer_403(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    refused = call(app, issuer.sign(), method="POST")
    assert refused.status == 403
    assert challenge(refused) == 'Bearer error="insufficient_scope", scope="orders:write"'
    assert call(app, issuer.sign(scope="orders:read orders:write"), method="POST").status == 200
    assert call(app, issuer.sign(scp=["orders:write"]), method="POST").status == 200  # Entra ID / Okta
    assert call(app, issuer.sign(roles=["reader"]), method="DELETE").status == 403
    assert call(app, issuer.sign(roles=["reader", "admin"]), method="DELETE").status == 204


def test_a_public_route_under_an_app_wide_auth(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    assert call(app, None, path="/health").status == 200
    assert not issuer.hits


def test_a_discovery_document_for_another_issuer_is_not_trusted(issuer: Issuer, caplog: pytest.LogCaptureFixture) -> None:
    app = App("orders", auth=Jwt(issuer.url + "/tenant", AUDIENCE, jwks_url=None))
    app.get("/orders", name="orders")(lambda req: "ok")
    with caplog.at_level(logging.ERROR, "corefn.auth"):
        response = call(app, issuer.sign(iss=issuer.url + "/tenant"))
    assert response.status == 503  # the discovery URL answers 404: keys unavailable, not "bad token"
    assert "tenant" not in response.body.decode()


def test_keys_only_over_https_off_loopback() -> None:
    with pytest.raises(_jwks.KeysUnavailable, match="https"):
        _jwks.fetch_json("http://idp.example/.well-known/openid-configuration")


def test_explicit_jwks_url_skips_discovery(issuer: Issuer) -> None:
    app, _ = make_app(issuer, jwks_url=issuer.url + "/jwks.json")
    assert call(app, issuer.sign("ES256")).status == 200
    assert issuer.hits == ["/jwks.json"]


def test_the_jose_library_loads_only_for_a_route_with_auth() -> None:
    code = """
import sys
from corefn import App
from corefn.auth import Jwt
from corefn.context import Context
from corefn.dispatch import dispatch_http
from corefn.events.http import HttpRequest
app = App("a")
app.get("/open", name="open")(lambda req: "ok")
app.get("/closed", name="closed", auth=Jwt("https://idp.example", "api"))(lambda req: "ok")
assert dispatch_http(app, HttpRequest(method="GET", path="/open"), Context(app=app)).status == 200
assert dispatch_http(app, HttpRequest(method="GET", path="/closed"), Context(app=app)).status == 401
print("jwt" in sys.modules, "cryptography" in sys.modules)
sys.modules["jwt"] = None  # as without the extra
from corefn.errors import MissingExtraError
from corefn.auth._verify import verify
try:
    verify(Jwt("https://idp.example", "api"), "a.b.c")
except MissingExtraError as error:
    print(error)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines() == ["False False", "PyJWT is not installed: run  pip install 'corefn[jwt]'"]


def test_auth_takes_a_jwt() -> None:
    with pytest.raises(ConfigurationError, match="Jwt"):
        App("a").get("/x", name="x", auth="https://idp.example")(lambda req: "ok")


def test_keys_stay_in_use_while_the_provider_is_unreachable(issuer: Issuer) -> None:
    app, _ = make_app(issuer)
    assert call(app, issuer.sign()).status == 200
    (keys,) = _jwks._SETS.values()
    attempts: list[str] = []

    def down(url: str) -> Any:
        attempts.append(url)
        raise _jwks.KeysUnavailable(f"{url}: connection refused")

    keys._fetch = down  # type: ignore[method-assign]
    keys._fetched -= _jwks.MAX_AGE + 1  # an hour later, the provider is down
    assert call(app, issuer.sign()).status == 200  # served from the keys it had
    assert len(attempts) == 1
    assert call(app, issuer.sign()).status == 200 and len(attempts) == 1  # not retried on every request
    _jwks.forget()
    fresh, _ = make_app(issuer)
    _jwks.key_set(issuer.url, None)._fetch = down  # type: ignore[method-assign]
    assert call(fresh, issuer.sign()).status == 503  # no keys ever: nothing to fall back on
