"""The flow example's Azure bundle run as a Flex Consumption worker runs it (the machinery of
tests/azure/test_bundle_runs.py: a fresh Python 3.12 venv of the bundle's pins, ``python -I`` with
only the project folder on the path, each app's settings from ``azuredeploy.json``; Azurite with
its well-known key standing in for the managed identity):

- the ``process_upload`` app's function, given a real ``func.InputStream``, starts the
  orchestration through the pinned azure-functions-durable client (against the stand-in Durable
  HTTP API of tests/azure/test_flow_deploy.py: no emulator of the extension exists);
- the ``flows`` app's activities, called with what the orchestrator passes them, write the
  renditions to Azurite and index the upload in its table. (``notify`` publishes to a Service Bus
  topic: no emulator here, so it is left out.)
- the ``announce`` app (``COREFN_DURABLE=0``) indexes its own function only and never imports
  Durable Functions.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_bundle_runs import _photo, _venv
from tests.azure.test_bundle_runs import app_settings
from tests.azure.test_flow_deploy import DurableApi, durable_api  # noqa: F401 - durable_api is a fixture

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]

DRIVER = r"""
import asyncio, base64, json, sys
bundle = sys.argv[1]
sys.path.insert(0, bundle)
from azure.functions.blob import InputStream  # the worker's concrete func.InputStream
import function_app

functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
loop = asyncio.new_event_loop()  # the worker's one loop
answers = []
for call in json.load(sys.stdin):
    fn = functions[call["function"]]
    if "client" in call:
        data = base64.b64decode(call["data"])
        stream = InputStream(data=data, name=call["name"], length=len(data), uri=call["uri"])
        answers.append(loop.run_until_complete(fn(blob=stream, context=None, client=call["client"])))
    else:
        answers.append(fn(call["payload"]))
outside = sorted({m.__file__ for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and m.__name__.split(".")[0] in ("corefn", "corefn_azure", "flow", "imaging", "function_app")
                  and not m.__file__.startswith(bundle)})
durable = sorted(m for m in sys.modules if m.startswith("azure.durable_functions"))[:1]
json.dump({"answers": answers, "outside": outside, "indexed": sorted(functions), "durable": durable}, sys.stdout)
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flow-azure")
    subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", "examples/image_pipeline/flow.py:app", "--cloud", "azure", "--out", str(folder)],
                   cwd=ROOT, check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return folder / "azure"


def test_the_trigger_starts_the_flow_and_the_activities_run_from_the_bundle(bundle: Path, azurite: Any, durable_api: DurableApi) -> None:  # noqa: F811
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient

    python = _venv(bundle / "requirements.txt")
    template = json.loads((bundle / "azuredeploy.json").read_text())
    names = {"dataAccount": "devstoreaccount1", "hostAccount": "devstoreaccount1", "vault": "kv", "insights": "ai", "prefix": "test",
             "serviceBusNamespace": "sb", "suffix": "x"}  # fmt: skip
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    for container in ("originals", "watermarked", "thumbnails", "rejected"):
        if not blobs.get_container_client(container).exists():
            blobs.create_container(container)
    TableServiceClient.from_connection_string(azurite.connection_string).create_table_if_not_exists("uploads")
    key = f"{uuid.uuid4().hex[:8]}/cat.jpg"
    photo = _photo()
    stored = blobs.get_blob_client("originals", key)
    stored.upload_blob(photo)

    indexed: dict[str, tuple[list[str], list[str]]] = {}  # function → what its app indexed, Durable's modules it loaded

    def invoke(function: str, calls: list[dict[str, Any]]) -> list[Any]:
        env = app_settings(template, function, names, {})
        assert env["COREFN_TASK_HUB"] == "flowsx"  # every app names the stage's one task hub
        env.update(WEBSITE_SITE_NAME=f"test-{function}", FUNCTIONS_WORKER_RUNTIME="python", PATH=os.environ.get("PATH", ""),
                   LANG="C.UTF-8", AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)  # fmt: skip
        done = subprocess.run([str(python), "-I", "-c", DRIVER, str(bundle)], input=json.dumps([{**c, "function": function} for c in calls]),
                              capture_output=True, text=True, env=env, cwd=bundle, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout)
        assert result["outside"] == [], f"modules loaded from outside the bundle: {result['outside']}"
        indexed[function] = (result["indexed"], result["durable"])
        return result["answers"]  # type: ignore[no-any-return]

    invoke("process_upload", [{"name": f"originals/{key}", "uri": stored.url, "data": base64.b64encode(photo).decode(), "client": durable_api.binding}])
    (start,) = [r for r in durable_api.requests if r[0] == "POST"]
    assert start[1].split("/")[-2] == "flow_process_upload" and start[2]["key"] == key and start[2]["bucket"] == "originals"

    (checked,) = invoke("step_validate", [{"payload": start[2]}])
    assert checked == {"key": key, "format": "JPEG", "width": 1600, "height": 1200}
    renditions = invoke("step_watermark", [{"payload": checked}]) + invoke("step_thumbnail", [{"payload": checked}])
    assert [b.name for b in blobs.get_container_client("watermarked").list_blobs(name_starts_with=key.split("/")[0])]
    assert [b.name for b in blobs.get_container_client("thumbnails").list_blobs(name_starts_with=key.split("/")[0])]
    (row,) = invoke("step_index", [{"payload": renditions}])
    assert row["key"] == key and row["thumbnail"] == renditions[1]["thumbnail"]

    # each app's COREFN_DURABLE: the trigger's app and the flows app index every function (Durable
    # loaded); the announce app only its own handler's, without importing Durable at all
    invoke("announce", [])
    everything = sorted(["announce", "process_upload", "step_validate", "step_watermark", "step_thumbnail", "step_index", "step_notify",
                         "step_reject", "flow_process_upload", "flow_process_upload_branch"])  # fmt: skip
    assert indexed["process_upload"] == indexed["step_validate"] == (everything, ["azure.durable_functions"])
    assert indexed["announce"] == (["announce"], [])
