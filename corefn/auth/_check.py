"""The request path of ``auth=``: who is calling, and may they call this route.

Kept apart from :mod:`corefn.auth` so the JOSE library is imported only when a request reaches a
route with ``auth=`` (``corefn.dispatch`` imports this module lazily).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from corefn.auth import Auth, Jwt, _as_names
from corefn.events.http import HttpResponse

if TYPE_CHECKING:
    from corefn.events.http import HttpRequest

log = logging.getLogger("corefn.auth")

#: gateways that verify a JWT's signature themselves before the function runs (their adapters set
#: ``request.auth`` from a field only the gateway writes); any other vouched identity (a Lambda
#: authorizer's context, say) does not stand in for the token a route with ``auth=`` requires
JWT_GATEWAYS = frozenset({"aws:jwt-authorizer", "aws:cognito-authorizer", "azure:app-service"})


def authenticate(config: Jwt, request: HttpRequest) -> Auth | HttpResponse:
    """The caller's :class:`Auth`, or the 401 / 403 / 503 to answer instead.

    An identity a gateway vouched for (``request.auth`` set by the adapter from a field only the
    gateway can write) is accepted when it was issued by this route's issuer for its audience;
    otherwise the bearer token is verified here, exactly as the local runtime does.
    """
    vouched = request.auth
    if vouched is not None and vouched.via in JWT_GATEWAYS:
        reason = _foreign(config, vouched)
        if reason is not None:
            return _refuse(request, 401, "invalid_token", f"{vouched.via} identity refused: {reason}")
        auth = vouched
    else:
        token = _bearer(request.headers.get("authorization"))
        if token is None:
            return _refuse(request, 401, None, "no bearer token")
        from corefn.auth._verify import KeysUnavailable, TokenRefused, verify

        try:
            auth = Auth(verify(config, token))
        except TokenRefused as error:
            return _refuse(request, 401, "invalid_token", str(error))
        except KeysUnavailable as error:
            log.error("auth: cannot fetch signing keys for %s: %s (request %s)", config.issuer, error, request.id)
            return HttpResponse.json({"error": "authentication unavailable"}, 503, {"retry-after": "30"})
    missing = [s for s in config.scopes if s not in auth.scopes]
    if missing:
        return _refuse(request, 403, "insufficient_scope", f"missing scope(s) {missing}", scope=" ".join(config.scopes))
    if config.roles and not set(config.roles) & set(auth.roles(config.roles_claim)):
        return _refuse(request, 403, "insufficient_scope", f"none of the roles {list(config.roles)} in {config.roles_claim!r}")
    return auth


def _foreign(config: Jwt, auth: Auth) -> str | None:
    """Why a gateway-verified identity does not belong to this route, or ``None``. API Gateway's
    JWT authorizer accepts a token whose ``aud`` *or* ``client_id`` is an audience (Cognito access
    tokens carry only ``client_id``: "Configuring JWT authorizers", API Gateway developer guide)."""
    issuer = auth.claims.get("iss")
    if issuer != config.issuer:
        return f"issuer {issuer!r} is not {config.issuer!r}"
    audiences = set(_as_names(auth.claims.get("aud"))) | set(_as_names(auth.claims.get("client_id")))
    if not audiences & set(config.audience):
        return f"audience {sorted(audiences)} is not one of {list(config.audience)}"
    return None


def _bearer(header: str | None) -> str | None:
    """RFC 6750 §2.1: ``Bearer`` (case-insensitive scheme, RFC 7235 §2.1) then the token."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _refuse(request: HttpRequest, status: int, error: str | None, reason: str, scope: str | None = None) -> HttpResponse:
    """RFC 6750 §3: the challenge names the error class only; the reason goes to the log."""
    log.warning("auth: %s %s refused (%d): %s (request %s)", request.method, request.path, status, reason, request.id)
    challenge = "Bearer"
    if error is not None:
        challenge += f' error="{error}"'
    if scope is not None:
        challenge += f', scope="{scope}"'
    body = {"error": "unauthorized" if status == 401 else "forbidden"}
    return HttpResponse.json(body, status, {"www-authenticate": challenge})
