"""The IoT site's Azure bundle runs as a Flex Consumption worker runs it: a fresh virtual
environment of the runtime's Python (3.12) built from the bundle's ``requirements.txt`` alone
(``--no-deps``, then ``pip check``; cached by hash under ``.cache/``, shared with the AWS bundle
test's helper), ``python -I`` with only the bundle folder on the path (the Functions project root,
as the Python worker sets it), the generated ``function_app.py`` indexed by azure-functions, and
each function called with the binding objects the worker builds (``func.HttpRequest``, and a real
``func.InputStream`` of the photo read back from Azurite for the blob trigger).

The environment is the function app's application settings from ``azuredeploy.json``, with ARM's
expressions evaluated for this test's names and Key Vault references resolved as the platform
resolves them (the secret's value in the setting). One substitution, said here: Azurite cannot do
Microsoft Entra ID over HTTP, so ``AZURE_STORAGE_CONNECTION_STRING`` (Azurite's well-known key)
stands in for the managed identity; the sinks' URLs name the account exactly as in the cloud
(``az://<account>/photos``), and with no key they would sign in with the identity.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_bundle_runs import _photo, _venv

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "k" * 32

DRIVER = r"""
import base64, json, sys
bundle = sys.argv[1]
sys.path.insert(0, bundle)
import azure.functions as func
from azure.functions.blob import InputStream  # the worker's concrete func.InputStream
import function_app

functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}

class Context:
    invocation_id = "inv-bundle"
    retry_context = None
    function_directory = bundle

answers = []
for call in json.load(sys.stdin):
    fn = functions[call["function"]]
    if call["kind"] == "http":
        request = func.HttpRequest(method=call["method"], url=call["url"], headers=call["headers"],
                                   route_params=call["route"], body=base64.b64decode(call["body"]))
        response = fn(request, Context())
        answers.append({"status": response.status_code, "body": response.get_body().decode()})
    else:
        data = base64.b64decode(call["data"])
        stream = InputStream(data=data, name=call["name"], length=len(data), uri=call["uri"])
        answers.append(fn(stream, Context()))
outside = sorted({m.__file__ for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and m.__name__.split(".")[0] in ("corefn", "corefn_azure", "app", "imaging", "function_app")
                  and not m.__file__.startswith(bundle)})
