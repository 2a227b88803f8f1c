"""The local console (``/_corefn/``) of ``corefn run``: its JSON, its guards, and the page in
headless Chromium — it loads, shows a live invocation, and its Redrive button moves a dead letter
back. Screenshots go to ``$COREFN_SCREENSHOTS`` (default: the test's tmp folder)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from corefn import App
from corefn.errors import ConfigurationError
from tests.reliability.browser import Browser
from tests.reliability.conftest import Reliable


def test_the_app_may_not_declare_console_routes() -> None:
    app = App("a")
    for route in ("/_corefn", "/_corefn/api/state"):
        with pytest.raises(ConfigurationError, match="reserved"):
            app.get(route)
    app.get("/_corefnx", name="fine")(lambda r: "ok")  # only the console's own prefix is reserved


def test_graph_draws_triggers_handlers_sinks_and_feeds() -> None:
    from corefn.local.graph import layout, render
    from tests.reliability.app import app

    nodes, edges = layout(app)
    ids = {n.id for n in nodes}
    assert {"resource:payments", "handler:pay", "timer:morning", "http:pay_http", "sink:ledger", "sink:audit"} <= ids
    assert ("resource:payments", "handler:pay", False) in edges and ("http:pay_http", "handler:pay_http", False) in edges
    assert ("handler:pay", "sink:idempotency", False) in edges  # the idempotent handler's records
    assert ("flow:order", "handler:prepare", False) in edges and ("flow:order", "handler:ship", False) in edges
    svg = render(app)
    assert svg.startswith("<svg") and 'data-node="handler:alert_b"' in svg and "0 9 * * * (Asia/Seoul)" in svg


@pytest.fixture
def served(rel: Reliable) -> Iterator[str]:
    (rel.out / "broken").touch()
    rel.publisher("jobs").send("fragile")  # fails twice while "broken" exists: a dead letter
    status, out = rel.until_idle()
    assert status == 1, out
    _, base = rel.serve()
    yield base


def test_state_json_and_guards(served: str) -> None:
    state = httpx.get(f"{served}/_corefn/api/state").json()
    assert state["app"] == "reliable"
    (letter,) = state["dead"]
    assert letter["handler"] == "work" and letter["attempts"] == 2 and "fragile" in letter["error"]
    (timer,) = state["timers"]
    assert timer["tz"] == "Asia/Seoul" and timer["next_local"].endswith("09:00 KST") and timer["next_utc"].endswith("00:00 UTC")
    assert {h["name"] for h in state["handlers"]} >= {"pay", "work", "alert_a", "morning", "pay_http"}
    page = httpx.get(f"{served}/_corefn/")
    assert page.status_code == 200 and "<svg" in page.text and "http://" not in page.text.split("<svg", 1)[0]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # guards: a foreign Host (DNS rebinding), a redrive without the console's header, a bad body
    assert httpx.get(f"{served}/_corefn/api/state", headers={"host": "evil.example"}).status_code == 403
    assert httpx.post(f"{served}/_corefn/api/redrive", json={"all": True}).status_code == 403
    assert httpx.post(f"{served}/_corefn/api/redrive", content=b"[1]", headers={"x-corefn-console": "1"}).status_code == 400
    assert httpx.get(f"{served}/_corefn/nope").status_code == 404


def test_idempotent_route_keeps_its_records_in_the_runtime_store(served: str, rel: Reliable) -> None:
    import sqlite3

    first = httpx.post(f"{served}/charge", content=b"5 EUR", headers={"idempotency-key": "k-1"})
    again = httpx.post(f"{served}/charge", content=b"5 EUR", headers={"idempotency-key": "k-1"})
    assert first.json() == again.json() == {"charged": "5 EUR"} and again.headers["idempotent-replayed"] == "true"
    assert httpx.post(f"{served}/charge", content=b"5 EUR").status_code == 400
    assert [r["body"] for r in rel.records("charge")] == ["5 EUR"]
    with sqlite3.connect(rel.state / "runtime.db") as db:
        assert db.execute("SELECT key, status FROM idempotency").fetchall() == [("charge#k-1", "completed")]


def test_flow_runs(served: str, rel: Reliable) -> None:
    from corefn.flows.store import start_run

    good = start_run(rel.state, "order", {"item": "tea"})
    bad = start_run(rel.state, "order", {"item": "cake", "fail": True})

    def runs() -> dict[str, dict[str, object]]:
        return {f["id"]: f for f in httpx.get(f"{served}/_corefn/api/state").json()["flows"]}

    rel.wait_for(lambda: {runs().get(good, {}).get("status"), runs().get(bad, {}).get("status")} == {"succeeded", "failed"}, timeout=30)
    assert runs()[good]["steps_done"] == 2 and "no courier" in str(runs()[bad]["error"])
    assert "Flow runs" in httpx.get(f"{served}/_corefn/").text


def test_stream_positions(served: str, rel: Reliable) -> None:
    clicks = rel.publisher("clicks", target="stream")
    for n in range(5):
        clicks.send(f"c{n}", group="user-1")  # one partition key: one partition, in order
    rel.wait_for(lambda: len(rel.records("click")) == 5)
    last = max(int(r["sequence"]) for r in rel.records("click"))
    rel.wait_for(lambda: any(s["last_sequence"] == last for s in httpx.get(f"{served}/_corefn/api/state").json()["streams"]))
    (position,) = [s for s in httpx.get(f"{served}/_corefn/api/state").json()["streams"] if s["handler"] == "click"]
    assert position["stream"] == "clicks" and position["behind"] == 0 and position["next_sequence"] is None


def lan_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent by connect() on UDP
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_non_loopback_peers_get_403(rel: Reliable) -> None:
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call from")
    _, base = rel.serve("--host", "0.0.0.0")
    port = base.rsplit(":", 1)[1]
    assert httpx.post(f"http://{address}:{port}/pay", content=b"x").status_code == 200  # the app answers everyone bound
    assert httpx.get(f"http://{address}:{port}/_corefn/api/state").status_code == 403
    assert httpx.get(f"http://127.0.0.1:{port}/_corefn/api/state").status_code == 200


def test_console_in_chromium_shows_a_live_invocation_and_redrives(served: str, rel: Reliable, tmp_path: Path) -> None:
    shots = Path(os.environ.get("COREFN_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        browser.open(f"{served}/_corefn/")
        browser.wait_for("document.querySelector('#graph [data-node=\"handler:pay\"]') !== null")
        browser.wait_for("document.querySelectorAll('tr.dead-letter').length === 1")
        # a live invocation: an HTTP request, and the queue message its handler publishes
        assert httpx.post(f"{served}/pay", content=b"coffee").status_code == 200
        assert httpx.post(f"{served}/pay", content=b"coffee").status_code == 200
        rel.publisher("payments").send("tea")
        from corefn.flows.store import start_run

        start_run(rel.state, "order", {"item": "tea"})
        browser.wait_for("[...document.querySelectorAll('tr.flow-run')].some(r => r.textContent.includes('succeeded'))", timeout=30)
        browser.wait_for("[...document.querySelectorAll('tr.invocation')].some(r => r.textContent.includes('POST /pay') && r.textContent.includes('200'))")
        browser.wait_for("[...document.querySelectorAll('tr.invocation')].some(r => r.textContent.includes('pay') && r.textContent.includes('payments') && r.querySelector('.s-ok'))")
        browser.screenshot(shots / "console-loaded.png")
        assert "0 9 * * *" in browser.evaluate("document.getElementById('timers').textContent")
        assert "KST" in browser.evaluate("document.getElementById('timers').textContent")

        (rel.out / "broken").unlink()  # fixed: the fragile message can now succeed
        browser.click("button.redrive")
        browser.wait_for("document.querySelectorAll('tr.dead-letter').length === 0")
        browser.wait_for("document.getElementById('dead').textContent.includes('no dead letters')")
        browser.screenshot(shots / "console-redriven.png")
    finally:
        browser.close()
    runs = [r for r in rel.records("work") if r["body"] == "fragile"]
    assert [r["attempt"] for r in runs][-1] == 1  # delivered again with its attempts reset
    state = httpx.get(f"{served}/_corefn/api/state").json()
    assert state["dead"] == [] and json.dumps(state)  # nothing left dead


def test_an_app_without_http_routes_still_gets_its_console(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from tests.local.conftest import REPO, free_port

    (tmp_path / "quiet_app.py").write_text(
        "from corefn import App\napp = App('quiet')\n\n@app.queue('q')\ndef q(message):\n    pass\n"
    )
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), "COREFN_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from corefn.cli import main; main()", "run", "quiet_app:app", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.time() + 20
        while True:
            try:
                state = httpx.get(f"http://127.0.0.1:{port}/_corefn/api/state").json()
                break
            except httpx.HTTPError:
                assert time.time() < deadline and proc.poll() is None, "no console"
                time.sleep(0.1)
        assert state["app"] == "quiet" and [h["name"] for h in state["handlers"]] == ["q"]
        assert httpx.get(f"http://127.0.0.1:{port}/anything").status_code == 404  # no app route
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "console: http://127.0.0.1:" in out
