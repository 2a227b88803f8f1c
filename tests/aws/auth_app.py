"""Apps for tests/aws/test_gateway_auth.py, in a module of their own: a deployment bundle carries
what the app's module imports, so it must import corefn only."""

from __future__ import annotations

from typing import Any

from corefn import App, HttpRequest, Jwt

ISSUER = "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_Example"
RSA = Jwt(ISSUER, ("orders-client", "admin-client"), algorithms=("RS256",))

app = App("gatewayauth")


@app.get("/orders", auth=RSA)
def orders(req: HttpRequest) -> dict[str, Any]:
    assert req.auth is not None
    return {"sub": req.auth.subject, "via": req.auth.via, "scopes": list(req.auth.scopes)}


@app.post("/orders", name="create", auth=RSA.require(scopes=("orders/write",)))
def create(req: HttpRequest) -> str:
    return "created"


@app.put("/orders", name="update", auth=RSA.require(scopes=("orders/write", "orders/admin")))
def update(req: HttpRequest) -> str:
    return "updated"


@app.get("/other", auth=Jwt("https://login.example.com/tenant/v2.0", "api://other", algorithms=("RS256",)))
def other(req: HttpRequest) -> str:
    return "other"


@app.get("/mixed", auth=Jwt(ISSUER, "orders-client"))  # ES256 too: the gateway cannot
def mixed(req: HttpRequest) -> str:
    return "mixed"


@app.queue("placed")  # an HTTP-only app trips cfn-lint's unused-parameter warnings (W2001, W1020)
def placed(msg: Any) -> None:
    return None


@app.get("/public")
def public(req: HttpRequest) -> str:
    return "public"



gated = App("gated")


@gated.authorizer("gate")
def gate(request: Any) -> bool:
    return request.token == "let-me-in"


@gated.authorizer("gate_policy", response="policy")
def gate_policy(request: Any) -> bool:
    return True


@gated.get("/inside", provider={"aws": {"authorizer": "gate"}})
def inside(req: HttpRequest) -> str:
    return "inside"


@gated.get("/legacy", provider={"aws": {"authorizer": "gate_policy"}})
def legacy(req: HttpRequest) -> str:
    return "legacy"


@gated.queue("placed")
def placed_too(msg: Any) -> None:
    return None
