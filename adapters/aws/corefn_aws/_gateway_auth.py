"""``auth=Jwt(...)`` on AWS: let API Gateway verify the token where it can, and read what it vouched for.

Where: an HTTP API (the default for corefn routes) has JWT authorizers
("Controlling access to HTTP APIs with JWT authorizers", API Gateway developer guide): the gateway
fetches the issuer's ``jwks_uri``, checks signature, ``iss``, ``aud`` (or ``client_id``), ``exp``,
``nbf`` and refuses the request before Lambda runs (no invocation is billed for a bad token). Two
limits decide when corefn leaves it to the function instead, with a warning in the README:

- "Currently, only RSA-based algorithms are supported" there: a ``Jwt`` that also accepts ES256
  (the default) would see its EC-signed tokens refused by the gateway, so such routes verify in
  the function;
- a route's ``AuthorizationScopes`` needs *one* of the listed scopes, corefn's ``scopes`` all of
  them: the gateway gets the scopes only when there is exactly one; the function checks all anyway.

REST APIs (``provider={"aws": {"api": "rest"}}``) have no JWT authorizer of this kind in SAM:
there the function verifies. Either way the handler sees the same ``req.auth``.

What the function trusts: only ``requestContext.authorizer.jwt`` (written by API Gateway, never by
the caller: a client cannot set ``requestContext``), and only if its ``iss`` and audience are the
route's own (:func:`corefn.auth._check.authenticate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.auth import Auth, Jwt, granted_scopes

if TYPE_CHECKING:
    from corefn.specs import HandlerSpec
    from corefn_aws._sam_resources import Plan

#: the only algorithms an HTTP API JWT authorizer verifies
GATEWAY_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
IDENTITY_SOURCE = "$request.header.Authorization"


def _on_http_api(spec: HandlerSpec) -> bool:
    return (spec.options.provider.get("aws") or {}).get("api") != "rest"


def gateway_jwt(spec: HandlerSpec) -> Jwt | None:
    """The route's ``Jwt`` when the HTTP API can verify it, else ``None`` (the function does)."""
    auth = spec.options.auth
    if spec.kind != "http" or not isinstance(auth, Jwt) or not _on_http_api(spec):
        return None
    return auth if set(auth.algorithms) <= GATEWAY_ALGORITHMS else None


def authorizer_name(plan: Plan, config: Jwt) -> str:
    """One authorizer per (issuer, audience), shared by the routes that name them."""
    keys = sorted({(j.issuer, j.audience) for s in plan.handlers if (j := gateway_jwt(s)) is not None})
    return f"CorefnJwt{keys.index((config.issuer, config.audience)) + 1}"


def http_api_auth(plan: Plan) -> dict[str, Any]:
    """The HttpApi's ``Auth`` property (SAM ``AWS::Serverless::HttpApi`` → ``HttpApiAuth``)."""
    authorizers: dict[str, Any] = {}
    for spec in plan.handlers:
        config = gateway_jwt(spec)
        if config is None:
            if spec.kind == "http" and isinstance(spec.options.auth, Jwt):
                why = "a REST API has no JWT authorizer" if not _on_http_api(spec) else (
                    f"algorithms {list(spec.options.auth.algorithms)} include non-RSA ones, which HTTP API JWT authorizers do not verify"
                )  # fmt: skip
                note = f"{spec.name}: the function verifies its bearer token itself ({why}); say algorithms=('RS256',) to let the gateway do it"
                if note not in plan.warnings:
                    plan.warnings.append(note)
            continue
        authorizers[authorizer_name(plan, config)] = {
            "IdentitySource": IDENTITY_SOURCE,
            "JwtConfiguration": {"issuer": config.issuer, "audience": list(config.audience)},
        }
    return {"Auth": {"Authorizers": authorizers}} if authorizers else {}


def route_auth(plan: Plan, spec: HandlerSpec) -> dict[str, Any]:
    """The ``Auth`` of one ``HttpApi`` event: its authorizer, and its scope when there is one."""
    config = gateway_jwt(spec)
    if config is None:
        return {}
    auth: dict[str, Any] = {"Authorizer": authorizer_name(plan, config)}
    if len(config.scopes) == 1:
        auth["AuthorizationScopes"] = list(config.scopes)
    return {"Auth": auth}


def vouched_identity(context: dict[str, Any]) -> Auth | None:
    """``req.auth`` from what API Gateway wrote into ``requestContext.authorizer`` (payload 2.0):
    ``jwt`` (claims as strings, scopes as a list or null) from a JWT authorizer, ``lambda`` (the
    context a Lambda authorizer returned, see :mod:`corefn_aws.authorizer`)."""
    authorizer = context.get("authorizer")
    if not isinstance(authorizer, dict):
        return None
    jwt = authorizer.get("jwt")
    if isinstance(jwt, dict) and isinstance(jwt.get("claims"), dict):
        claims = jwt["claims"]
        listed = jwt.get("scopes")
        scopes = [str(s) for s in listed] if isinstance(listed, list) else []
        merged = tuple(dict.fromkeys([*scopes, *granted_scopes(claims)]))
        return Auth(claims, scopes=merged, via="aws:jwt-authorizer")
    lam = authorizer.get("lambda")
    if isinstance(lam, dict):
        return Auth(lam, subject=lam.get("sub") if isinstance(lam.get("sub"), str) else None, via="aws:lambda-authorizer")
    return None