json.dump({"answers": answers, "outside": outside, "path": sys.path}, sys.stdout)
"""


def arm_value(text: str, names: dict[str, str]) -> str:
    """An ARM string as deployment evaluates it, for the few forms app settings use:
    ``[concat(...)]`` of literals, ``variables('x')`` and ``parameters('x')``."""
    if not (text.startswith("[") and text.endswith("]")):
        return text
    body = text[1:-1]

    def one(expr: str) -> str:
        expr = expr.strip()
        if expr.startswith("'"):
            return expr[1:-1].replace("''", "'")
        match = re.fullmatch(r"(variables|parameters)\('(\w+)'\)", expr)
        if match:
            return names[match[2]]
        match = re.fullmatch(r"concat\((.*)\)", expr, re.S)
        assert match, f"unsupported expression {expr!r}"
        return "".join(one(part) for part in re.findall(r"'(?:[^']|'')*'|\w+\('[^']*'\)", match[1]))

    return one(body)


def app_settings(template: dict[str, Any], function: str, names: dict[str, str], secrets: dict[str, str]) -> dict[str, str]:
    site = next(r for r in template["resources"] if r["type"] == "Microsoft.Web/sites" and function in r["tags"]["corefn-functions"].split(","))
    env = {}
    for setting in site["properties"]["siteConfig"]["appSettings"]:
        value = arm_value(setting["value"], names) if "reference(" not in setting["value"] else "unused-here"
        reference = re.fullmatch(r"@Microsoft\.KeyVault\(VaultName=[^;]+;SecretName=([\w-]+)\)", value)
        env[setting["name"]] = secrets[reference[1]] if reference else value  # the platform resolves references
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("iot-azure")
    subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", "examples/iot_site/app.py:app", "--cloud", "azure", "--out", str(folder)],
                   cwd=ROOT, check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return folder / "azure"


def test_the_bundle_is_self_contained(bundle: Path) -> None:
    assert (bundle / "function_app.py").is_file() and (bundle / "app.py").is_file() and (bundle / "imaging.py").is_file()
    assert (bundle / "corefn_azure" / "runtime.py").is_file() and not (bundle / "corefn_aws").exists()
    pins = (bundle / "requirements.txt").read_text().splitlines()[2:]
    assert all("==" in line for line in pins) and not any(line.lower().startswith(("corefn", "boto")) for line in pins)


def test_iot_photo_upload_is_processed_from_a_real_input_stream(bundle: Path, azurite: Any) -> None:
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient

    python = _venv(bundle / "requirements.txt")
    template = json.loads((bundle / "azuredeploy.json").read_text())
    account = "devstoreaccount1"
    names = {"dataAccount": account, "hostAccount": account, "vault": "kv", "insights": "ai", "prefix": "test",
             "eventHubNamespace": "eh", "suffix": "x"}  # fmt: skip
    secrets = {"corefn-api-key": API_KEY, "corefn-sink-reports": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    # what phase 1 creates, in Azurite (names as the template gives them)
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    for container in ("photos", "photo-watermarked", "photo-thumbnails"):
        if not blobs.get_container_client(container).exists():
            blobs.create_container(container)
    tables.create_table_if_not_exists("devices")
    device = f"dev-{uuid.uuid4().hex[:6]}"

    def invoke(function: str, calls: list[dict[str, Any]]) -> list[Any]:
        env = app_settings(template, function, names, secrets)
        env.update(WEBSITE_SITE_NAME=f"test-{function}", FUNCTIONS_WORKER_RUNTIME="python", PATH=os.environ.get("PATH", ""),
                   LANG="C.UTF-8", AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)  # fmt: skip
        done = subprocess.run([str(python), "-I", "-c", DRIVER, str(bundle)], input=json.dumps([{**c, "function": function} for c in calls]), capture_output=True,
                              text=True, env=env, cwd=bundle, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout)
        assert result["outside"] == [], f"modules loaded from outside the bundle: {result['outside']}"
        assert not any(str(ROOT) in p and not p.startswith(str(python.parent.parent)) for p in result["path"]), result["path"]
        return result["answers"]  # type: ignore[no-any-return]

    def http(method: str, path: str, route: dict[str, str], body: bytes, content_type: str, key: str) -> dict[str, Any]:
        return {"kind": "http", "method": method, "url": f"https://test.azurewebsites.net/{path}", "route": route,
                "headers": {"content-type": content_type, "x-api-key": key}, "body": base64.b64encode(body).decode()}  # fmt: skip

    (created,) = invoke("register_device", [http("POST", "devices", {}, json.dumps({"id": device, "name": "door"}).encode(), "application/json", API_KEY)])
    assert created["status"] == 201, created
    photo = _photo()
    route = {"id": device, "name": "door.jpg"}
    denied, uploaded = invoke("upload_photo", [http("PUT", f"devices/{device}/photos/door.jpg", route, photo, "image/jpeg", "wrong-key"),
                                               http("PUT", f"devices/{device}/photos/door.jpg", route, photo, "image/jpeg", API_KEY)])  # fmt: skip
    assert denied["status"] == 401 and uploaded["status"] == 202, (denied, uploaded)
    key = f"devices/{device}/door.jpg"
    stored = blobs.get_blob_client("photos", key)
    data = stored.download_blob().readall()  # what the host reads for the Event Grid blob trigger
    invoke("process_photo", [{"kind": "blob", "name": f"photos/{key}", "uri": stored.url, "data": base64.b64encode(data).decode()}])
    thumbs = [b.name for b in blobs.get_container_client("photo-thumbnails").list_blobs(name_starts_with=f"devices/{device}/")]
    marked = [b.name for b in blobs.get_container_client("photo-watermarked").list_blobs(name_starts_with=f"devices/{device}/")]
    assert thumbs and marked, (thumbs, marked)
    row = tables.get_table_client("devices").get_entity(partition_key=device, row_key="")
    assert "thumbnail" in json.dumps(dict(row)), row
