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

from corefn.auth import Auth, Jwt, granted_scopes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from corefn.specs import HandlerSpec
    from corefn_aws._sam_resources import Plan

#: the only algorithms an HTTP API JWT authorizer verifies
GATEWAY_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
IDENTITY_SOURCE = "$request.header.Authorization"


def on_http_api(spec: HandlerSpec) -> bool:
    """Whether an HTTP handler is served by the HTTP API (the default) rather than a REST API
    (``provider={"aws": {"api": "rest"}}``)."""
    return (spec.options.provider.get("aws") or {}).get("api") != "rest"


def gateway_jwt(spec: HandlerSpec) -> Jwt | None:
    """The route's ``Jwt`` when the HTTP API can verify it, else ``None`` (the function does)."""
    auth = spec.options.auth
    if spec.kind != "http" or not isinstance(auth, Jwt) or not on_http_api(spec) or _names_authorizer(spec):
        return None
    return auth if set(auth.algorithms) <= GATEWAY_ALGORITHMS else None


def _names_authorizer(spec: HandlerSpec) -> bool:
    return (spec.options.provider.get("aws") or {}).get("authorizer") is not None


def authorizer_name(plan: Plan, config: Jwt) -> str:
    """One authorizer per (issuer, audience), shared by the routes that name them."""
    keys = sorted({(j.issuer, j.audience) for s in plan.handlers if (j := gateway_jwt(s)) is not None})
    return f"CorefnJwt{keys.index((config.issuer, config.audience)) + 1}"


def pascal(name: str) -> str:
    """The generator's logical-id spelling (imported on use: the Lambda HTTP path imports this module)."""
    from corefn_aws._sam_resources import pascal as spelled

    return spelled(name)


def lambda_authorizer(plan: Plan, spec: HandlerSpec) -> HandlerSpec | None:
    """The ``@app.authorizer`` handler a route names with ``provider={"aws": {"authorizer": NAME}}``
    (HTTP API routes only: a REST API's authorizers are left to the user's own template)."""
    name = (spec.options.provider.get("aws") or {}).get("authorizer")
    if spec.kind != "http" or name is None:
        return None
    from corefn.errors import ConfigurationError

    found = next((s for s in plan.handlers if s.name == name), None)
    if found is None or found.kind != "authorizer":
        raise ConfigurationError(f"route {spec.name!r} names authorizer {name!r}, which is not an @app.authorizer handler of this app")
    if not on_http_api(spec):
        raise ConfigurationError(f"route {spec.name!r}: corefn wires Lambda authorizers on HTTP APIs only (drop api='rest')")
    return found


def _lambda_authorizers(plan: Plan) -> dict[str, Any]:
    """One HTTP API Lambda authorizer per ``@app.authorizer`` a route names: payload 2.0, simple
    responses unless the handler says ``response="policy"``, the ``Authorization`` header as
    identity source and no result caching (a cached decision would be applied to other routes:
    "Working with AWS Lambda authorizers for HTTP APIs", API Gateway developer guide); the
    permission to invoke it is :func:`authorizer_permissions`."""
    out: dict[str, Any] = {}
    for spec in plan.handlers:
        found = lambda_authorizer(plan, spec)
        if found is None:
            continue
        out[pascal(found.name) + "Authorizer"] = {
            "FunctionArn": {"Fn::GetAtt": [pascal(found.name) + "Function", "Arn"]},
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": getattr(found.trigger, "response", "simple") == "simple",
            "Identity": {"Headers": ["Authorization"], "ReauthorizeEvery": 0},
        }
    return out


def authorizer_permissions(plan: Plan) -> dict[str, Any]:
    """API Gateway may invoke each wired authorizer function: SAM's translator does not add this
    permission for HTTP API Lambda authorizers without a ``FunctionInvokeRole`` (checked in the tests)."""
    out: dict[str, Any] = {}
    for name in _lambda_authorizers(plan):
        function = name.removesuffix("Authorizer") + "Function"
        out[name + "Permission"] = {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function, "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/authorizers/*"},
        }}  # fmt: skip
    return out


def http_api_auth(plan: Plan) -> dict[str, Any]:
    """The HttpApi's ``Auth`` property (SAM ``AWS::Serverless::HttpApi`` → ``HttpApiAuth``)."""
    authorizers: dict[str, Any] = _lambda_authorizers(plan)
    for spec in plan.handlers:
        config = gateway_jwt(spec)
        if config is None:
            if spec.kind == "http" and isinstance(spec.options.auth, Jwt) and not _names_authorizer(spec):
                why = "a REST API has no JWT authorizer" if not on_http_api(spec) else (
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
    named = lambda_authorizer(plan, spec)
    if named is not None:
        note = f"{spec.name}: behind authorizer {named.name!r}, its bearer token is verified in the function"
        if isinstance(spec.options.auth, Jwt) and note not in plan.warnings:  # one authorizer per route
            plan.warnings.append(note)
        return {"Auth": {"Authorizer": pascal(named.name) + "Authorizer"}}
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


def rest_identity(context: Any) -> Auth | None:
    """``req.auth`` from a REST API's ``requestContext.authorizer`` (payload 1.0): a Cognito user
    pool authorizer's verified ``claims``, or a Lambda authorizer's ``principalId`` with its
    context keys beside it ("Output from an API Gateway Lambda authorizer")."""
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(authorizer, dict):
        return None
    claims = authorizer.get("claims")
    if isinstance(claims, dict):
        return Auth(claims, via="aws:cognito-authorizer")
    principal = authorizer.get("principalId")
    if isinstance(principal, str):
        rest = {k: v for k, v in authorizer.items() if k != "principalId"}
        return Auth(rest, subject=principal, via="aws:lambda-authorizer")
    return None
