"""The IoT site's GCP bundle runs as Cloud Run functions runs it: a fresh virtual environment of the
runtime's Python (3.12) built from the bundle's ``requirements.txt`` alone (``--no-deps``, then
``pip check``: the pinned closure must be complete), ``python -I`` with only the bundle on the
path, each function in its own process with the environment ``deploy.sh`` gives it (its env file
as the script writes it, the API key as ``--set-secrets`` resolves it, ``K_SERVICE`` set, so
corefn is strict about configuration), and its target loaded by ``functions_framework.create_app``
from the generated ``main.py``, as the Functions Framework loads it — driven with real requests
against the Cloud Storage and Firestore emulators: a device registered, a photo uploaded, and the
photo's Cloud Storage notification, pushed by the handler's Pub/Sub subscription, processed by
the image pipeline's ``imaging`` module.

The venv is shared with the AWS bundle test's cache (``.cache/bundle-venvs/``, keyed by the
requirements' hash and the Python), so reruns cost only the invocations.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws.test_bundle_runs import _venv

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS = {"PROJECT": "corefn-test", "REGION": "us-central1", "PREFIX": "bundle"}
API_KEY = "k" * 32

DRIVER = r"""
import base64, json, os, sys
bundle = sys.argv[1]
sys.path.insert(0, bundle)
os.chdir(bundle)
import functions_framework

answers = []
for call in json.load(sys.stdin):
    app = functions_framework.create_app(call["target"], os.path.join(bundle, "main.py"))
    answer = app.test_client().open(call["path"], method=call["method"], headers=call["headers"], data=base64.b64decode(call["body"]))
    answers.append({"status": answer.status_code, "body": answer.get_data(as_text=True)[:2000]})
outside = sorted({m.__file__ for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and m.__name__.split(".")[0] in ("corefn", "corefn_gcp", "app", "imaging", "reports_db", "main")
                  and not m.__file__.startswith(bundle)})
