"""A fifth cloud is a package of its own and touches nothing in ``corefn/``: the demo adapter
(``adapters/demo/``, its own ``pyproject.toml`` and ``corefn.adapters`` entry point) is built and
installed into a throwaway virtual environment, then driven through the CLI there.

The throwaway venv sees this checkout's environment (corefn, setuptools) through a ``.pth`` file,
as a venv made with ``--system-site-packages`` sees the system's, and gets only ``corefn-demo``
installed into it (``--no-deps --no-build-isolation --no-index``: offline, and nothing named
``corefn-*`` is ever resolved from an index). The checkout's own environment is not touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from corefn.adapters import installed_clouds

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "adapters" / "demo"

APP = '''
import json, os
from corefn import App

app = App("fifth")


@app.get("/hello")
def hello(req):
    return {"hello": req.query.get("name", "world")}


@app.queue("orders")
def on_order(message):
    with open(os.environ["FIFTH_OUT"], "a") as out:
        out.write(json.dumps({"id": message.id, "body": message.body.text}) + "\\n")
'''


class Venv:
    def __init__(self, root: Path, python: Path, workdir: Path) -> None:
        self.root, self.python, self.workdir = root, python, workdir

    def corefn(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["FIFTH_OUT"] = str(self.workdir / "seen.jsonl")
        env["COREFN_STATE_DIR"] = str(self.workdir / "state")
        code = "import sys; from corefn.cli import main; sys.exit(main())"
        return subprocess.run([str(self.python), "-c", code, *args], capture_output=True, text=True,
                              cwd=self.workdir, env=env, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    base = tmp_path_factory.mktemp("fifth-cloud")
    root = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    checkout_env = sysconfig.get_paths()["purelib"]
    Path(purelib, "corefn_checkout.pth").write_text(f"import site; site.addsitedir({checkout_env!r})\n")
    source = base / "corefn-demo"  # build from a copy: an in-tree build would leave build/ in the repo
    shutil.copytree(DEMO, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    workdir = base / "work"
    workdir.mkdir()
    (workdir / "fifth_app.py").write_text(APP)
    return Venv(root, python, workdir)


def test_the_package_is_installed_with_its_entry_point(venv: Venv) -> None:
    probe = ("import importlib.metadata as m, json; d = m.distribution('corefn-demo'); "
             "print(json.dumps([str(d.locate_file('')), [e.value for e in d.entry_points if e.group == 'corefn.adapters']]))")  # fmt: skip
    where, entry_points = json.loads(subprocess.run([str(venv.python), "-c", probe], capture_output=True, text=True,
                                                    check=True).stdout)  # fmt: skip
    assert Path(where).is_relative_to(venv.root) and entry_points == ["corefn_demo:adapter"]
    help_text = venv.corefn("event", "--help")
    assert f"Installed clouds: {', '.join(sorted([*installed_clouds(), 'demo']))}." in help_text.stdout.replace("\n", " ")


def test_inspect_detects_the_fifth_clouds_payload(venv: Venv) -> None:
    done = venv.corefn("inspect", str(ROOT / "tests" / "events" / "demo" / "queue-two.json"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["cloud"], out["shape"], [e["id"] for e in out["events"]]) == ("demo", "demo-queue", ["m1", "m2"])


def test_event_sample_replays_with_invoke(venv: Venv) -> None:
    sample = venv.corefn("event", "demo", "queue")
    assert sample.returncode == 0, sample.stderr
    path = venv.workdir / "sample.json"
    path.write_text(sample.stdout)
    done = venv.corefn("invoke", "fifth_app.py:app", "--event", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok      on_order") == 2
    seen = [json.loads(line) for line in (venv.workdir / "seen.jsonl").read_text().splitlines()]
    assert seen == [{"id": "m1", "body": "first"}, {"id": "m2", "body": "second"}]
    http = venv.workdir / "http.json"
    http.write_text(venv.corefn("event", "demo", "http").stdout)
    answer = venv.corefn("invoke", "fifth_app.py:app", "--event", str(http))
    assert answer.returncode == 0 and answer.stdout.startswith("http 200") and '"hello":"demo"' in answer.stdout


def test_deploy_writes_the_fifth_clouds_files_and_every_installed_cloud_by_default(venv: Venv) -> None:
    one = venv.corefn("deploy", "fifth_app.py:app", "--cloud", "demo", "--out", "out-one")
    assert one.returncode == 0, one.stderr
    manifest = json.loads((venv.workdir / "out-one" / "demo" / "manifest.json").read_text())
    assert manifest["functions"] == [{"name": "hello", "trigger": "http", "resource": None},
                                     {"name": "on_order", "trigger": "queue", "resource": "orders"}]  # fmt: skip
    # the generated entry point, run as the provider would: isolated mode, a real payload
    payload = (ROOT / "tests" / "events" / "demo" / "queue-two.json").read_text()
    code = f"import json, runpy; main = runpy.run_path('out-one/demo/main.py')['main']; print(json.dumps(main({payload})))"
    entry = subprocess.run([str(venv.python), "-I", "-c", code], capture_output=True, text=True, cwd=venv.workdir,
                           env={**os.environ, "FIFTH_OUT": str(venv.workdir / "entry.jsonl")}, timeout=60)  # fmt: skip
    assert entry.returncode == 0, entry.stderr
    assert json.loads(entry.stdout) == {"failed": []}
    assert len((venv.workdir / "entry.jsonl").read_text().splitlines()) == 2
    every = venv.corefn("deploy", "fifth_app.py:app", "--out", "out-all")
    assert every.returncode == 0, every.stderr
    assert sorted(p.name for p in (venv.workdir / "out-all").iterdir()) == sorted([*installed_clouds(), "demo"])


def test_the_fifth_cloud_touches_nothing_in_the_core() -> None:
    named = re.compile(r"corefn_demo|corefn-demo|[\"']demo[\"']")
    core = [p for p in (ROOT / "corefn").rglob("*") if p.is_file() and p.suffix in (".py", ".toml") and named.search(p.read_text())]
    assert core == []
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "demo" not in project["entry-points"]["corefn.adapters"]
    assert "corefn-demo" not in json.dumps(project)
