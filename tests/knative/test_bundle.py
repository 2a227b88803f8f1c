"""``corefn deploy --cloud knative`` writes a self-contained image context: the Dockerfile, the
third-party requirements, and under app/ the bundle (the app, corefn's core and this adapter
only). The runtime is started from that bundle alone, as the image's CMD runs it, and answers a
PingSource tick."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from corefn.cli import main

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_deploy_folder_is_the_image_context_and_its_bundle_runs(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    done = CliRunner().invoke(main, ["deploy", f"{HERE / 'sample_app.py'}:app", "--cloud", "knative", "--out", str(out)])
    assert done.exit_code == 0, done.output
    folder = out / "knative"
    dockerfile = (folder / "Dockerfile").read_text()
    assert "COPY app/ /app/" in dockerfile and "COPY requirements.txt" in dockerfile
    requirements = (folder / "requirements.txt").read_text()
    assert "cloudevents" in requirements and "uvicorn" in requirements and "\ncorefn" not in requirements
    assert "RUN pip install --no-deps --only-binary=:all: -r /requirements.txt" in dockerfile
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)  # every package pinned, the closure complete (--no-deps)
    from corefn.deploy_lock import canonical, lock_for

    lock = lock_for("knative", "python3.12")
    assert {canonical(p.split("==")[0]) for p in pins} >= {"cloudevents", "uvicorn", "h11", "uvloop", "deprecation"}
    assert all(lock.pins[canonical(p.split("==")[0])][1] == p.split("==")[1] for p in pins)
    bundle = folder / "app"
    assert (bundle / "sample_app.py").is_file() and (bundle / "corefn_knative" / "runtime.py").is_file()
    assert not (bundle / "corefn_aws").exists() and not (bundle / "corefn" / "local").exists()

    port = _free_port()
    code = (
        f"import sys; sys.path.insert(0, {str(bundle)!r}); import corefn, corefn_knative; "
        f"assert corefn.__file__.startswith({str(bundle)!r}) and corefn_knative.__file__.startswith({str(bundle)!r}); "
        "import runpy; runpy.run_module('corefn_knative.runtime', run_name='__main__')"
    )
    env = {**os.environ, "COREFN_APP": "sample_app:app", "COREFN_HANDLER": "nightly", "PORT": str(port)}
    env.pop("PYTHONPATH", None)
    server = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        tick = json.loads((HERE.parent / "events" / "knative" / "timer-pingsource.json").read_text())
        url = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                response = httpx.post(url, headers={"content-type": "application/cloudevents+json"}, content=json.dumps(tick))
                break
            except httpx.ConnectError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                time.sleep(0.05)
        else:
            raise AssertionError("the bundled runtime did not start")
        assert response.status_code == 204, response.text
        wrong = httpx.post(url, headers={"content-type": "application/cloudevents+json"},
                           content=(HERE.parent / "events" / "knative" / "storage-cos-write.json").read_bytes())  # fmt: skip
        assert wrong.status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=10)
