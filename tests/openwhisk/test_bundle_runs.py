"""The examples' OpenWhisk actions run as Apache OpenWhisk runs them: ``corefn deploy --cloud
openwhisk`` writes the bundle and builds every zip (wheels for the ``python:3.11`` kind's
manylinux x86_64 platform, whatever this machine is); each zip is checked against the 48 MB code
limit as the controller counts it (base64), unzipped, and its ``__main__.py``'s ``main(params)``
called in a Python 3.11 started with ``-I -S`` (no site-packages, no user path: the zip is all it
has), with the parameters the manifest binds (its ``$VARIABLES`` filled in as wskdeploy does)
merged under each request, as the controller merges an action's bound parameters.

Backends are real emulators: moto's S3 API as the S3-compatible store (``s3compat://``),
pouchdb-server as Cloudant/CouchDB, PostgreSQL for the SQL sink. The IoT photo goes the whole way:
uploaded through the web action, then its MinIO-style notification posted to the storage action,
which renders it with the pipeline's ``imaging`` module (Pillow's manylinux wheel for 3.11).

The built packages are cached per requirements hash under ``.cache/openwhisk-build`` (gitignored),
so reruns cost only the activations. No OpenWhisk controller here: each activation is one process.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from corefn_openwhisk.build import code_limit, encoded_size

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = {"image_pipeline": "examples/image_pipeline/app.py:app", "iot_site": "examples/iot_site/app.py:app"}
OTHER_ADAPTERS = ("corefn_aws", "corefn_azure", "corefn_gcp", "corefn_knative")

DRIVER = r"""
import importlib.util, json, sys
folder = sys.argv[1]
sys.path.insert(0, folder)  # what the runtime's launcher does with the unzipped action
spec = importlib.util.spec_from_file_location("main__", folder + "/__main__.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
answers = [module.main(params) for params in json.load(sys.stdin)]
outside = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)
                  and not m.__file__.startswith(folder) and "site-packages" in m.__file__})
json.dump({"answers": answers, "outside": outside}, sys.stdout)
"""


def _python311() -> str:
    """The runtime's Python (pyenv's own install first); skipped with the fix when absent."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.11*/bin/python3.11"))] + [shutil.which("python3.11") or ""]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    pytest.skip("the python:3.11 kind runs Python 3.11: install it (pyenv install 3.11) to run the actions as OpenWhisk does")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("COREFN_")}
    env["COREFN_BUILD_CACHE"] = str(ROOT / ".cache" / "openwhisk-build")
    for example, ref in EXAMPLES.items():
        folder = tmp_path_factory.mktemp(example)
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", ref, "--cloud", "openwhisk", "--out", str(folder)],
                              cwd=ROOT, capture_output=True, text=True, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        out[example] = folder / "openwhisk"
    return out


