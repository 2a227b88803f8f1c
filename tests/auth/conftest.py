"""An OpenID Connect issuer on loopback for the auth tests: keys generated per test session (RSA
and EC P-256, never checked in), a discovery document and a JWKS served by a real HTTP server,
and key rotation by publishing a new key. Tokens are signed with PyJWT, as a provider would."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from corefn.auth import _jwks

AUDIENCE = "orders-api"


class Issuer:
    """A minimal identity provider: ``sign`` with a current key, ``rotate`` to a new one."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, Any]] = {}  # kid -> (alg, private key)
        self.published: list[str] = []
        self.hits: list[str] = []
        self.url = ""
        self.add("RS256")
        self.add("ES256")

    def add(self, alg: str, publish: bool = True) -> str:
        kid = f"{alg}-{uuid.uuid4().hex[:8]}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = (alg, key)
        if publish:
            self.published.append(kid)
        return kid

    def kid(self, alg: str) -> str:
        return next(k for k in self.published if self.keys[k][0] == alg)

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid in self.published:
            alg, key = self.keys[kid]
            tool = RSAAlgorithm if alg == "RS256" else ECAlgorithm
            out.append({**json.loads(tool.to_jwk(key.public_key())), "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": out}

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.url, "aud": AUDIENCE, "sub": "user-42", "iat": now, "exp": now + 300, "scope": "orders:read"}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, alg: str = "RS256", kid: str | None = None, **changes: Any) -> str:
        kid = kid or self.kid(alg)
        return jwt.encode(self.claims(**changes), self.keys[kid][1], algorithm=alg, headers={"kid": kid})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    state = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": state.url, "jwks_uri": state.url + "/jwks.json"}
            elif self.path == "/jwks.json":
                body = state.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    _jwks.forget()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        _jwks.forget()
