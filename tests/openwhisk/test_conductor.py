"""Flows on an OpenWhisk conductor action: the conductor and its steps (the real ``main`` of each
generated action, in process) driven by a controller loop written from conductors.md ("Detailed
specification": invoke ``action`` on ``params``, then the conductor on the result with ``state``'s
fields added; no ``action`` ends with ``params``; an ``error`` ends failed; at most 50 component
activations), every value passing through JSON as it does between activations. No OpenWhisk
controller runs here; the loop is the spec's.

Each run must call the same steps with the same inputs and end like the local engine
(:mod:`corefn.flows.engine`, what ``corefn run`` runs) on the same input, the runs of the
Durable replay test: retries, catch with and without resume, choice, parallel, map.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from corefn_openwhisk import adapter, conductor
from corefn_openwhisk.conductor import make_conductor
from corefn_openwhisk.flows import conductor_unsupported
from corefn_openwhisk.runtime import make_main
from tests.azure.test_flows import FANS, RUNS, run_locally
from tests.flows import compile_app

REF = "tests.flows.compile_app:app"
MAX_COMPONENTS = 50  # the controller's default whisk.actionSequence.maxLength


def controller(flow: str, data: dict[str, Any]) -> tuple[bool, Any, int]:
    """(succeeded, result or error, component activations) of one conductor invocation."""
    main = make_conductor(REF, flow)
    result = main(json.loads(json.dumps(data)))
    count = 0
    while True:
        result = json.loads(json.dumps(result))
        if "error" in result:
            return False, result["error"], count
        if "action" not in result:
            return True, result.get("params", result), count
        count += 1
        assert count <= MAX_COMPONENTS
        assert result["action"].startswith("/guest/compile-cases/")  # fully qualified, in the conductor's package
        handler = result["action"].rsplit("/", 1)[1]
        output = json.loads(json.dumps(make_main(REF, handler)(result.get("params", {}))))
        result = main({**output, **(result.get("state") or {})})


@pytest.fixture
def ow(ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[float]:
    monkeypatch.setenv("__OW_ACTION_NAME", "/guest/compile-cases/flow-conductor")
    logging.getLogger("corefn").setLevel(logging.CRITICAL)  # the failing steps log their tracebacks
    slept: list[float] = []
    monkeypatch.setattr(conductor, "SLEEP", [slept.append])
    return slept


def _key(call: tuple[str, Any]) -> str:
    return json.dumps(call, sort_keys=True)


@pytest.mark.parametrize(("flow", "data", "fails"), [r for r in RUNS if r[0] != "wait"], ids=[f"{r[0]}-{i}" for i, r in enumerate(RUNS) if r[0] != "wait"])
def test_the_conductor_calls_the_same_steps_as_the_local_engine(flow: str, data: Any, fails: dict[str, int], ow: list[float], tmp_path: Path) -> None:
    compile_app.CALLS.clear()
    compile_app.FAILS.clear()
    compile_app.FAILS.update(fails)
    local = run_locally(compile_app.app, flow, data, tmp_path)
    local_calls = list(compile_app.CALLS)

    compile_app.CALLS.clear()
    compile_app.FAILS.clear()
    compile_app.FAILS.update(fails)
    ok, value, _ = controller(flow, data)
    calls = list(compile_app.CALLS)
    assert local_calls
    if flow in FANS:  # branches run on threads locally, one after another here
        assert Counter(map(_key, calls)) == Counter(map(_key, local_calls))
    else:
        assert calls == local_calls
    assert ok == local[0], value
    if ok:
        assert value == local[1]
    else:
        assert f"{value['type']}: {value['message']}" in local[1]


def test_retry_backoffs_are_slept_in_the_conductor(ow: list[float]) -> None:
    compile_app.FAILS.clear()
    compile_app.FAILS.update({"t": 2})
    ok, value, count = controller("retry", {"key": "t"})
    assert ok and value["ok"] is True and count == 3
    assert ow == [0.5, 0.75]  # Retry(backoff=0.5, rate=1.5) after attempts 1 and 2


def test_a_flow_past_its_timeout_ends_timed_out(ow: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"input": {"n": 1}, "log": [], "started": 0.0}  # started long ago
    answer = make_conductor(REF, "sequence")({"__corefn_output": {"n": 2}, "$corefn": state})
    assert answer["error"]["type"] == "FlowTimedOut"


def test_only_waits_are_left_unsupported() -> None:
    refused = {flow.name: [(step, construct) for step, construct, _ in conductor_unsupported(flow)] for flow in compile_app.app.flows}
    assert refused.pop("wait") == [("pause", "wait"), ("until", "wait")]
    assert all(found == [] for found in refused.values())


def test_the_manifest_deploys_each_flow_as_a_conductor_beside_its_steps() -> None:
    from corefn import App
    from corefn.flows import Catch, Retry, parallel, step

    app = App("flowing")
    for name in ("first", "second", "third", "rescue"):
        app.invoke(name)(lambda event: event.payload)
    app.flow("pipeline", [step("first", catch=Catch(step("rescue"))), parallel(step("second"), step("third", retry=Retry(attempts=2)))])
    files = adapter.generate(app, "flowing:app")
    text = files["manifest.yaml"]
    assert isinstance(text, str)
    package = yaml.safe_load(text)["packages"]["flowing"]
    flow_action = package["actions"]["flow-pipeline"]
    assert flow_action["annotations"] == {"conductor": True}
    assert flow_action["inputs"] == {"__corefn_app": "flowing:app", "__corefn_flow": "pipeline"}
    assert flow_action["limits"]["timeout"] == 300000
    assert {"first", "second", "third", "rescue"} <= set(package["actions"])
    main = files["actions/flow-pipeline/__main__.py"]
    assert isinstance(main, str) and "make_conductor('flowing:app', 'pipeline')" in main


def test_start_flow_invokes_the_conductor_through_the_rest_api(ow: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    """``ctx.start_flow`` from a deployed action: a non-blocking POST to the controller (a stand-in
    HTTP server here: no OpenWhisk controller runs offline), whose body the conductor then runs."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    seen: list[tuple[str, str, bytes]] = []

    class Controller(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            seen.append((self.path, self.headers["Authorization"], self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"activationId": "a1b2c3"}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Controller)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("__OW_API_HOST", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("__OW_API_KEY", "uuid:secret")
        assert adapter.deploys_flows is True and adapter.start_flow is not None
        run_id = adapter.start_flow(None, "sequence", json.dumps({"n": 1}), "originals:evt-1")  # type: ignore[arg-type]
    finally:
        server.shutdown()
    assert run_id == "a1b2c3"
    ((path, auth, body),) = seen
    assert path == "/api/v1/namespaces/guest/actions/compile-cases/flow-sequence?blocking=false"
    assert auth == "Basic " + base64.b64encode(b"uuid:secret").decode()
    started = json.loads(body)
    assert started["__corefn_input"] == {"n": 1} and started["__corefn_start_key"] == "originals:evt-1"
    main = make_conductor(REF, "sequence")
    first = main(started)
    assert first["params"] == {"__corefn_input": {"n": 1}}  # the flow's input, not the start's envelope


def test_flow_starters_get_the_api_key_annotation() -> None:
    from corefn import App
    from corefn.flows import step

    app = App("starting")
    app.invoke("first")(lambda event: event.payload)
    flow = app.flow("pipeline", [step("first")])
    app.storage("uploads")(flow)
    text = adapter.generate(app, "starting:app")["manifest.yaml"]
    assert isinstance(text, str)
    actions = yaml.safe_load(text)["packages"]["starting"]["actions"]
    (starter,) = [name for name, action in actions.items() if action.get("annotations", {}).get("provide-api-key") is True]
    assert actions[starter]["web"] == "raw" and starter != "flow-pipeline"
