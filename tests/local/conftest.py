"""Start ``corefn run`` as a real subprocess on the test app, and read what its handlers saw."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = "tests.local.apps.basic:app"
API_KEY = "s3cret-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Local:
    """One test's state folder, output folder and runtime processes."""

    root: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(REPO),
            COREFN_STATE_DIR=str(self.state),
            COREFN_TEST_OUT=str(self.out),
            COREFN_API_KEY=API_KEY,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-c", "from corefn.cli import main; main()", "run", APP, "--retry-delay", "0.02", *args]
        proc = subprocess.Popen(
            cmd, cwd=self.root, env=self.env(**(env or {})), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.procs.append(proc)
        return proc

    def until_idle(self, *args: str, timeout: float = 30, env: dict[str, str] | None = None) -> tuple[int, str]:
        proc = self.start("--until-idle", *args, env=env)
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out

    def serve(self, *args: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        proc = self.start("--port", str(port), *args)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 15
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"corefn run exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return proc, base
            except OSError:
                time.sleep(0.05)
        raise AssertionError("corefn run did not start listening")

    def records(self, handler: str) -> list[dict[str, Any]]:
        path = self.out / f"{handler}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError("condition not met in time")

    def publisher(self, name: str, target: str | None = None) -> Any:
        """The ``local://`` publisher, opened in the test process on this state folder."""
        from corefn.local.publisher import open_backend
        from corefn.specs import SinkSpec

        return open_backend(SinkSpec("publisher", name, {"target": target} if target else {}), f"local://{name}")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout:
                proc.stdout.close()


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Local]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "out").mkdir()
    here = Local(tmp_path)
    yield here
    here.stop_all()
    from corefn.local import store

    store._stores.clear()
