"""``corefn token`` against the local runtime's HTTP server: the same verification as the
clouds, and a local token opens only a route configured with the local issuer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from corefn import App, Jwt
from corefn.auth import LOCAL_ISSUER, _jwks
from corefn.auth.local import key_path
from corefn.context import Context
from corefn.dispatch import dispatch_http
from corefn.events.http import HttpRequest, HttpResponse

ROOT = Path(__file__).resolve().parents[2]


def mint(state: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from corefn.cli import main; sys.exit(main())", "token", "--state", str(state), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def call(app: App, token: str, path: str = "/me") -> HttpResponse:
    request = HttpRequest(method="GET", path=path, headers={"authorization": f"Bearer {token}"})
    return dispatch_http(app, request, Context(app=app))


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    _jwks.forget()
    yield tmp_path
    _jwks.forget()


def test_a_minted_token_opens_a_local_issuer_route(state: Path) -> None:
    token = mint(state, "--sub", "alice", "--scope", "orders:read", "--role", "admin", "--claim", "tenant=7")
    assert key_path().stat().st_mode & 0o077 == 0  # the private key is its owner's only
    app = App("a")

    @app.get("/me", auth=Jwt.local(scopes=("orders:read",), roles=("admin",)))
    def me(req: HttpRequest) -> dict[str, object]:
        assert req.auth is not None
        return {"sub": req.auth.subject, "tenant": req.auth.claims["tenant"], "iss": req.auth.claims["iss"]}

    response = call(app, token)
    assert response.status == 200, response.body
    assert json.loads(response.body) == {"sub": "alice", "tenant": 7, "iss": LOCAL_ISSUER}
    assert call(app, mint(state, "--aud", "other")).status == 401  # audience still checked


def test_a_local_token_opens_nothing_else(state: Path) -> None:
    token = mint(state)
    app = App("a")
    app.get("/me", name="me", auth=Jwt("https://login.example.com/", "corefn-local", jwks_url="https://127.0.0.1:9/jwks"))(lambda req: "in")
    assert call(app, token).status == 401  # issuer differs: refused before any key is fetched


def test_without_a_key_the_local_issuer_fails_closed(state: Path) -> None:
    app = App("a")
    app.get("/me", name="me", auth=Jwt.local())(lambda req: "in")
    import base64

    claims = base64.urlsafe_b64encode(json.dumps({"iss": LOCAL_ISSUER}).encode()).decode().rstrip("=")
    response = call(app, f"eyJhbGciOiJFUzI1NiIsImtpZCI6ImNvcmVmbi1sb2NhbC0xIn0.{claims}.c2ln")
    assert response.status == 503 and not key_path().exists()


def test_corefn_run_verifies_as_the_clouds_do(state: Path) -> None:
    """Through ``corefn run``'s HTTP server (a real process): no token, a bad one, a good one."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COREFN_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-c", "from corefn.cli import main; main()", "run", "tests.auth.local_app:app", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=state, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            assert proc.poll() is None and time.time() < deadline, proc.stdout.read() if proc.stdout else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        missing = httpx.get(base + "/me")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        forged = mint(state, "--sub", "eve").rsplit(".", 1)[0] + ".AAAA"
        assert httpx.get(base + "/me", headers={"authorization": f"Bearer {forged}"}).status_code == 401
        good = httpx.get(base + "/me", headers={"authorization": f"Bearer {mint(state, '--sub', 'bob')}"})
        assert good.status_code == 200 and good.text == "bob"
        assert httpx.get(base + "/admin", headers={"authorization": f"Bearer {mint(state)}"}).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp", "openwhisk"])
def test_no_cloud_deploys_a_local_issuer_route(cloud: str) -> None:
    from corefn.cli.deploy import generate
    from corefn.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="Jwt.local"):
        generate("tests.auth.local_app:app", cloud)


def test_the_readme_auth_example_runs(state: Path) -> None:
    """The README's authentication snippet, with its issuer swapped for the local one."""
    import re

    readme = (ROOT / "README.md").read_text()
    snippet = next(s for s in re.findall(r"```python\n(.*?)```", readme, re.S) if "Jwt(" in s)
    snippet = snippet.replace('Jwt(issuer="https://login.example.com/", audience="orders-api")', 'Jwt.local("orders-api")')
    namespace: dict[str, object] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, App)

    def post(token: str) -> HttpResponse:
        request = HttpRequest(method="POST", path="/orders", headers={"authorization": f"Bearer {token}"})
        return dispatch_http(app, request, Context(app=app))

    assert post(mint(state, "--aud", "orders-api", "--sub", "alice")).status == 403
    answer = post(mint(state, "--aud", "orders-api", "--sub", "alice", "--scope", "orders:write"))
    assert answer.status == 200 and json.loads(answer.body) == {"placed_by": "alice"}
