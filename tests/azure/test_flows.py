"""Durable Functions: the generated ``function_app.py`` is imported, its orchestrators driven by
a replayed history (``DurableOrchestrationContext`` from JSON, as the extension hands it over:
tests/azure/durable_replay.py) and its activities run the real handlers. Each flow must call the
same steps with the same inputs and end with the same result as the local engine
(:mod:`corefn.flows.engine`, what ``corefn run`` runs) on the same input."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from corefn import loader
from corefn.flows.engine import Execution, StepFailed, Suspend, Terminal
from corefn.flows.store import FlowStore
from corefn_azure.durable import orchestrator_name
from corefn_azure.flows import function_app_py
from tests.azure.durable_replay import Host
from tests.flows import compile_app

START = datetime(2030, 1, 1, tzinfo=UTC)
FANS = ("parallel", "parallel-catch", "map")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "image_pipeline"

RUNS: list[tuple[str, Any, dict[str, int]]] = [
    ("task", {"n": 1}, {}),
    ("sequence", {"n": 1}, {}),
    ("retry", {"key": "r"}, {"r": 2}),
    ("retry", {"key": "r"}, {"r": 5}),
    ("retry-any", {"key": "r"}, {"r": 2}),
    ("retry-any", {"key": "r"}, {"r": 4}),
    ("catch", {"n": 1}, {}),
    ("catch-resume", {"n": 1}, {}),
    ("choice", {"n": 11}, {}),
    ("choice", {"kind": "b", "n": 1}, {}),
    ("choice", {"flag": None, "n": 1}, {}),
    ("choice", {"n": 1}, {}),
    ("parallel", {"n": 1}, {}),
    ("parallel-catch", {"n": 1}, {}),
    ("map", {"items": [1, 2, 3, 4, 5]}, {}),
    ("map", {"items": []}, {}),
    ("wait", {"at": "2030-01-01T00:10:00Z"}, {}),
]


def _generated(tmp_path: Path, app_ref: str, app: Any, deployed: bool = False) -> ModuleType:
    """The flows' ``function_app.py`` alone, or (``deployed``) the whole one ``corefn deploy`` writes."""
    from corefn_azure import adapter

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "function_app.py"
    path.write_text(str(adapter.generate(app, app_ref)["function_app.py"]) if deployed else function_app_py(app, app_ref))
    spec = importlib.util.spec_from_file_location(f"function_app_{abs(hash(str(tmp_path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _host(module: ModuleType) -> Host:
    functions = {f.get_function_name(): f.get_user_function() for f in module.app.get_functions()}
    return Host({n: f for n, f in functions.items() if n.startswith("flow_")}, {n: f for n, f in functions.items() if n.startswith("step_")}, START)


def run_locally(app: Any, flow_name: str, data: Any, state: Path) -> tuple[bool, Any]:
    """The local engine, passes repeated until the run ends; waits and back-offs jump the clock."""
    flow = app.get_flow(flow_name)
    store = FlowStore(state / "flows.db")
    run_id, _ = store.create(flow.name, json.dumps(data))
    clock = [START.timestamp()]
    store.begin_run(run_id, clock[0], clock[0] + flow.timeout, flow.fingerprint())
    while True:
        run = store.run(run_id)
        assert run is not None
        try:
            return True, Execution(app, flow, run, store, lambda: clock[0]).run()
        except Suspend as pause:
            clock[0] = max(clock[0], pause.until)
        except (StepFailed, Terminal) as failed:
            return False, str(failed)


def _key(call: tuple[str, Any]) -> str:
    return json.dumps(call, sort_keys=True)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    logging.getLogger("corefn").setLevel(logging.CRITICAL)  # the failing steps log their tracebacks
    return _host(_generated(tmp_path_factory.mktemp("durable"), "tests.flows.compile_app:app", compile_app.app))


@pytest.mark.parametrize(("flow", "data", "fails"), RUNS, ids=[f"{r[0]}-{i}" for i, r in enumerate(RUNS)])
def test_durable_replay_calls_the_same_steps_as_the_local_engine(flow: str, data: Any, fails: dict[str, int], host: Host, tmp_path: Path) -> None:
    compile_app.CALLS.clear()
    compile_app.FAILS.clear()
    compile_app.FAILS.update(fails)
    local = run_locally(compile_app.app, flow, data, tmp_path)
    local_calls = list(compile_app.CALLS)

    compile_app.CALLS.clear()
    compile_app.FAILS.clear()
    compile_app.FAILS.update(fails)
    host.timers.clear()
    durable = host.run(orchestrator_name(flow), data)
    durable_calls = list(compile_app.CALLS)

    assert local_calls, "the local run called no step"
    if flow in FANS:  # branches run on threads locally: compare as multisets, and the steps around them
        assert Counter(map(_key, durable_calls)) == Counter(map(_key, local_calls))
        outside = 0 if flow == "parallel-catch" else -1  # the step before (or after) the fan-out
        assert durable_calls[outside] == local_calls[outside]
    else:
        assert durable_calls == local_calls
    assert durable[0] == local[0]
    if local[0]:
        assert durable[1] == local[1]
    else:  # the same failure: its class and message
        assert local[1] in durable[1]


def test_waits_and_backoffs_are_durable_timers(host: Host) -> None:
    host.now = START
    compile_app.FAILS.update({"t": 2})
    host.timers.clear()
    assert host.run(orchestrator_name("retry"), {"key": "t"})[0]
    assert host.timers == [0.5, 0.75]  # Retry(backoff=0.5, rate=1.5) after attempts 1 and 2
    host.timers.clear()
    host.now = START
    assert host.run(orchestrator_name("wait"), {"at": "2030-01-01T00:10:00Z"})[0]
    assert host.timers == [5.0, 595.0]  # wait(5), then until 00:10:00


@pytest.mark.parametrize(("sample", "outcome"), [("photo-srgb.jpg", "done"), ("truncated.jpg", "rejected"), ("empty.jpg", "rejected")])
def test_the_example_flow_replays_as_corefn_run_runs_it(sample: str, outcome: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/image_pipeline/flow.py:app on a sample upload, its sinks the local defaults in a
    temporary state folder: the orchestrator of the ``function_app.py`` corefn deploy writes calls
    the same steps, as often (retries included), and ends the same way as the local engine."""
    logging.getLogger("corefn").setLevel(logging.CRITICAL)
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COREFN_DURABLE", "1")  # the flows app's mode (tests/azure/test_flow_deploy.py has both)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for name in ("flow", "imaging", "watermark"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(loader, "_cache", {})  # the generated module loads "flow:app": this test's
    import flow as example

    data = (EXAMPLE / "samples" / sample).read_bytes()
    example.originals.put(sample, data)
    event = {"kind": "storage", "bucket": "originals", "key": sample, "size": len(data), "operation": "created", "time": "2030-01-01T00:00:00Z"}
    ok, local = run_locally(example.app, "process-upload", event, tmp_path)
    store = FlowStore(tmp_path / "flows.db")
    run_id = store.runs()[0]["id"]
    local_tasks = Counter()
    for row in store.steps(run_id):
        if row["kind"] == "task":
            local_tasks[_handler(example, row["name"])] += int(row["attempt"] or 1)

    host = _host(_generated(tmp_path / "generated", "flow:app", example.app, deployed=True))  # the deployed function_app.py
    durable = host.run(orchestrator_name("process-upload"), event)
    durable_tasks = Counter(name.removeprefix("step_") for name, _ in host.calls)

    assert ok and durable[0]
    assert durable_tasks == local_tasks
    assert [host.calls[0][0], host.calls[-1][0]] == ["step_validate", "step_notify" if outcome == "done" else "step_reject"]
    assert (durable[1]["outcome"], durable[1]["key"]) == (local["outcome"], local["key"]) == (outcome, sample)
    if sample == "truncated.jpg":  # retried twice (three attempts) in each rendition, then caught
        assert durable_tasks["watermark"] == durable_tasks["thumbnail"] == 3


def _handler(example: ModuleType, step: str) -> str:
    return next(t.handler for t in example.app.get_flow("process-upload").tasks() if t.name == step)
