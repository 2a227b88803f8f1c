"""``ctx.start_flow`` on Google Cloud: a Workflows execution started through the Executions REST API.

No Workflows emulator exists: the API is a local HTTP server (a mock, said so) that records the
request and answers as the API documents
(https://cloud.google.com/workflows/docs/reference/executions/rest/v1/projects.locations.workflows.executions/create).
The provider's ``start_flow`` member is called as the core's per-cloud hook calls it (the context,
the flow's name, its input as JSON text, the key); the path through ``ctx.start_flow`` and the
flow's trigger handler is tested once that hook (``corefn.flows.deploying``, issue 23) is merged:
skipped until then.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from corefn import App, Context
from corefn.errors import ConfigurationError
from corefn.flows import step

WORKFLOW = "projects/corefn-test/locations/us-central1/workflows/flowy-go"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    started: dict[str, str] = {}  # label value → execution name

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, value: Any) -> None:
            answer = json.dumps(value).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def do_GET(self) -> None:  # noqa: N802  (executions.list with a label filter)
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(self.path).query)
            seen.append({"method": "GET", "path": urlsplit(self.path).path, "query": query})
            wanted = query["filter"][0].split('="', 1)[1].rstrip('"')
            self._answer({"executions": [{"name": started[wanted]}]} if wanted in started else {})

        def do_POST(self) -> None:  # noqa: N802  (executions.create)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"method": "POST", "path": self.path, "body": body})
            name = f"{self.path.removeprefix('/v1/').removesuffix('/executions')}/executions/e-{len(started) + 1}"
            for value in (body.get("labels") or {}).values():
                started[value] = name
            self._answer({"name": name, "state": "ACTIVE"})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import google.auth
    from google.auth.credentials import AnonymousCredentials

    import corefn_gcp.flowstart as flowstart

    monkeypatch.setattr(flowstart, "_session", None)
    monkeypatch.setattr(google.auth, "default", lambda scopes=None: (AnonymousCredentials(), "corefn-test"))
    monkeypatch.setenv("COREFN_WORKFLOWS_ENDPOINT", f"http://127.0.0.1:{server.server_port}/v1")
    yield seen
    server.shutdown()


def _app() -> App:
    app = App("flowy")

    @app.invoke()
    def work(event: Any) -> Any:
        return event.payload

    go = app.flow("go", [step("work")])
    app.topic("orders")(go)
    return app


def _start(ctx: Context, name: str, data: Any, key: str | None = None) -> str:
    """The provider's member, called as the core's hook calls it."""
    from corefn_gcp import adapter

    assert adapter.start_flow is not None and adapter.deploys_flows
    return adapter.start_flow(ctx, name, json.dumps(data), key)


def test_start_flow_on_gcp_starts_an_execution_of_the_named_workflow(api: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app()
    monkeypatch.setenv("COREFN_FLOW_GO", WORKFLOW)
    ctx = Context(cloud="gcp", function="flowy-go", app=app)
    run = _start(ctx, "go", {"order": 7}, key="orders:m-1")
    assert run == f"{WORKFLOW}/executions/e-1"
    listed, created = api
    assert listed["method"] == "GET" and listed["path"] == f"/v1/{WORKFLOW}/executions" and listed["query"]["filter"][0].startswith("labels.corefn-key=")
    assert created["path"] == f"/v1/{WORKFLOW}/executions"
    assert json.loads(created["body"]["argument"]) == {"order": 7}
    assert len(created["body"]["labels"]["corefn-key"]) <= 63
    # a redelivery of the same event finds its run: no second execution
    assert _start(ctx, "go", {"order": 7}, key="orders:m-1") == run
    assert [r["method"] for r in api] == ["GET", "POST", "GET"]
    assert _start(ctx, "go", {"order": 8}, key="orders:m-2") == f"{WORKFLOW}/executions/e-2"


def test_start_flow_without_its_workflow_setting_is_a_configuration_error(api: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COREFN_FLOW_GO", raising=False)
    with pytest.raises(ConfigurationError, match="COREFN_FLOW_GO"):
        _start(Context(cloud="gcp", function="flowy-go", app=_app()), "go", {})
    assert not api


def test_a_flow_trigger_deployed_on_gcp_starts_an_execution(api: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The Pub/Sub push that the flow's trigger function receives starts one execution, through
    ``ctx.start_flow`` and the core's per-cloud hook."""
    pytest.importorskip("corefn.flows.deploying")
    import base64

    from corefn import testing

    app = _app()
    monkeypatch.setenv("COREFN_FLOW_GO", WORKFLOW)
    monkeypatch.setenv("K_SERVICE", "flowy-go")
    push = {"message": {"data": base64.b64encode(b'{"order": 9}').decode(), "messageId": "m-9", "publishTime": "2026-01-01T00:00:00Z"},
            "subscription": "projects/corefn-test/subscriptions/flowy-go-push", "deliveryAttempt": 1}  # fmt: skip
    testing.call(app, push, cloud="gcp", pinned="go")
    created = [r for r in api if r["method"] == "POST"]
    assert len(created) == 1 and json.loads(created[0]["body"]["argument"])["body"] is not None
    testing.call(app, push, cloud="gcp", pinned="go")  # Pub/Sub redelivers the same message
    assert len([r for r in api if r["method"] == "POST"]) == 1
