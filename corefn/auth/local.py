"""The local issuer: a signing key under the state folder, for ``corefn token`` and ``corefn run``.

The key (an EC P-256 private key, ES256) is created on first use at
``$COREFN_STATE_DIR/auth/local-key.pem`` (``.corefn/auth/`` by default), readable by its owner
only. Tokens signed with it carry ``iss = urn:corefn:local`` (:data:`~corefn.auth.LOCAL_ISSUER`):
an app accepts them only when a route says ``auth=Jwt.local(...)``, and every deploy generator
refuses such an app, so a development key can never open a deployed API.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from corefn.auth import LOCAL_ISSUER
from corefn.auth._jwks import KeySet, KeysUnavailable
from corefn.errors import MissingExtraError

KID = "corefn-local-1"


def key_path() -> Path:
    return Path(os.environ.get("COREFN_STATE_DIR", ".corefn")).absolute() / "auth" / "local-key.pem"


def _private_key(create: bool) -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        raise MissingExtraError("cryptography", "jwt") from None
    path = key_path()
    if not path.exists():
        if not create:
            raise KeysUnavailable(f"no local signing key at {path}: run 'corefn token' first")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def local_jwks(_url: str = "") -> dict[str, Any]:
    """The public half of the local key as a JWK set (what a real issuer would publish)."""
    import json

    from jwt.algorithms import ECAlgorithm

    jwk = json.loads(ECAlgorithm.to_jwk(_private_key(create=False).public_key()))
    return {"keys": [{**jwk, "kid": KID, "alg": "ES256", "use": "sig"}]}


def local_key_set() -> KeySet:
    return KeySet(LOCAL_ISSUER, "corefn-local-key", fetch=local_jwks)


def mint(
    subject: str,
    audience: str = "corefn-local",
    *,
    scopes: tuple[str, ...] = (),
    ttl: float = 3600,
    claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """A token from the local issuer (creating the key on first use)."""
    try:
        import jwt
    except ImportError:
        raise MissingExtraError("PyJWT", "jwt") from None
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "iss": LOCAL_ISSUER, "sub": subject, "aud": audience, "iat": issued, "nbf": issued,
        "exp": issued + int(ttl), "jti": uuid.uuid4().hex,
    }  # fmt: skip
    if scopes:
        payload["scope"] = " ".join(scopes)
    payload.update(claims or {})
    return jwt.encode(payload, _private_key(create=True), algorithm="ES256", headers={"kid": KID})
