"""``auth=`` on Google Cloud: the function verifies bearer tokens (tested across clouds in
tests/auth/test_clouds.py); ``provider={"gcp": {"iam": True}}`` lets IAM-authenticated invocation
refuse unauthenticated callers first, and the deployed requirements carry the ``jwt`` extra."""

from __future__ import annotations

import subprocess

from corefn import App, HttpRequest, Jwt
from corefn_gcp import adapter

app = App("gauth")


@app.get("/open-to-tokens", auth=Jwt("https://accounts.google.com", "my-client-id"))
def tokens(req: HttpRequest) -> str:
    return "ok"


@app.get("/iam-only", provider={"gcp": {"iam": True}})
def iam_only(req: HttpRequest) -> str:
    return "ok"


def test_iam_or_function_verification_in_the_deploy_script() -> None:
    files = adapter.generate(app, "tests.gcp.test_auth:app")
    script = files["deploy.sh"]
    assert isinstance(script, str)
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # bash parses it
    deploys = {part.split(" ", 1)[0]: part.split("\n\n")[0] for part in script.split("gcloud functions deploy ")[1:]}
    assert "\n    --no-allow-unauthenticated" in deploys["gauth-iam-only"]
    assert "\n    --allow-unauthenticated" in deploys["gauth-tokens"]
    assert "\nPyJWT==" in str(files["requirements.txt"])  # tokens are verified in the function
