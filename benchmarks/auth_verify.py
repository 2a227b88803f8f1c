"""Per-request cost of ``auth=Jwt(...)``, side by side with its peer: PyJWT's own ``decode``.

Three figures, each a median over ``--requests`` calls (interleaved, so machine drift hits all):

- ``pyjwt decode``: ``jwt.decode`` with a key already in hand (the floor: signature + claims);
- ``corefn dispatch, auth=``: a whole ``dispatch_http`` of a route with ``auth=`` (header parsing,
  unverified issuer check, cached JWKS lookup, PyJWK key construction, decode, scopes);
- ``corefn dispatch, no auth``: the same route without ``auth=``, for what dispatch costs anyway.

Also the first request's extra time (OIDC discovery + JWKS over loopback HTTP), once. The keys are
generated here; the issuer is a loopback HTTP server, as in tests/auth.

    python benchmarks/auth_verify.py [--requests 2000] [--alg RS256]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--alg", choices=("RS256", "ES256"), default="RS256")
    args = parser.parse_args()

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    from corefn import App, HttpRequest, Jwt
    from corefn.context import Context
    from corefn.dispatch import dispatch_http

    key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048) if args.alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
    tool: Any = RSAAlgorithm if args.alg == "RS256" else ECAlgorithm
    jwk = {**json.loads(tool.to_jwk(key.public_key())), "kid": "k1", "alg": args.alg, "use": "sig"}
    state: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = {"issuer": state["url"], "jwks_uri": state["url"] + "/jwks"} if self.path.startswith("/.well-known") else {"keys": [jwk]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    token = jwt.encode({"iss": state["url"], "aud": "api", "sub": "u", "exp": int(time.time()) + 3600}, key, algorithm=args.alg, headers={"kid": "k1"})
    app = App("bench")
    app.get("/a", name="a", auth=Jwt(state["url"], "api", algorithms=(args.alg,)))(lambda req: "ok")
    app.get("/b", name="b")(lambda req: "ok")
    ctx = Context(app=app)
    with_auth = HttpRequest(method="GET", path="/a", headers={"authorization": f"Bearer {token}"})
    without = HttpRequest(method="GET", path="/b", headers={"authorization": f"Bearer {token}"})
    public = key.public_key()

    start = time.perf_counter()
    assert dispatch_http(app, with_auth, ctx).status == 200
    first = time.perf_counter() - start

    runs: dict[str, list[float]] = {"pyjwt decode": [], "corefn dispatch, auth=": [], "corefn dispatch, no auth": []}
    calls = {
        "pyjwt decode": lambda: jwt.decode(token, public, algorithms=[args.alg], audience="api", issuer=state["url"]),
        "corefn dispatch, auth=": lambda: dispatch_http(app, with_auth, ctx),
        "corefn dispatch, no auth": lambda: dispatch_http(app, without, ctx),
    }
    for _ in range(args.requests):
        for name, call in calls.items():
            t = time.perf_counter()
            call()
            runs[name].append(time.perf_counter() - t)
    server.shutdown()
    floor = statistics.median(runs["pyjwt decode"])
    print(f"{args.alg}, {args.requests} requests each (median per request)")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"  {name:<28} {median * 1e6:9.1f} µs   {median / floor:5.2f}× pyjwt decode")
    print(f"  first request (discovery + JWKS over loopback): {first * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
