"""Flows in the Azure deployment ``corefn deploy`` writes: the generated ``function_app.py``
indexed as the Python worker indexes it, in its two modes (``COREFN_DURABLE=1``: a ``DFApp`` with
the handlers' functions, each step an activity, each flow an orchestrator and a sub-orchestrator,
the flow's trigger function with a durable client binding; ``0``: a plain ``FunctionApp`` with the
other handlers' functions, never importing Durable Functions), the ``host.json`` task hub, the
ARM template's ``flows`` app and each app's mode, and the trigger function starting the
orchestration through the library's own ``DurableOrchestrationClient``.

The client talks HTTP to the Functions host's Durable API (``rpcBaseUrl``); no emulator of that
host or of its Durable extension exists, so a small HTTP server here stands in for it (answering
as the extension does: ``GET instances/<id>`` 404 with no body for an unknown instance, 200 with the
status for a known one; ``POST orchestrators/<name>/<id>`` 202 with the id) and records the
requests: the client, its serialisation and its URLs are the library's."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from azure.functions.blob import InputStream
from azure.functions.queue import QueueMessage as AzureQueueMessage

from corefn import loader
from corefn_azure import adapter
from corefn_azure._arm import needs_of
from tests.azure import flow_start_app
from tests.azure.test_deadletter import storage  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parents[2]
REF = "examples/image_pipeline/flow.py:app"
STEPS = ("validate", "watermark", "thumbnail", "index", "notify", "reject")


class DurableApi:
    """The host's Durable HTTP API as the client sees it (see the module docstring)."""

    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.failing = False  # answer starts with the extension's 500 (storage unreachable, ...)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                instance = self.path.split("?")[0].rsplit("/", 1)[-1]
                api.requests.append(("GET", self.path, None))
                known = api.instances.get(instance)
                self._answer(404) if known is None else self._answer(200, known)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                if isinstance(body, str):  # the client sends the input JSON-encoded, as a JSON string
                    body = json.loads(body)
                api.requests.append(("POST", self.path, body))
                if api.failing:
                    self._answer(500, {"Message": "An error has occurred.", "ExceptionMessage": "task hub unreachable"})
                    return
                _, _, name, instance = self.path.split("?")[0].strip("/").split("/")[-4:]
                api.instances[instance] = {"name": name, "instanceId": instance, "runtimeStatus": "Pending", "input": body}
                self._answer(202, {"id": instance})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        base = f"http://127.0.0.1:{self.server.server_address[1]}/runtime/webhooks/durabletask/"
        self.binding = json.dumps({"taskHubName": "corefnflows", "creationUrls": {}, "managementUrls": {}, "baseUrl": base,
                                   "requiredQueryStringParameters": "", "rpcBaseUrl": base})  # fmt: skip


    def client(self) -> Any:
        """The library's client over this API, as the durable client binding builds it."""
        import azure.durable_functions as df

        return df.DurableOrchestrationClient(self.binding)


@pytest.fixture
def durable_api() -> Iterator[DurableApi]:
    api = DurableApi()
    yield api
    api.server.shutdown()
    api.server.server_close()