class Deployment:
    """One bundle's actions, with the manifest's bound parameters filled from ``variables``."""

    def __init__(self, folder: Path, variables: dict[str, str], tmp: Path) -> None:
        manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
        (self.package,) = manifest["packages"].values()
        self.folder, self.variables, self.tmp = folder, variables, tmp

    def bound(self, action: str) -> dict[str, Any]:
        """The action's inputs as wskdeploy binds them (every ``$NAME`` replaced; none may be missing)."""
        inputs = self.package["actions"][action].get("inputs", {})
        out = {}
        for key, value in inputs.items():
            if isinstance(value, str) and value.startswith("$"):
                assert value[1:] in self.variables, f"{action}: the test gives no value for {value}"
                value = self.variables[value[1:]]
            out[key] = value
        return out

    def run(self, action: str, requests: list[dict[str, Any]]) -> list[Any]:
        unzipped = self.tmp / f"{action}-{uuid.uuid4().hex[:6]}"
        with zipfile.ZipFile(self.folder / "build" / f"{action}.zip") as archive:
            archive.extractall(unzipped)
        params = [{**self.bound(action), **request} for request in requests]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "__OW_ACTIVATION_ID": uuid.uuid4().hex, "__OW_DEADLINE": "99999999999999",
               "__OW_ACTION_NAME": f"/guest/{action}", "__OW_NAMESPACE": "guest", "COREFN_LOG_FORMAT": "text"}  # fmt: skip
        done = subprocess.run([_python311(), "-I", "-S", "-c", DRIVER, str(unzipped)], input=json.dumps(params), env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        found = json.loads(done.stdout)
        assert found["outside"] == [], f"{action} imported code from outside its zip: {found['outside']}"
        return list(found["answers"])


def _http(method: str, path: str, body: bytes, content_type: str, api_key: str) -> dict[str, Any]:
    """A raw-mode web request as the controller passes it (a JSON or binary entity base64-encoded)."""
    return {"__ow_method": method.lower(), "__ow_path": path, "__ow_query": "", "__ow_body": base64.b64encode(body).decode(),
            "__ow_headers": {"content-type": content_type, "x-api-key": api_key}}  # fmt: skip


def _notification(bucket: str, key: str, size: int, token: str) -> dict[str, Any]:
    """A MinIO webhook POST of an object creation (the real MinIO payload, re-pointed), as the
    web action receives it: JSON entity base64-encoded, the target's auth_token as a Bearer."""
    note = json.loads((ROOT / "tests" / "events" / "knative" / "storage-minio-webhook.json").read_text())
    record = note["Records"][0]
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    record["s3"]["object"].update(key=key.replace("/", "%2F"), size=size, contentType="image/jpeg")
    note["Key"] = f"{bucket}/{key}"
    body = base64.b64encode(json.dumps(note).encode()).decode()
    return {"__ow_method": "post", "__ow_path": "", "__ow_query": "", "__ow_body": body,
            "__ow_headers": {"content-type": "application/json", "authorization": f"Bearer {token}"}}  # fmt: skip


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def s3(moto_server: Any) -> Any:
    import boto3

    moto_server.reset()
    return boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def _variables(moto_server: Any, pouchdb_server: Any, buckets: dict[str, str], tables: list[str], s3: Any) -> dict[str, str]:
    import httpx

    suffix = uuid.uuid4().hex[:6]
    out = {"COREFN_S3_ENDPOINT": moto_server.endpoint_url, "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing",
           "CLOUDANT_URL": pouchdb_server.url, "CLOUDANT_AUTH_TYPE": "noauth", "CLOUDANT_APIKEY": "unused",
           "COREFN_API_KEY": "k" * 32, "COREFN_WEBHOOK_TOKEN": "t" * 40, "KAFKA_BROKERS": "127.0.0.1:1",
           "KAFKA_USER": "token", "KAFKA_PASSWORD": "unused"}  # fmt: skip
    for sink, bucket in buckets.items():
        s3.create_bucket(Bucket=bucket)
        out[f"COREFN_SINK_{sink}"] = f"s3compat://{bucket}"
    for sink in tables:
        db = f"{sink.lower().replace('_', '-')}-{suffix}"
        httpx.put(f"{pouchdb_server.url}/{db}", trust_env=False).raise_for_status()
        out[f"COREFN_SINK_{sink}"] = f"cloudant://{db}"
    return out


def test_every_zip_fits_the_code_limit_and_carries_only_its_own_packages(bundles: dict[str, Path]) -> None:
    limit = code_limit()
    sizes = {}
    for example, folder in bundles.items():
        for archive_path in sorted((folder / "build").glob("*.zip")):
            size = archive_path.stat().st_size
            sizes[f"{example}/{archive_path.stem}"] = (size, encoded_size(size))
            assert encoded_size(size) < limit, f"{archive_path.name}: {encoded_size(size):,} bytes base64 >= {limit:,}"
            with zipfile.ZipFile(archive_path) as archive:
                tops = {name.split("/")[0] for name in archive.namelist()}
            assert "__main__.py" in tops and "corefn" in tops and "corefn_openwhisk" in tops and "app.py" in tops
            assert not tops & set(OTHER_ADAPTERS), archive_path
            with zipfile.ZipFile(archive_path) as archive:
                models = {n.split("/")[2] for n in archive.namelist() if n.startswith("botocore/data/") and n.count("/") > 2}
            assert models in (set(), {"s3"}), (archive_path, len(models))  # only S3's API model, for the S3-compatible stores
            has_pillow = "PIL" in tops
            assert has_pillow == (archive_path.stem in ("process_photo", "make_renditions")), archive_path
            if has_pillow:  # the runtime's wheel, not this machine's
                with zipfile.ZipFile(archive_path) as archive:
                    assert any(n.startswith("PIL/_imaging.cpython-311-x86_64-linux-gnu") for n in archive.namelist())
    print("\n".join(f"{name}: {zipped:,} bytes zipped, {encoded:,} base64" for name, (zipped, encoded) in sizes.items()))


def test_build_sh_rebuilds_the_same_zips_from_another_folder(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = bundles["iot_site"]
    before = {p.name: p.read_bytes() for p in (folder / "build").glob("*.zip")}
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", ""), "COREFN_BUILD_CACHE": str(ROOT / ".cache" / "openwhisk-build"),
           "PYTHON": str(ROOT / ".venv" / "bin" / "python")}  # fmt: skip
    done = subprocess.run(["bash", str(folder / "build.sh")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = {p.name: p.read_bytes() for p in (folder / "build").glob("*.zip")}
    assert after == before  # reproducible: fixed entry times, sorted entries


def test_iot_site_registers_a_device_and_processes_its_photo(bundles: dict[str, Path], moto_server: Any, pouchdb_server: Any, s3: Any, tmp_path: Path) -> None:
    buckets = {name: f"{name.lower().replace('_', '-')}-{uuid.uuid4().hex[:6]}" for name in ("PHOTOS", "PHOTO_WATERMARKED", "PHOTO_THUMBNAILS")}
    variables = _variables(moto_server, pouchdb_server, buckets, ["DEVICES", "DEVICE_STATS"], s3)
    variables |= {"COREFN_SINK_READINGS": "kafka://127.0.0.1:1/readings", "COREFN_SINK_TELEMETRY": "kafka://127.0.0.1:1/telemetry",
                  "COREFN_SINK_REPORTS": "postgresql+psycopg://nobody@127.0.0.1:1/none"}  # fmt: skip
    ow = Deployment(bundles["iot_site"], variables, tmp_path)
    key = variables["COREFN_API_KEY"]
    photo = _photo()
    register, refused, uploaded = ow.run("web", [
        _http("POST", "/devices", json.dumps({"id": "dev-1", "name": "door"}).encode(), "application/json", key),
        _http("PUT", "/devices/dev-1/photos/door.jpg", photo, "image/jpeg", "wrong-key"),
        _http("PUT", "/devices/dev-1/photos/door.jpg", photo, "image/jpeg", key),
    ])  # fmt: skip
    assert register.get("statusCode") == 201, register
    assert refused["statusCode"] == 401 and uploaded["statusCode"] == 202, (refused, uploaded)
    stored = s3.get_object(Bucket=buckets["PHOTOS"], Key="devices/dev-1/door.jpg")["Body"].read()
    assert stored == photo
    token = variables["COREFN_WEBHOOK_TOKEN"]
    denied, done = ow.run("process_photo", [
        _notification(buckets["PHOTOS"], "devices/dev-1/door.jpg", len(photo), "guess"),
        _notification(buckets["PHOTOS"], "devices/dev-1/door.jpg", len(photo), token),
    ])  # fmt: skip
    assert denied.get("statusCode") == 401, denied
    assert done["statusCode"] == 200 and json.loads(done["body"])["handled"] == 1, done
    for bucket in ("PHOTO_WATERMARKED", "PHOTO_THUMBNAILS"):
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=buckets[bucket]).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("devices/dev-1/door"), (bucket, keys)
    (device,) = ow.run("web", [{**_http("GET", "/devices/dev-1", b"", "application/json", key), "__ow_body": ""}])
    assert device["statusCode"] == 200 and "thumbnail" in json.dumps(json.loads(device["body"])["last_photo"])


def test_iot_site_queue_action_stores_a_reading_from_the_kafka_feed(bundles: dict[str, Path], moto_server: Any, pouchdb_server: Any,
                                                                    postgres_server: Any, s3: Any, tmp_path: Path) -> None:  # fmt: skip
    variables = _variables(moto_server, pouchdb_server, {}, ["DEVICES"], s3)
    variables["COREFN_SINK_REPORTS"] = postgres_server.url
    ow = Deployment(bundles["iot_site"], variables, tmp_path)
    import httpx

    devices_db = variables["COREFN_SINK_DEVICES"].removeprefix("cloudant://")
    httpx.put(f"{pouchdb_server.url}/{devices_db}/dev-9", json={"id": "dev-9"}, trust_env=False).raise_for_status()
    reading = {"id": uuid.uuid4().hex, "device": "dev-9", "time": "2026-12-06T10:00:00+00:00", "temperature": 21.5}
    value = base64.b64encode(json.dumps(reading).encode()).decode()
    batch = {"messages": [{"topic": "readings", "partition": 0, "offset": 7, "key": None, "value": value}]}
    (answer,) = ow.run("store_reading", [batch])
    assert answer == {"ok": True, "events": 1, "handled": 1, "passed_on": []}
    device = httpx.get(f"{pouchdb_server.url}/{devices_db}/dev-9", trust_env=False).json()
    assert device["readings"] == 1 and device["last_reading"]["id"] == reading["id"]


def test_image_pipeline_makes_renditions_from_a_bucket_notification(bundles: dict[str, Path], moto_server: Any, pouchdb_server: Any, s3: Any, tmp_path: Path) -> None:
    names = ("ORIGINALS", "WATERMARKED", "THUMBNAILS", "REJECTED", "ASSETS")
    buckets = {name: f"{name.lower()}-{uuid.uuid4().hex[:6]}" for name in names}
    ow = Deployment(bundles["image_pipeline"], _variables(moto_server, pouchdb_server, buckets, [], s3), tmp_path)
    photo = _photo()
    s3.put_object(Bucket=buckets["ORIGINALS"], Key="uploads/cat.jpg", Body=photo, ContentType="image/jpeg")
    (done,) = ow.run("make_renditions", [_notification(buckets["ORIGINALS"], "uploads/cat.jpg", len(photo), ow.variables["COREFN_WEBHOOK_TOKEN"])])
    assert done["statusCode"] == 200, done
    for bucket in ("WATERMARKED", "THUMBNAILS"):
        assert s3.list_objects_v2(Bucket=buckets[bucket]).get("KeyCount") == 1, bucket


def test_an_unset_sink_fails_the_activation_naming_its_setting(bundles: dict[str, Path], moto_server: Any, pouchdb_server: Any, s3: Any, tmp_path: Path) -> None:
    """An unset variable that slipped past deploy.sh (wskdeploy binds it as ""): no local fallback."""
    names = ("ORIGINALS", "WATERMARKED", "THUMBNAILS", "REJECTED", "ASSETS")
    buckets = {name: f"{name.lower()}-{uuid.uuid4().hex[:6]}" for name in names}
    variables = _variables(moto_server, pouchdb_server, buckets, [], s3) | {"COREFN_SINK_THUMBNAILS": ""}
    ow = Deployment(bundles["image_pipeline"], variables, tmp_path)
    (done,) = ow.run("make_renditions", [_notification(buckets["ORIGINALS"], "uploads/cat.jpg", 10, variables["COREFN_WEBHOOK_TOKEN"])])
    assert "COREFN_SINK_THUMBNAILS" in json.dumps(done), done
