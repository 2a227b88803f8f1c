"""The Azure auth tests' app, in its own module so the bundle scanner sees only what an app imports
(the test module imports pytest)."""

from __future__ import annotations

from typing import Any

from corefn import App, HttpRequest, Jwt

ISSUER = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"
API = Jwt(ISSUER, ("api://orders", "6731de76-14a6-49ae-97bc-6eba6914391e"), algorithms=("RS256",))

app = App("azauth")


@app.get("/me", auth=API.require(roles=("Orders.Read",)))
def me(req: HttpRequest) -> dict[str, Any]:
    assert req.auth is not None
    return {"sub": req.auth.subject, "via": req.auth.via, "roles": list(req.auth.roles())}


@app.get("/elsewhere", auth=Jwt("https://accounts.google.com", "my-client"))
def elsewhere(req: HttpRequest) -> str:
    return "in"
