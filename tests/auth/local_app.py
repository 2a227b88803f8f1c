"""An app for ``corefn run`` in tests/auth/test_local_token.py: routes behind the local issuer."""

from corefn import App, HttpRequest, Jwt

app = App("authdemo", auth=Jwt.local())


@app.get("/me")
def me(req: HttpRequest) -> str:
    assert req.auth is not None
    return req.auth.subject or ""


@app.get("/admin", auth=Jwt.local(roles=("admin",)))
def admin(req: HttpRequest) -> str:
    return "welcome"
