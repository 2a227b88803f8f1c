"""Bearer-token (JWT / OIDC) authentication for HTTP routes: ``auth=Jwt(...)``.

One declaration holds on every cloud and locally. Where the cloud's gateway verified the token
(API Gateway HTTP API JWT authorizer, Azure App Service authentication), the adapter hands the
dispatcher the identity the gateway vouched for (:class:`Auth` with ``via`` naming the gateway) and
corefn checks only that it was issued for this route's issuer and audience; everywhere else the
function verifies the ``Authorization: Bearer`` token itself (:mod:`corefn.auth._verify`). The
JOSE library (PyJWT) is imported only when a request reaches a route with ``auth=``.

Failures answer 401 with ``WWW-Authenticate: Bearer error="invalid_token"`` (or no error code
when no token was sent) and 403 ``insufficient_scope`` when scopes or roles are missing, as RFC
6750 §3 says; the precise reason is logged, never sent back to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

from corefn._record import Record, _set
from corefn.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: issuer of the tokens ``corefn token`` mints from the key under the state folder; an app accepts
#: them only when configured with exactly this issuer (``Jwt.local(...)``), and no deploy
#: generator accepts such an app
LOCAL_ISSUER = "urn:corefn:local"

#: asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037): a JWKS publishes public keys, so an HMAC
#: algorithm would turn a public key into a shared secret (the classic "alg confusion" attack)
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


class Jwt(Record):
    """Require a JWT access token from ``issuer`` for ``audience``.

    - ``jwks_url``: where the signing keys are; ``None`` reads ``jwks_uri`` from the issuer's
      OpenID Connect discovery document (``<issuer>/.well-known/openid-configuration``).
    - ``algorithms``: accepted ``alg`` values, asymmetric only (``none`` and HMAC are refused).
    - ``leeway``: seconds of clock skew tolerated on ``exp`` and ``nbf``.
    - ``scopes``: every one must be granted (``scope`` string or ``scp`` claim, RFC 8693 §4.2).
    - ``roles``: at least one must be held, read from ``roles_claim`` (a dotted path:
      ``roles`` for Entra ID, ``cognito:groups``, ``realm_access.roles`` for Keycloak).

    Share one ``Jwt`` across routes and narrow it per route: ``auth=api.require(scopes=("orders:write",))``.
    """

    __slots__ = ("issuer", "audience", "jwks_url", "algorithms", "leeway", "scopes", "roles", "roles_claim")
    issuer: str
    audience: tuple[str, ...]
    jwks_url: str | None
    algorithms: tuple[str, ...]
    leeway: float
    scopes: tuple[str, ...]
    roles: tuple[str, ...]
    roles_claim: str

    def __init__(
        self,
        issuer: str,
        audience: str | tuple[str, ...] | list[str],
        jwks_url: str | None = None,
        algorithms: tuple[str, ...] | list[str] = ("RS256", "ES256"),
        leeway: float = 60,
        *,
        scopes: tuple[str, ...] | list[str] = (),
        roles: tuple[str, ...] | list[str] = (),
        roles_claim: str = "roles",
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("Jwt issuer must be the identity provider's issuer URL")
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ConfigurationError("Jwt audience must name this API (the token's 'aud')")
        algs = tuple(algorithms)
        bad = [a for a in algs if a not in ASYMMETRIC]
        if bad or not algs:
            raise ConfigurationError(
                f"Jwt algorithms {bad or algs} refused: use asymmetric ones ({', '.join(sorted(ASYMMETRIC))});"
                " 'none' and HMAC cannot be verified against a public key set"
            )
        if leeway < 0:
            raise ConfigurationError("Jwt leeway is seconds of clock skew and cannot be negative")
        _set(self, "issuer", issuer)
        _set(self, "audience", audiences)
        _set(self, "jwks_url", jwks_url)
        _set(self, "algorithms", algs)
        _set(self, "leeway", leeway)
        _set(self, "scopes", tuple(scopes))
        _set(self, "roles", tuple(roles))
        _set(self, "roles_claim", roles_claim)

    @classmethod
    def local(cls, audience: str | tuple[str, ...] = "corefn-local", **kwargs: Any) -> Jwt:
        """Accept only the tokens ``corefn token`` mints (development; refused by every deploy)."""
        return cls(LOCAL_ISSUER, audience, algorithms=("ES256",), **kwargs)

    @property
    def is_local(self) -> bool:
        return self.issuer == LOCAL_ISSUER

    def require(self, *, scopes: tuple[str, ...] | list[str] = (), roles: tuple[str, ...] | list[str] = ()) -> Jwt:
        """The same issuer and audience, with these scopes and roles required on top."""
        return self.replace(scopes=self.scopes + tuple(scopes), roles=self.roles + tuple(roles))  # type: ignore[no-any-return]


class Auth(Record):
    """The verified caller, as ``request.auth``: ``claims`` of the token, ``subject`` (``sub``),
    the granted ``scopes``, and ``via``: ``"corefn"`` when the function verified the token, or the
    gateway that did (``"aws:jwt-authorizer"``, ``"aws:cognito-authorizer"``, ``"aws:lambda-authorizer"``,
    ``"azure:app-service"``)."""

    __slots__ = ("claims", "subject", "scopes", "via")
    claims: Mapping[str, Any]
    subject: str | None
    scopes: tuple[str, ...]
    via: str

    def __init__(
        self, claims: Mapping[str, Any], subject: str | None = None, scopes: tuple[str, ...] | None = None, via: str = "corefn"
    ) -> None:
        _set(self, "claims", claims)
        _set(self, "subject", subject if subject is not None else _str_or_none(claims.get("sub")))
        _set(self, "scopes", scopes if scopes is not None else granted_scopes(claims))
        _set(self, "via", via)

    def roles(self, claim: str = "roles") -> tuple[str, ...]:
        """The values of a roles / groups claim (a dotted path), as a tuple of strings."""
        value: Any = self.claims
        for part in claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return _as_names(value)


def refuse_local_issuer(handlers: Any) -> None:
    """Deploying is where a development issuer must stop: its key lives in a laptop's state
    folder, so a deployed route naming it would either fail every call or, worse, trust a key
    anyone can make. Called by ``corefn deploy`` for every cloud."""
    local = [spec.name for spec in handlers if isinstance(spec.options.auth, Jwt) and spec.options.auth.is_local]
    if local:
        raise ConfigurationError(
            f"handler(s) {', '.join(local)} accept only the local development issuer (Jwt.local()); "
            "give them your identity provider's Jwt(issuer=..., audience=...) before deploying"
        )


def jwt_extra(handlers: Any) -> str:
    """``",jwt"`` when a handler verifies tokens in the function, for a generated requirement
    (``corefn[aws,jwt]``): the deployed function must carry PyJWT, which the base install lacks."""
    return ",jwt" if any(isinstance(spec.options.auth, Jwt) for spec in handlers) else ""


def granted_scopes(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """``scope`` is one space-separated string (RFC 8693 §4.2, RFC 9068 §2.2.3); Entra ID and Okta
    send ``scp``, as a string or a list; API Gateway passes scopes as a list beside the claims."""
    return _as_names(claims.get("scope")) + _as_names(claims.get("scp"))


def _as_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split()) if value[:1] != "[" else _as_names(_json_list(value))
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return ()


def _json_list(value: str) -> Any:
    """API Gateway hands list-valued claims to Lambda as strings such as ``[admin editor]``."""
    inner = value.strip("[]")
    return inner.replace(",", " ").split()


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def __getattr__(name: str) -> Any:
    if name == "authenticate":  # the request path, with the JOSE library behind it: loaded on use
        from corefn.auth._check import authenticate

        return authenticate
    raise AttributeError(name)


__all__ = ["ASYMMETRIC", "LOCAL_ISSUER", "Auth", "Jwt", "granted_scopes", "jwt_extra", "refuse_local_issuer"]
