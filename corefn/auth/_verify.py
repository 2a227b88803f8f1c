"""Verifying a JWT in the function, with PyJWT (the ``jwt`` extra).

What is checked, in order: the header's ``alg`` is one the route accepts (asymmetric only, so
``none`` and an HMAC "signed" with a public key never pass); a key of the issuer's JWKS with the
token's ``kid`` whose type fits that algorithm (RFC 7518 §6: ``RSA`` for RS/PS, ``EC`` for ES,
``OKP`` for EdDSA) and whose own ``alg``, when the JWKS states one, is the same; then the
signature, ``iss``, ``aud``, ``exp`` (required) and ``nbf`` with the route's leeway.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from corefn.auth._jwks import KeysUnavailable, key_set
from corefn.errors import MissingExtraError

if TYPE_CHECKING:
    from corefn.auth import Jwt

#: JWK ``kty`` each algorithm family needs (RFC 7518 §6.1, RFC 8037 §2)
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class TokenRefused(Exception):
    """Why a token was refused: for the log only, never for the caller."""


def verify(config: Jwt, token: str) -> dict[str, Any]:
    """The verified claims of ``token``, or :class:`TokenRefused`."""
    try:
        import jwt
    except ImportError:
        raise MissingExtraError("PyJWT", "jwt") from None
    header, payload = _peek(token)
    # Read unverified only to pick the key and to refuse a foreign issuer before any key fetch (a
    # token from elsewhere must not make us call our identity provider); PyJWT then parses and
    # verifies the whole token again, strictly, and that alone decides.
    issuer = payload.get("iss")
    alg = header.get("alg")
    if alg not in config.algorithms:
        raise TokenRefused(f"algorithm {alg!r} is not one of {list(config.algorithms)}")
    if issuer != config.issuer:
        raise TokenRefused(f"issuer {issuer!r} is not {config.issuer!r}")
    kid = header.get("kid")
    keys = [k for k in key_set(config.issuer, config.jwks_url).candidates(kid if isinstance(kid, str) else None) if _fits(k, alg)]
    if not keys:
        raise TokenRefused(f"no {alg} key with kid {kid!r} in the issuer's key set")
    last: Exception | None = None
    for jwk in keys:
        try:
            key = _key(jwt, jwk, alg)
        except (jwt.PyJWTError, ValueError, TypeError) as bad:
            last = bad
            continue
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=list(config.audience),
                issuer=config.issuer,
                leeway=config.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError as bad:  # several candidates only when kid was absent
            last = bad
        except jwt.PyJWTError as bad:
            raise TokenRefused(f"{type(bad).__name__}: {bad}") from None
    raise TokenRefused(f"{type(last).__name__}: {last}")


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and payload of a compact JWS (RFC 7515 §7.1), cheaply: PyJWT's own
    parse is strict and slower, and runs once, in the verifying ``decode``."""
    import base64
    import binascii

    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRefused("malformed token: not three dot-separated parts")
    try:
        header, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except (ValueError, binascii.Error) as error:
        raise TokenRefused(f"malformed token: {error}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenRefused("malformed token: header or payload is not a JSON object")
    return header, payload


#: public keys built from JWKs, by their canonical JSON and algorithm: building an RSA key from
#: its JWK costs more than verifying a signature with it (benchmarks/auth_verify.py)
_BUILT: dict[tuple[str, str], Any] = {}
_MAX_BUILT = 64


def _key(jwt: Any, jwk: dict[str, Any], alg: str) -> Any:
    cache_key = (json.dumps(jwk, sort_keys=True), alg)
    key = _BUILT.get(cache_key)
    if key is None:
        key = jwt.PyJWK(jwk, algorithm=alg).key
        if len(_BUILT) >= _MAX_BUILT:  # rotated-out keys: start over rather than grow
            _BUILT.clear()
        _BUILT[cache_key] = key
    return key


def _fits(jwk: dict[str, Any], alg: str) -> bool:
    return jwk.get("kty") == KEY_TYPES.get(alg[:2]) and jwk.get("alg", alg) == alg


__all__ = ["KeysUnavailable", "TokenRefused", "verify"]