json.dump({"answers": answers, "outside": outside}, sys.stdout)
"""


def function_env(script: str, function: str) -> dict[str, str]:
    """The env file ``deploy.sh`` writes for ``function``, expanded by bash with the settings."""
    body = script.split(f'cat > "$ENV_DIR/{function}.yaml" <<EOF\n', 1)[1].split("\nEOF\n", 1)[0]
    assigned = " ".join(f"{k}={v}" for k, v in SETTINGS.items())
    done = subprocess.run(["bash", "-c", f"{assigned}; cat <<EOF\n{body}\nEOF"], capture_output=True, text=True, check=True)
    loaded: dict[str, str] = yaml.safe_load(done.stdout)
    return loaded


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("iot-gcp")
    subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", "examples/iot_site/app.py:app", "--cloud", "gcp", "--out", str(folder)],
                   cwd=ROOT, check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
    return folder / "gcp"


class Project:
    """The bundle's functions, each run as Cloud Run functions would run it."""

    def __init__(self, folder: Path, gcs: Any, firestore: Any) -> None:
        self.folder = folder
        self.script = (folder / "deploy.sh").read_text()
        self.python = _venv(folder / "requirements.txt")
        self.emulators = {"STORAGE_EMULATOR_HOST": gcs.endpoint, "FIRESTORE_EMULATOR_HOST": firestore.host}

    def env(self, function: str, drop: str | None = None) -> dict[str, str]:
        env = {**function_env(self.script, function), **self.emulators, "K_SERVICE": function, "PATH": "/usr/bin:/bin", "HOME": str(self.folder)}
        deploy = self.script.split(f"gcloud functions deploy {function} ", 1)[1].split("\n\n", 1)[0]
        if "COREFN_API_KEY=" in deploy:  # --set-secrets: Cloud Run resolves the secret into the variable
            env["COREFN_API_KEY"] = API_KEY
        if drop:
            env.pop(drop)
        return env

    def call(self, function: str, target: str, requests: list[dict[str, Any]], drop: str | None = None) -> subprocess.CompletedProcess[str]:
        calls = [{"target": target, "method": r.get("method", "POST"), "path": r.get("path", "/"), "headers": r.get("headers", {}),
                  "body": base64.b64encode(r.get("body", b"")).decode()} for r in requests]  # fmt: skip
        return subprocess.run([str(self.python), "-I", "-c", DRIVER, str(self.folder)], input=json.dumps(calls), env=self.env(function, drop),
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    def answers(self, function: str, target: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = self.call(function, target, requests)
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout)
        assert not out["outside"], f"modules loaded from outside the bundle: {out['outside']}"
        return out["answers"]  # type: ignore[no-any-return]


def _push(resource: dict[str, Any], event_type: str = "OBJECT_FINALIZE", attempt: int = 1) -> dict[str, Any]:
    """What the handler's push subscription posts for the bucket's notification: the attributes
    and JSON_API_V1 payload of https://cloud.google.com/storage/docs/pubsub-notifications#format,
    in Pub/Sub's push envelope (https://cloud.google.com/pubsub/docs/push#receive_push)."""
    attributes = {
        "notificationConfig": f"projects/_/buckets/{resource['bucket']}/notificationConfigs/1", "eventType": event_type,
        "payloadFormat": "JSON_API_V1", "bucketId": resource["bucket"], "objectId": resource["name"],
        "objectGeneration": str(resource["generation"]), "eventTime": resource["updated"],
    }  # fmt: skip
    envelope = {
        "message": {"attributes": attributes, "data": base64.b64encode(json.dumps(resource).encode()).decode(),
                    "messageId": f"{resource['generation']}1", "publishTime": resource["updated"]},
        "subscription": f"projects/{SETTINGS['PROJECT']}/subscriptions/iot-site-process-photo-push", "deliveryAttempt": attempt,
    }  # fmt: skip
    return {"headers": {"Content-Type": "application/json"}, "body": json.dumps(envelope).encode()}


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def project(bundle: Path, gcs_emulator: Any, firestore_emulator: Any) -> Project:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    os.environ["STORAGE_EMULATOR_HOST"] = gcs_emulator.endpoint
    try:
        client = storage.Client(project=SETTINGS["PROJECT"], credentials=AnonymousCredentials())
        for name in ("photos", "photo-watermarked", "photo-thumbnails"):  # what deploy.sh's ensure_bucket creates
            bucket = client.bucket(f"{SETTINGS['PREFIX']}-{name}")
            if not bucket.exists():
                client.create_bucket(bucket)
    finally:
        del os.environ["STORAGE_EMULATOR_HOST"]
    return Project(bundle, gcs_emulator, firestore_emulator)


def test_iot_site_bundle_registers_a_device_and_processes_its_photo(project: Project, gcs_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (created,) = project.answers("iot-site-register-device", "register_device", [
        {"path": "/devices", "headers": {"x-api-key": API_KEY, "content-type": "application/json"}, "body": json.dumps({"id": "dev-1", "name": "door"}).encode()},
    ])  # fmt: skip
    assert created["status"] in (201, 409), created  # 409: an earlier run of this session registered it
    photo = _photo()
    denied, uploaded = project.answers("iot-site-upload-photo", "upload_photo", [
        {"method": "PUT", "path": "/devices/dev-1/photos/door.jpg", "headers": {"x-api-key": "wrong", "content-type": "image/jpeg"}, "body": photo},
        {"method": "PUT", "path": "/devices/dev-1/photos/door.jpg", "headers": {"x-api-key": API_KEY, "content-type": "image/jpeg"}, "body": photo},
    ])  # fmt: skip
    assert denied["status"] == 401 and uploaded["status"] == 202, (denied, uploaded)

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint)
    client = storage.Client(project=SETTINGS["PROJECT"], credentials=AnonymousCredentials())
    blob = client.bucket("bundle-photos").get_blob("devices/dev-1/door.jpg")
    assert blob is not None and blob.size == len(photo)
    resource = dict(blob._properties)
    elsewhere = {**resource, "name": "archive/door.jpg"}  # outside the trigger's prefix: skipped, acknowledged
    deleted, skipped, processed = project.answers("iot-site-process-photo", "process_photo", [
        _push(resource, "OBJECT_DELETE"), _push(elsewhere), _push(resource),
    ])  # fmt: skip
    assert deleted["status"] == skipped["status"] == processed["status"] == 204, (deleted, skipped, processed)
    marked = [b.name for b in client.list_blobs("bundle-photo-watermarked")]
    thumbs = [b.name for b in client.list_blobs("bundle-photo-thumbnails")]
    assert marked and thumbs, (marked, thumbs)
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", project.emulators["FIRESTORE_EMULATOR_HOST"])
    device = firestore.Client(project=SETTINGS["PROJECT"], credentials=AnonymousCredentials()).collection("devices").document("dev-1").get()
    assert device.exists and "thumbnail" in json.dumps(device.to_dict()["last_photo"])


def test_an_unconfigured_sink_fails_the_cold_start_naming_its_setting(project: Project) -> None:
    resource = {"bucket": "bundle-photos", "name": "devices/dev-1/x.jpg", "size": "3", "generation": "1", "updated": "2026-01-01T00:00:00Z"}
    done = project.call("iot-site-process-photo", "process_photo", [_push(resource)], drop="COREFN_SINK_PHOTO_THUMBNAILS")
    assert "COREFN_SINK_PHOTO_THUMBNAILS" in done.stderr + done.stdout, (done.stdout[-1000:], done.stderr[-2000:])
    assert "local defaults are for `corefn run`" in done.stderr + done.stdout
    (answer,) = json.loads(done.stdout)["answers"]
    assert answer["status"] >= 500  # not acknowledged: Pub/Sub redelivers it, then dead-letters it


def test_the_bundle_carries_corefn_and_only_the_gcp_adapter(bundle: Path) -> None:
    tops = {p.name for p in bundle.iterdir()}
    assert {"main.py", "app.py", "reports_db.py", "imaging.py", "corefn", "corefn_gcp", "requirements.txt"} <= tops
    assert not {t for t in tops if t.startswith("corefn_") and t != "corefn_gcp"}
    assert not (bundle / "corefn" / "cli").exists() and not (bundle / "corefn" / "local").exists()
    (info,) = bundle.glob("corefn-*.dist-info")
    entry_points = (info / "entry_points.txt").read_text()
    assert "corefn_gcp" in entry_points and not any(f"corefn_{c}" in entry_points for c in ("aws", "azure", "openwhisk", "knative"))
    pins = [line.lower() for line in (bundle / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in pin for pin in pins)
    assert not [pin for pin in pins if pin.startswith(("corefn", "boto", "azure", "ibm"))]