@pytest.fixture
def worker_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for the test, as the Python worker keeps one per process (the library's
    shared aiohttp session is bound to it); that session is closed with it."""
    from azure.durable_functions.models.utils import http_utils

    loop = asyncio.new_event_loop()
    yield loop
    session = http_utils._client_session
    if session is not None:
        loop.run_until_complete(session.close())
        http_utils._client_session = None
    loop.close()


def _import(folder: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, folder / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("azure-flow")
    subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", REF, "--cloud", "azure", "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return out / "azure"


def _load(deployed: Path, monkeypatch: pytest.MonkeyPatch, durable: str) -> ModuleType:
    """The deployment's ``function_app.py`` imported as the worker imports it: the project folder
    (the app and its modules vendored beside it) on the path, ``COREFN_APP`` as the settings say,
    ``COREFN_DURABLE`` as the app's setting."""
    monkeypatch.syspath_prepend(str(deployed))
    for name in ("flow", "imaging", "watermark"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(loader, "_cache", {})
    monkeypatch.setenv("COREFN_APP", json.loads((deployed / "local.settings.json.example").read_text())["Values"]["COREFN_APP"])
    monkeypatch.setenv("COREFN_DURABLE", durable)
    return _import(deployed, f"corefn_test_flow_function_app_{durable}")


@pytest.fixture
def example_app(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The Durable mode (``COREFN_DURABLE=1``): the flows app's and the trigger's app's."""
    return _load(deployed, monkeypatch, "1")


def _indexed(module: ModuleType) -> dict[str, dict[str, dict[str, Any]]]:
    """function name → binding type → binding, indexed as the Python worker indexes a v2 app
    (azure-functions-python-worker ``loader.index_function_app`` and
    ``functions.Registry.add_indexed_function``): exactly one ``FunctionRegister`` among the
    module's globals, its ``get_functions()``, and each user function's ``inspect.signature``
    and ``typing.get_type_hints``, which fail on an annotation that does not resolve."""
    import azure.functions as func

    (app,) = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
    found = {}
    for function in app.get_functions():
        user = function.get_user_function()
        parameters = set(inspect.signature(user).parameters)
        typing.get_type_hints(user)
        bindings = {b.get_dict_repr()["type"]: b.get_dict_repr() for b in function.get_bindings()}
        assert {b["name"] for b in bindings.values() if b["name"] != "$return"} <= parameters, function.get_function_name()
        found[function.get_function_name()] = bindings
    return found


def test_the_function_app_holds_handlers_steps_orchestrators_and_a_starter_with_a_client(example_app: ModuleType) -> None:
    import azure.durable_functions as df

    assert isinstance(example_app.app, df.DFApp)
    found = _indexed(example_app)
    assert set(found) == {"announce", "process_upload", *(f"step_{s}" for s in STEPS), "flow_process_upload", "flow_process_upload_branch"}
    assert set(found["process_upload"]) == {"blobTrigger", "durableClient"}
    assert found["process_upload"]["blobTrigger"]["path"] == "originals/{name}"
    for step in STEPS:
        assert set(found[f"step_{step}"]) == {"activityTrigger"}
    for orchestrator in ("flow_process_upload", "flow_process_upload_branch"):
        assert set(found[orchestrator]) == {"orchestrationTrigger"}


def test_without_durable_the_function_app_is_plain_and_holds_only_the_other_handlers(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.durable_functions as df
    import azure.functions as func

    module = _load(deployed, monkeypatch, "0")
    assert type(module.app) is func.FunctionApp and not isinstance(module.app, df.DFApp)
    found = _indexed(module)
    assert set(found) == {"announce"}
    assert set(found["announce"]) == {"serviceBusTrigger"}
    assert not hasattr(module, "df") and not hasattr(module, "start_flows")


#: imports function_app.py in a fresh interpreter; prints the indexed functions and the modules of
#: Durable Functions and of corefn's flows that got imported
PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import function_app
loaded = sorted(m for m in sys.modules if m.startswith(("azure.durable_functions", "corefn.flows", "corefn_azure.durable", "corefn_azure.flows")))
print(json.dumps({"functions": sorted(f.get_function_name() for f in function_app.app.get_functions()), "loaded": loaded}))
"""


@pytest.mark.parametrize("durable", ["0", "1"])
def test_only_the_durable_mode_imports_durable_functions(deployed: Path, durable: str) -> None:
    """What a cold start pays: in a fresh interpreter, the plain mode loads neither Durable
    Functions nor corefn's flow modules (``COREFN_DURABLE=0``: every app but the flows' own)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COREFN_")}, "COREFN_APP": "flow:app", "COREFN_DURABLE": durable}
    done = subprocess.run([sys.executable, "-I", "-c", PROBE, str(deployed)], capture_output=True, text=True, env=env, cwd=deployed, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    if durable == "0":
        assert result == {"functions": ["announce"], "loaded": []}
    else:
        assert len(result["functions"]) == 2 + len(STEPS) + 2
        assert "azure.durable_functions" in result["loaded"] and "corefn_azure.durable" in result["loaded"]


@pytest.mark.parametrize("value", [None, "", "true", "2"])
def test_a_missing_or_unknown_durable_setting_is_refused_at_import(deployed: Path, monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """Neither mode is guessed: a plain app would leave the flows unindexed without a word."""
    from corefn import ConfigurationError

    module = _load(deployed, monkeypatch, "1")
    assert module.DURABLE is True
    if value is None:
        monkeypatch.delenv("COREFN_DURABLE")
    else:
        monkeypatch.setenv("COREFN_DURABLE", value)
    with pytest.raises(ConfigurationError, match="app setting COREFN_DURABLE (is not set|is '.*'): set it to 1 in the function apps that run the flows"):
        _import(deployed, "corefn_test_flow_function_app_unset")


def test_host_json_settings_and_requirements_name_the_task_hub_and_the_library(deployed: Path) -> None:
    host = json.loads((deployed / "host.json").read_text())
    assert host["extensions"]["durableTask"] == {"hubName": "%COREFN_TASK_HUB%"}
    local = json.loads((deployed / "local.settings.json.example").read_text())["Values"]
    assert local["COREFN_TASK_HUB"] == "corefnflows"
    assert local["COREFN_DURABLE"] == "1"  # func start runs every function in one host
    pins = [line.split("==")[0] for line in (deployed / "requirements.txt").read_text().splitlines() if "==" in line]
    assert "azure-functions-durable" in pins


def test_the_flows_run_in_their_own_app_with_their_steps_roles_and_one_task_hub(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    template = json.loads((deployed / "azuredeploy.json").read_text())
    sites = {r["tags"]["corefn-functions"]: r for r in template["resources"] if r["type"] == "Microsoft.Web/sites"}
    flow_functions = {f"step_{s}" for s in STEPS} | {"flow_process_upload", "flow_process_upload_branch"}
    (flows_key,) = [k for k in sites if set(k.split(",")) == flow_functions]
    assert set(sites) == {flows_key, "announce", "process_upload"}
    for key, site in sites.items():
        settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
        assert settings["COREFN_TASK_HUB"] == "[concat('flows', variables('suffix'))]"
        assert settings["COREFN_DURABLE"] == ("0" if key == "announce" else "1"), key  # the flows app and the trigger's
        disabled = {n.removeprefix("AzureWebJobs.").removesuffix(".Disabled") for n in settings if n.endswith(".Disabled")}
        assert disabled == ({"announce", "process_upload", *flow_functions} - set(key.split(","))), key
    app = loader.load_app(REF)
    wanted = {(n.role, n.kind, n.name) for n in needs_of(app, [app.handler(s) for s in STEPS])}
    site_id = "-flows-"
    granted = {(r["metadata"]["corefn"]["role"], r["metadata"]["corefn"]["kind"], r["metadata"]["corefn"]["name"])
               for r in template["resources"] if r.get("metadata", {}).get("corefn") and any(site_id in d for d in r["dependsOn"])}  # fmt: skip
    host = {("Storage Blob Data Owner", "hoststorage", ""), ("Storage Queue Data Contributor", "hoststorage", ""),
            ("Storage Table Data Contributor", "hoststorage", ""), ("Monitoring Metrics Publisher", "insights", "")}  # fmt: skip
    assert granted == wanted | host  # the task hub lives in the host account: its data roles are the host's


def test_the_trigger_starts_the_orchestration_through_the_durable_client(example_app: ModuleType, durable_api: DurableApi, worker_loop: asyncio.AbstractEventLoop) -> None:
    starter = {f.get_function_name(): f.get_user_function() for f in example_app.app.get_functions()}["process_upload"]
    blob = InputStream(data=b"\xff\xd8", name="originals/cat.jpg", length=2, uri="https://acct.blob.core.windows.net/originals/cat.jpg",
                       blob_properties={"Length": 2, "ContentType": "image/jpeg", "LastModified": datetime(2030, 1, 1, tzinfo=UTC).isoformat()})  # fmt: skip
    assert worker_loop.run_until_complete(starter(blob=blob, context=None, client=durable_api.binding)) is None
    worker_loop.run_until_complete(starter(blob=blob, context=None, client=durable_api.binding))  # the trigger's redelivery
    (status, start, again) = durable_api.requests  # the second delivery finds the instance and starts nothing
    assert again[0] == "GET" and again[1] == status[1]
    assert status[0] == "GET" and "/instances/" in status[1]
    method, path, body = start
    assert method == "POST" and path.split("/")[-2] == "flow_process_upload"
    assert path.split("/")[-1] == status[1].split("?")[0].rsplit("/", 1)[-1]  # the instance it asked about
    assert (body["kind"], body["bucket"], body["key"], body["operation"]) == ("storage", "originals", "cat.jpg", "created")


def test_a_redelivered_message_starts_its_flow_once(
    tmp_path: Path, durable_api: DurableApi, worker_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COREFN_DURABLE", "1")
    files = adapter.generate(flow_start_app.app, "tests.azure.flow_start_app:app")
    (tmp_path / "function_app.py").write_text(str(files["function_app.py"]))
    module = _import(tmp_path, "corefn_test_flow_start_app")
    starter = {f.get_function_name(): f.get_user_function() for f in module.app.get_functions()}["job"]
    for attempt in (1, 2):  # Queue Storage's redelivery of the same message
        message = AzureQueueMessage(id="m-1", body=b'{"n": 1}', dequeue_count=attempt)
        worker_loop.run_until_complete(starter(msg=message, context=None, client=durable_api.binding))
    posts = [r for r in durable_api.requests if r[0] == "POST"]
    assert len(posts) == 1 and posts[0][1].split("/")[-2] == "flow_job"
    assert [r[0] for r in durable_api.requests] == ["GET", "POST", "GET"]
    another = AzureQueueMessage(id="m-2", body=b"{}", dequeue_count=1)
    worker_loop.run_until_complete(starter(msg=another, context=None, client=durable_api.binding))
    assert len([r for r in durable_api.requests if r[0] == "POST"]) == 2


def test_a_start_the_extension_refuses_fails_the_delivery_so_the_host_retries_it(
    tmp_path: Path, durable_api: DurableApi, worker_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COREFN_DURABLE", "1")
    files = adapter.generate(flow_start_app.app, "tests.azure.flow_start_app:app")
    (tmp_path / "function_app.py").write_text(str(files["function_app.py"]))
    starter = {f.get_function_name(): f.get_user_function() for f in _import(tmp_path, "corefn_test_flow_start_fails").app.get_functions()}["job"]
    durable_api.failing = True
    with pytest.raises(Exception, match="task hub unreachable"):
        worker_loop.run_until_complete(starter(msg=AzureQueueMessage(id="m-9", body=b"{}", dequeue_count=1), context=None, client=durable_api.binding))
    durable_api.failing = False  # the host's next delivery of the message
    worker_loop.run_until_complete(starter(msg=AzureQueueMessage(id="m-9", body=b"{}", dequeue_count=2), context=None, client=durable_api.binding))
    assert [r[0] for r in durable_api.requests] == ["GET", "POST", "GET", "POST"] and len(durable_api.instances) == 1


def test_start_flow_outside_a_function_with_a_client_is_refused() -> None:
    from corefn import ConfigurationError, Context

    with pytest.raises(ConfigurationError, match="no Durable client"):
        Context(cloud="azure", app=flow_start_app.app).start_flow("job", {"n": 1})


def test_a_handler_named_like_a_flow_function_is_refused() -> None:
    from corefn import App, ConfigurationError
    from corefn.flows import step

    app = App("clash")
    app.invoke(name="work")(flow_start_app.work)
    app.queue("jobs", name="step_work")(flow_start_app.work)
    app.flow("job", [step("work")])
    with pytest.raises(ConfigurationError, match="'step_work' and a flow's activity are both Azure function 'step_work'"):
        adapter.generate(app, "clash:app")


def test_an_event_hubs_flow_start_that_keeps_failing_is_dead_lettered(
    storage: Any, durable_api: DurableApi, worker_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """Event Hubs checkpoints past a failed event once its retries are spent: a flow start that
    fails on the last attempt writes the event to the handler's dead letter, as every Event Hubs
    handler does (tests/azure/test_deadletter.py), then raises; earlier attempts only raise."""
    import uuid

    import azure.functions as func
    from azure.storage.blob import BlobServiceClient

    from corefn import App
    from corefn.flows import step
    from corefn_azure._flow_start import start_flows
    from corefn_azure.deadletter import setting_name
    from tests.azure.test_binding_objects import _metadata
    from tests.azure.test_deadletter import Ctx, Retry

    app = App("hub-flow")
    app.invoke(name="work")(flow_start_app.work)
    app.stream("clicks", max_attempts=3)(app.flow("on-click", [step("work")]))
    assert "dead_letter=True)" in str(adapter.generate(app, "hub:app")["function_app.py"])
    container = f"dl-{uuid.uuid4().hex[:10]}"
    service = BlobServiceClient.from_connection_string(storage.connection_string)
    service.create_container(container)
    monkeypatch.setenv(setting_name("on-click"), f"az://{container}")
    event = func.EventHubEvent(body=b'{"x": 1}', trigger_metadata=_metadata({"PartitionId": "0"}), sequence_number=7, offset="100")
    durable_api.failing = True
    for attempt, written in ((1, 0), (2, 1)):
        with pytest.raises(Exception, match="task hub unreachable"):
            worker_loop.run_until_complete(start_flows(app, "on-click", event, Ctx(Retry(attempt, 2)), "eventhub-event", durable_api.client(), dead_letter=True))
        assert len(list(service.get_container_client(container).list_blobs())) == written


def test_a_starter_with_a_retry_policy_is_indexed_in_the_durable_mode_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Event Hubs trigger applied to a flow: its two-line decorator (retry policy, trigger) sits
    in the Durable block like any starter; a queue handler beside it is in both modes."""
    from corefn import App
    from corefn.flows import step

    app = App("hub-modes")
    app.invoke(name="work")(flow_start_app.work)
    app.queue("orders", name="take-order")(flow_start_app.work)
    app.stream("clicks", max_attempts=3)(app.flow("on-click", [step("work")]))
    code = str(adapter.generate(app, "hub:app")["function_app.py"])
    assert "run_dead_lettering" not in code  # the starter dead-letters through start_flows: no import for it
    (tmp_path / "function_app.py").write_text(code)
    found = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("COREFN_DURABLE", mode)
        module = _import(tmp_path, f"corefn_test_hub_modes_{mode}")
        found[mode] = _indexed(module)
    assert set(found["0"]) == {"take_order"}
    assert set(found["1"]) == {"take_order", "on_click", "step_work", "flow_on_click", "flow_on_click_branch"}
    assert set(found["1"]["on_click"]) == {"eventHubTrigger", "durableClient"}
    again = _import(tmp_path, "corefn_test_hub_modes_retry")  # get_functions runs once per app object
    (function,) = [f for f in again.app.get_functions() if f.get_function_name() == "on_click"]
    assert function.get_setting("retry_policy").get_dict_repr()["max_retry_count"] == "2"  # max_attempts - 1
