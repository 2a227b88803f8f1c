"""``corefn run`` itself: one runtime per state folder, ``--reset``, ``--reload``, the state README."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.local.conftest import Local, free_port


def test_a_second_runtime_on_the_same_state_folder_is_refused(local: Local) -> None:
    local.serve()
    status, out = local.until_idle()
    assert status == 2 and "another corefn run is using" in out


def test_reset_clears_the_state_and_writes_its_readme(local: Local) -> None:
    local.publisher("jobs").send("fail")
    status, _ = local.until_idle("--reset")  # the unrouted message is gone with the state
    assert status == 0 and local.records("on_job") == []
    readme = (local.state / "README.txt").read_text()
    assert "runtime.db" in readme and "dead" in readme


def test_reload_restarts_on_code_change(local: Local) -> None:
    app = local.root / "reloadable.py"
    app.write_text('from corefn import App\napp = App("r")\n@app.get("/v")\ndef v(req):\n    return "one"\n')
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from corefn.cli import main; main()", "run", "reloadable.py:app", "--reload", "--port", str(port)],
        cwd=local.root, env=local.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    local.procs.append(proc)
    url = f"http://127.0.0.1:{port}/v"

    def answer() -> str | None:
        try:
            return httpx.get(url, timeout=1).text
        except httpx.HTTPError:
            return None

    local.wait_for(lambda: answer() == "one", timeout=15)
    time.sleep(0.3)
    app.write_text(app.read_text().replace('"one"', '"two"'))
    local.wait_for(lambda: answer() == "two", timeout=15)
