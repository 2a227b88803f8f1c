"""Run ``corefn flow`` and ``corefn run`` as subprocesses on the flow test app and read what the
runs recorded (``flows.db``) and what the handlers saw (``out/<handler>.jsonl``)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = "tests.flows.apps.flowapp:app"


@dataclass
class Flows:
    root: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COREFN_")}
        env.update(PYTHONPATH=str(REPO), COREFN_STATE_DIR=str(self.state), COREFN_TEST_OUT=str(self.out), PYTHONUNBUFFERED="1", COREFN_LOG_FORMAT="text")
        env.update(extra)
        return env

    def cli(self, *args: str, timeout: float = 30, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-c", "from corefn.cli import main; main()", *args]
        return subprocess.run(cmd, cwd=self.root, env=self.env(**env), capture_output=True, text=True, timeout=timeout, input=stdin)

    def flow(self, name: str, data: Any = None, **env: str) -> subprocess.CompletedProcess[str]:
        return self.cli("flow", APP, name, "--data", json.dumps(data), **env)

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-c", "from corefn.cli import main; main()", "run", APP, "--retry-delay", "0.02", *args]
        proc = subprocess.Popen(cmd, cwd=self.root, env=self.env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(proc)
        return proc

    def until_idle(self, *args: str, timeout: float = 30, **env: str) -> tuple[int, str]:
        proc = self.start("--until-idle", *args, **env)
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out

    def records(self, handler: str) -> list[dict[str, Any]]:
        path = self.out / f"{handler}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def starts(self) -> list[tuple[str, str, int]]:
        """(handler, step address, attempt) of every handler start, all handlers."""
        found = []
        for path in self.out.glob("*.jsonl"):
            for record in self.records(path.stem):
                _, address, attempt = record["id"].split(":")
                found.append((path.stem, address, int(attempt)))
        return found

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.state / "flows.db")

    def runs(self) -> list[dict[str, Any]]:
        with self.db() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM flow_runs ORDER BY rowid")]

    def steps(self, run: str) -> dict[str, dict[str, Any]]:
        with self.db() as db:
            db.row_factory = sqlite3.Row
            return {r["path"]: dict(r) for r in db.execute("SELECT * FROM flow_steps WHERE run=?", (run,))}

    def log(self, run: str) -> list[tuple[str | None, str]]:
        with self.db() as db:
            return list(db.execute("SELECT step, event FROM flow_log WHERE run=? ORDER BY seq", (run,)))

    def wait_for_file(self, path: Path, proc: subprocess.Popen[str], timeout: float = 15) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if path.exists():
                return
            if proc.poll() is not None:
                raise AssertionError(f"corefn run exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.02)
        raise AssertionError(f"{path.name} did not appear")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            if proc.stdout:
                proc.stdout.close()


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[Flows]:
    (tmp_path / "out").mkdir()
    here = Flows(tmp_path)
    yield here
    here.stop_all()


def result(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON result ``corefn flow`` prints last."""
    return json.loads(done.stdout.strip().splitlines()[-1])
