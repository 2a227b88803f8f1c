"""Ways to start a run: a trigger applied to a flow, ``ctx.start_flow`` from a handler, and
``corefn flow`` next to a running ``corefn run``; plus what is refused at declaration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corefn import App, ConfigurationError, Context
from corefn.flows import Catch, Retry, each, parallel, step, wait, walk
from corefn.flows.spec import FlowSpec, check_flow
from tests.flows.conftest import APP, Flows, result


def test_a_storage_trigger_on_a_flow_and_ctx_start_flow_start_runs(flows: Flows, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "a.txt").write_text("hello")
    (uploads / "b.txt").write_text("again")
    numbers = tmp_path / "numbers"
    numbers.mkdir()
    (numbers / "ten").write_text("10")
    code, out = flows.until_idle("--seed", f"inbox={uploads}", "--seed", f"requests={numbers}")
    assert code == 0, out
    runs = {(r["flow"], r["started_by"], r["status"]) for r in flows.runs()}
    assert runs == {("on-upload", "on-upload", "succeeded"), ("chain", "request", "succeeded")}
    upload_runs = [r for r in flows.runs() if r["flow"] == "on-upload"]
    assert sorted(json.loads(r["input"])["key"] for r in upload_runs) == ["a.txt", "b.txt"]
    assert all(json.loads(r["output"]) == "label:storage" for r in upload_runs)  # the event's JSON form was the input
    (chain,) = [r for r in flows.runs() if r["flow"] == "chain"]
    assert json.loads(chain["output"]) == {"n": 23, "done": True} and chain["key"] == "ten"


def test_a_failed_run_makes_until_idle_exit_1_and_runs_of_other_apps_are_left_alone(flows: Flows) -> None:
    from corefn.flows.store import flow_store_at, start_run

    start_run(flows.state, "uncaught", {"n": 1})
    flow_store_at(flows.state).create("another-apps-flow", "{}")
    code, out = flows.until_idle()
    assert code == 1, out
    assert "flow uncaught" in out.split("summary:")[1]  # the summary counts the failed run
    assert {(r["flow"], r["status"]) for r in flows.runs()} == {("uncaught", "failed"), ("another-apps-flow", "running")}


def test_ctx_start_flow_is_idempotent_per_key_and_checks_the_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.flows.apps.flowapp import app

    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    ctx = Context(cloud="local", app=app)
    first = ctx.start_flow("chain", {"n": 1}, key="k")
    assert ctx.start_flow("chain", {"n": 2}, key="k") == first
    assert ctx.start_flow("chain", {"n": 2}) != first
    with pytest.raises(ConfigurationError, match="has no flow 'nope'"):
        ctx.start_flow("nope", {})
    with pytest.raises(ConfigurationError, match="start_flow.*on aws"):  # no state machine ARN outside a deployed starter
        Context(cloud="aws", app=app).start_flow("chain", {"n": 1})


def test_corefn_flow_next_to_a_running_runtime_follows_its_log(flows: Flows) -> None:
    proc = flows.start()
    flows.wait_for_file(flows.state / "runtime.lock", proc)
    done = flows.flow("chain", {"n": 2})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a corefn run holds" in done.stdout and result(done) == {"n": 7, "done": True}


def test_deploy_refuses_an_app_with_flows_on_a_cloud_that_cannot_deploy_them(flows: Flows) -> None:
    """On a cloud whose adapter does not declare ``deploys_flows`` (corefn.flows.deploying). Every
    installed adapter deploys flows now, so the cloud is one registered here: a Provider as a fifth
    cloud would write it, with a generator (AWS's) and nothing said about flows."""
    from click.testing import CliRunner

    from corefn.adapters import register, unregister
    from corefn.cli import main
    from corefn.kit import Provider

    register(Provider(name="noflows", shapes=(), generator="corefn_aws.generator"))
    try:
        out = flows.root / "build"
        done = CliRunner().invoke(main, ["deploy", APP, "--cloud", "noflows", "--out", str(out), "--no-bundle"])
    finally:
        unregister("noflows")
    assert done.exit_code == 2, done.output
    assert "corefn deploy: noflows:" in done.output and "cannot deploy to noflows" in done.output and "'chain'" in done.output
    assert not out.exists()


def test_corefn_flow_lists_runs_and_shows_one_runs_log(flows: Flows) -> None:
    assert flows.flow("chain", {"n": 1}).returncode == 0
    assert flows.flow("uncaught", {"n": 1}).returncode == 1
    listing = flows.cli("flow", APP)
    assert listing.returncode == 0, listing.stderr
    chain, uncaught = listing.stdout.splitlines()
    assert chain.split()[1:3] == ["chain", "succeeded"] and uncaught.split()[1:3] == ["uncaught", "failed"]
    assert uncaught.endswith("ValueError: broken on purpose")
    shown = flows.cli("flow", APP, "--show", chain.split()[0])
    assert shown.returncode == 0 and result(shown) == {"n": 5, "done": True}
    assert [line.split()[3] for line in shown.stdout.splitlines()[:-1]] == ["started", "first", "double", "third", "finish", "succeeded"]
    shown = flows.cli("flow", APP, "--show", uncaught.split()[0])
    assert shown.returncode == 1 and "failed: ValueError: broken on purpose" in shown.stderr
    assert flows.cli("flow", APP, "--show", "zzzz").returncode == 2


def test_corefn_flow_refuses_unknown_flows_and_bad_input(flows: Flows) -> None:
    done = flows.flow("nope", {})
    assert done.returncode == 2 and "has no flow 'nope'" in done.stderr
    done = flows.cli("flow", APP, "chain", "--data", "{not json")
    assert done.returncode == 2 and "--data is not JSON" in done.stderr


def test_declarations_are_frozen_inspectable_data() -> None:
    app = App("decl")
    flow = app.flow(
        "f",
        [step("a", retry=Retry("ValueError", attempts=2)), parallel(step("b"), [step("c"), wait(5)]), each("items", step("d"), concurrency=3)],
        timeout=60,
    )
    assert isinstance(flow, FlowSpec) and flow.timeout == 60
    assert [n.kind for n in walk(flow.root)] == ["sequence", "task", "parallel", "task", "sequence", "task", "wait", "map", "task"]
    assert flow.root.steps[0].retry == (Retry("ValueError", attempts=2),)
    assert flow == app.get_flow("f") and hash(flow) == hash(app.get_flow("f"))
    with pytest.raises(AttributeError):
        flow.timeout = 5  # type: ignore[misc]
    data = flow.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON, for a compiler or a diagram
    assert data["root"]["steps"][0] == {
        "kind": "task", "handler": "a", "name": "a", "catch": [],
        "retry": [{"errors": ["ValueError"], "attempts": 2, "backoff": 1.0, "rate": 2.0, "max_delay": 300.0}],
    }
    assert data["root"]["steps"][2] == {
        "kind": "map", "items": "items", "concurrency": 3, "name": "map", "catch": [],
        "node": {"kind": "task", "handler": "d", "name": "d", "retry": [], "catch": []},
    }
    with pytest.raises(ConfigurationError, match="has no handler 'a'"):
        check_flow(app, flow)  # steps name invoke handlers; checked when the flow is run


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda app: app.flow("f", [step("a"), step("a")]), "two steps are named 'a'"),
        (lambda app: app.flow("f", []), "at least one step"),
        (lambda app: app.flow("f", step("a"), timeout=0), "timeout must be > 0"),
        (lambda app: app.flow("f", wait()), "exactly one of seconds"),
        (lambda app: app.flow("f", step("a", retry=Retry(attempts=0))), "attempts >= 1"),
        (lambda app: app.flow("f", step("a", catch=Catch(step("b"), errors=[]))), "at least one error"),
        (lambda app: app.flow("f", each("x", step("a"), concurrency=-1)), "concurrency must be >= 0"),
        (lambda app: app.storage("in")(FlowSpec("g", step("a"))), "not declared by app"),
        (lambda app: app.queue("q", batch=True)(app.flow("g", step("a"))), "a batch trigger cannot start a flow"),
    ],
)
def test_bad_declarations_are_refused(build: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build(App("decl"))  # type: ignore[operator]


def test_a_step_must_name_an_invoke_handler() -> None:
    app = App("decl")

    @app.queue("jobs")
    def job(message: object) -> None: ...

    with pytest.raises(ConfigurationError, match="a queue handler; steps run @app.invoke handlers"):
        check_flow(app, app.flow("f", step("job")))


def test_the_readme_flow_snippet_declares_what_it_says() -> None:
    import re

    from tests.flows.conftest import REPO

    section = (REPO / "README.md").read_text().split("## Flows", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, re.S)
    assert source is not None
    app = App("readme")
    app.object_store("originals")
    exec(compile(source.group(1), "README.md", "exec"), {"app": app})
    flow = app.get_flow("process-upload")
    assert [n.kind for n in walk(flow.root)] == ["sequence", "task", "task", "parallel", "task", "task", "task", "task"]
    assert app.handler("process-upload").kind == "storage"  # the trigger applied to the flow
