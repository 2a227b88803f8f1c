"""``corefn run`` on the reliability app, in a subprocess, plus the test process's view of its
state folder (its store, its publishers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.local.conftest import Local

APP = "tests.reliability.app:app"


class Reliable(Local):
    def start(self, *args: str, env: dict[str, str] | None = None) -> Any:
        import subprocess
        import sys

        cmd = [sys.executable, "-c", "from corefn.cli import main; main()", "run", APP, "--retry-delay", "0.02", *args]
        proc = subprocess.Popen(
            cmd, cwd=self.root, env=self.env(**(env or {})), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.procs.append(proc)
        return proc

    def cli(self, *args: str) -> Any:
        from corefn.cli import main

        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    def store(self) -> Any:
        from corefn.local.store import store_at

        return store_at(self.state)


@pytest.fixture
def rel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reliable]:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COREFN_TEST_OUT", str(tmp_path / "out"))
    (tmp_path / "out").mkdir()
    here = Reliable(tmp_path)
    yield here
    here.stop_all()
    from corefn.local import store

    for opened in store._stores.values():
        opened.close()
    store._stores.clear()
