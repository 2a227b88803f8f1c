"""``corefn deploy --cloud openwhisk``: the wskdeploy manifest checked against the wskdeploy
specification's rules, each generated ``__main__.py`` imported and called as the runtime would
call it from the unzipped action, the scripts' refusals, and the build's size check.
(``test_bundle_runs.py`` builds the examples' real zips and runs them in Python 3.11.)"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from corefn.adapters import parse
from corefn.loader import load_app
from corefn_openwhisk import adapter
from tests.openwhisk import sample_app

EVENTS = Path(__file__).parent.parent / "events" / "openwhisk"
#: feeds of the OpenWhisk / IBM Cloud Functions catalog (openwhisk-package-alarms, -cloudant,
#: -kafka, and IBM's /whisk.system/cos)
#: (IBM's /whisk.system/cos feed is not Apache OpenWhisk's: never generated)
KNOWN_FEEDS = {
    "/whisk.system/alarms/alarm",
    "/whisk.system/alarms/interval",
    "/whisk.system/alarms/once",
    "/whisk.system/cloudant/changes",
    "/whisk.system/messaging/messageHubFeed",
    "/whisk.system/messaging/kafkaFeed",
}
# wskdeploy specification (specification/html/spec_*.md): the keys each entity may carry
PACKAGE_KEYS = {"version", "license", "description", "dependencies", "inputs", "actions", "sequences", "triggers", "rules", "apis", "annotations"}
ACTION_KEYS = {"version", "function", "code", "runtime", "inputs", "outputs", "limits", "feed", "web", "web-export", "raw-http", "docker", "native", "final", "main", "annotations", "description"}
TRIGGER_KEYS = {"feed", "credential", "inputs", "annotations", "description"}
LIMIT_RANGES = {"memorySize": (128, 2048), "timeout": (100, 600000), "logSize": (0, 10)}
ACTIONS = ("web", "on_object", "on_record", "take_order", "on_change", "nightly_report", "resize")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | bytes], str]:
    """The sample app as a user project (``src/owapp.py``) and what the generator writes for it."""
    root = tmp_path_factory.mktemp("owproject")
    (root / "src").mkdir()
    shutil.copy(sample_app.__file__, root / "src" / "owapp.py")
    ref = f"{root}/src/owapp.py:app"
    files = dict(adapter.generate(load_app(ref), ref))
    out = root / "deploy"
    for rel, content in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(content if isinstance(content, str) else content.decode())
    return root, files, ref


@pytest.fixture(scope="module")
def manifest(deployed: tuple[Path, dict[str, str | bytes], str]) -> dict[str, Any]:
    text = deployed[1]["manifest.yaml"]
    assert isinstance(text, str)
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_files(deployed: tuple[Path, dict[str, str | bytes], str]) -> None:
    assert sorted(deployed[1]) == sorted(
        ["manifest.yaml", "build.sh"]
        + ["deploy.sh", "README.md"]
        + [f"actions/{a}/{f}" for a in ACTIONS for f in ("__main__.py", "requirements.txt")]
    )


def test_manifest_follows_the_wskdeploy_schema(manifest: dict[str, Any]) -> None:
    assert set(manifest) == {"packages"}
    (name, package), = manifest["packages"].items()
    assert name == "owtest" and set(package) <= PACKAGE_KEYS
    actions, triggers, rules = package["actions"], package["triggers"], package["rules"]
    for action_name, action in actions.items():
        assert set(action) <= ACTION_KEYS, action_name
        assert action["runtime"] == "python:3.11" and action["function"] == f"build/{action_name}.zip"
        for key, value in action.get("limits", {}).items():
            low, high = LIMIT_RANGES[key]
            assert low <= value <= high, (action_name, key, value)
    for trigger_name, trigger in triggers.items():
        assert set(trigger) <= TRIGGER_KEYS and trigger["feed"] in KNOWN_FEEDS, trigger_name
        assert len(trigger_name) <= 256
    for rule_name, rule in rules.items():
        assert set(rule) == {"trigger", "action"}, rule_name
        assert rule["trigger"] in triggers and rule["action"] in actions, rule_name
    assert {r["trigger"] for r in rules.values()} == set(triggers)  # no trigger fires into nothing


def test_web_action_and_apis(manifest: dict[str, Any]) -> None:
    package = manifest["packages"]["owtest"]
    assert package["actions"]["web"]["web"] == "raw"  # raw HTTP: exact query and body
    assert package["actions"]["web"]["inputs"] == {  # the app's one sink (no uses=), its S3 settings, the API key
        "__corefn_env_COREFN_SINK_THUMBNAILS": "$COREFN_SINK_THUMBNAILS",
        "__corefn_env_COREFN_S3_ENDPOINT": "$COREFN_S3_ENDPOINT",
        "__corefn_env_S3_ACCESS_KEY_ID": "$S3_ACCESS_KEY_ID",
        "__corefn_env_S3_SECRET_ACCESS_KEY": "$S3_SECRET_ACCESS_KEY",
        "__corefn_env_COREFN_API_KEY": "$COREFN_API_KEY",
    }
    endpoints = []
    for api in package["apis"].values():
        for base, paths in api.items():
            assert not base.startswith("/")
            for relative, targets in paths.items():
                assert not relative.startswith("/")
                for action_name, spec in targets.items():
                    assert package["actions"][action_name].get("web") in (True, "raw", "yes")
                    assert spec["response"] in {"http", "json", "text", "html"}
                    endpoints.append((spec["method"], f"/{base}/{relative}"))
    assert sorted(endpoints) == [
        ("GET", "/owtest/boom"),
        ("GET", "/owtest/devices/{id}"),
        ("GET", "/owtest/secret"),
        ("POST", "/owtest/echo"),
        ("POST", "/owtest/upload"),
    ]


def test_trigger_inputs(manifest: dict[str, Any], deployed: tuple[Path, dict[str, str | bytes], str]) -> None:
    package = manifest["packages"]["owtest"]
    triggers = package["triggers"]
    alarm = triggers["nightly_report-timer"]
    assert alarm["feed"] == "/whisk.system/alarms/alarm"
    assert (alarm["inputs"]["cron"], alarm["inputs"]["timezone"]) == ("0 2 * * *", "Asia/Seoul")
    fired = parse(alarm["inputs"]["trigger_payload"])  # what the alarm fires is detected as a timer
    assert (fired.cloud, fired.shape_name, fired.events[0].name) == ("openwhisk", "alarm", "nightly_report")  # type: ignore[attr-defined]
    assert triggers["nightly_report-warm"]["inputs"]["trigger_payload"] == {"corefn": "warmup"}
    on_object = package["actions"]["on_object"]  # storage: the bucket notification's raw web action, no feed
    assert on_object["web"] == "raw" and on_object["inputs"]["__corefn_env_COREFN_WEBHOOK_TOKEN"] == "$COREFN_WEBHOOK_TOKEN"
    assert "on_object" not in {r["action"] for r in package["rules"].values()}
    kafka = triggers["on_record-stream"]["inputs"]
    assert kafka["topic"] == "mytopic" and kafka["isBinaryKey"] is True and kafka["isBinaryValue"] is True
    assert kafka["kafka_brokers_sasl"] == "$KAFKA_BROKERS_SASL"
    assert package["actions"]["on_record"]["inputs"]["isBinaryValue"] is True  # the flags travel with the payload
    assert triggers["on_change-nosql"]["inputs"]["dbname"] == "orders"
    queue = triggers["take_order-queue"]  # a queue: its Kafka topic through the same feed
    assert queue["feed"] == "/whisk.system/messaging/messageHubFeed" and queue["inputs"]["topic"] == "orders-in"
    assert {"__corefn_env_KAFKA_BROKERS", "__corefn_env_KAFKA_SASL_PASSWORD"} <= set(package["actions"]["take_order"]["inputs"])
    resize = package["actions"]["resize"]
    assert resize["limits"] == {"memorySize": 512, "timeout": 30000}
    assert resize["inputs"] == {
        "__corefn_app": "owapp:app",
        "__corefn_handler": "resize",
        "__corefn_env_COREFN_SINK_THUMBNAILS": "$COREFN_SINK_THUMBNAILS",
        "__corefn_env_COREFN_S3_ENDPOINT": "$COREFN_S3_ENDPOINT",
        "__corefn_env_S3_ACCESS_KEY_ID": "$S3_ACCESS_KEY_ID",
        "__corefn_env_S3_SECRET_ACCESS_KEY": "$S3_SECRET_ACCESS_KEY",
    }
    assert "resize" not in {r["action"] for r in package["rules"].values()}  # invoked directly only


def _load_main(stage: Path, action: str, deploy: Path) -> Any:
    shutil.copy(deploy / "actions" / action / "__main__.py", stage / "__main__.py")
    spec = importlib.util.spec_from_file_location(f"ow_main_{action}", stage / "__main__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_generated_mains_run_as_in_the_unzipped_action(
    deployed: tuple[Path, dict[str, str | bytes], str], ow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, _, ref = deployed
    stage = tmp_path / "action"  # what the build puts at the zip root: the app's folder + __main__.py
    shutil.copytree(root / "src", stage)
    monkeypatch.syspath_prepend(str(stage))  # the runtime runs __main__.py with the zip root on sys.path
    web_main = _load_main(stage, "web", root / "deploy")
    out = web_main({"__ow_method": "get", "__ow_path": "/devices/7", "__ow_query": "verbose=yes", "__ow_headers": {}})
    assert out["statusCode"] == 200 and json.loads(out["body"]) == {"id": "7", "verbose": ["yes"]}
    resize_main = _load_main(stage, "resize", root / "deploy")
    assert resize_main({"width": 4, "__corefn_app": "owapp:app", "__corefn_handler": "resize"}) == {"width": 8}
    storage_main = _load_main(stage, "on_object", root / "deploy")
    monkeypatch.setenv("COREFN_WEBHOOK_TOKEN", "t0ken")
    note = (EVENTS.parent / "knative" / "storage-minio-webhook.json").read_text()  # a real MinIO notification
    request = {"__ow_method": "post", "__ow_path": "", "__ow_query": "", "__ow_body": note,
               "__ow_headers": {"content-type": "application/json", "authorization": "Bearer t0ken"}}  # fmt: skip
    answer = storage_main(request)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["handled"] == 1
    assert storage_main({**request, "__ow_headers": {"authorization": "Bearer guess"}})["statusCode"] == 401
    assert storage_main({**request, "__ow_method": "head", "__ow_body": ""}) == {"statusCode": 200}  # MinIO's target probe
    assert storage_main({**request, "__ow_method": "get"})["statusCode"] == 405
    bad = storage_main({**request, "__ow_body": json.dumps({"EventName": "s3:ObjectCreated:Put", "Records": [{"eventName": "s3:ObjectCreated:Put"}]})})
    assert bad["statusCode"] == 400 and "Records[0].s3" in json.loads(bad["body"])["error"]
    pinned = storage_main(json.loads((EVENTS / "stream-kafka-batch.json").read_text()))  # wrong trigger for this action
    assert pinned["error"]["type"] == "ConfigurationError"


def test_build_script_fails_loudly_without_the_vendored_sources(deployed: tuple[Path, dict[str, str | bytes], str], tmp_path: Path) -> None:
    """--no-bundle output (no src/): build.sh exits non-zero naming the fix, from any folder."""
    root = deployed[0]
    done = subprocess.run(["bash", str(root / "deploy" / "build.sh")], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "holds no vendored corefn" in done.stderr and "without --no-bundle" in done.stderr
    assert not (root / "deploy" / "build").exists()


def test_deploy_script_refuses_any_unset_variable_the_manifest_binds(deployed: tuple[Path, dict[str, str | bytes], str], manifest: dict[str, Any]) -> None:
    root, files, _ = deployed
    script = files["deploy.sh"]
    assert isinstance(script, str)
    subprocess.run(["bash", "-n", str(root / "deploy" / "deploy.sh")], check=True, timeout=30)
    referenced = {value[1:] for value in _scalars(manifest) if isinstance(value, str) and value.startswith("$")}
    checked = set(next(line for line in script.splitlines() if line.startswith("for name in")).removeprefix("for name in ").removesuffix("; do").split())
    assert referenced and referenced <= checked and {"MINIO_ALIAS", "MINIO_QUEUE_DIR"} <= checked
    env = {"PATH": "/usr/bin:/bin", **{name: "x" for name in checked}, "KAFKA_USER": ""}  # one set empty
    done = subprocess.run(["bash", str(root / "deploy" / "deploy.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.strip().endswith(": KAFKA_USER")
    assert 'mc event add "$MINIO_ALIAS/originals" "arn:minio:sqs::corefn_on_object:webhook" --event put,delete' in script


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _scalars(item)]
    return [value]


def test_each_action_carries_only_what_its_handler_and_sinks_need() -> None:
    """The IoT site's actions: Pillow only where the photo handler imports the pipeline's imaging,
    boto3 only with an object store, kafka-python with a publisher or a queue, the SQL driver with SQL."""
    files = adapter.generate(load_app("examples/iot_site/app.py:app"), "examples/iot_site/app.py:app")

    def pins(action: str) -> set[str]:
        text = files[f"actions/{action}/requirements.txt"]
        assert isinstance(text, str)
        return {line.split("==")[0].lower() for line in text.splitlines() if line and not line.startswith("#")}

    assert "pillow" in pins("process_photo") and not any("pillow" in pins(a) for a in ("web", "store_reading", "summarize", "aggregate_telemetry"))
    assert "boto3" in pins("web") and "boto3" not in pins("summarize") | pins("store_reading") | pins("aggregate_telemetry")
    assert {"kafka-python", "psycopg-binary"} <= pins("store_reading") and "kafka-python" not in pins("process_photo")
    assert pins("summarize") == {"sqlalchemy", "psycopg", "psycopg-binary", "typing_extensions"}


def test_a_zip_over_the_code_limit_fails_with_the_numbers_and_the_remedy(deployed: tuple[Path, dict[str, str | bytes], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import corefn
    import corefn_openwhisk
    from corefn.errors import ConfigurationError
    from corefn_openwhisk import build

    folder = tmp_path / "bundle"
    for package in (corefn, corefn_openwhisk):
        source = Path(str(package.__file__)).parent
        shutil.copytree(source, folder / "src" / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "src" / "blob.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB that deflate cannot shrink much
    for action in ("small", "big"):
        (folder / "actions" / action).mkdir(parents=True)
        (folder / "actions" / action / "__main__.py").write_text("def main(params):\n    return params\n")
        (folder / "actions" / action / "requirements.txt").write_text("# nothing from PyPI\n")
    (folder / "actions" / "stale").mkdir()  # left by an older generation: not in the manifest, not built
    (folder / "actions" / "stale" / "__main__.py").write_text("")
    (folder / "manifest.yaml").write_text(
        'packages:\n  p:\n    actions:\n      small:\n        function: "build/small.zip"\n      big:\n        function: "build/big.zip"\n'
    )
    monkeypatch.setenv("COREFN_BUILD_CACHE", str(tmp_path / "cache"))
    built = {b.action: b for b in build.build(folder)}
    assert sorted(built) == ["big", "small"] and sorted(p.name for p in (folder / "build").iterdir()) == ["big.zip", "small.zip"]
    assert built["big"].encoded == 4 * -(-built["big"].size // 3) and built["big"].encoded < build.code_limit()
    assert build.code_limit() == 48 * 2**20
    limit = built["big"].encoded - 1
    monkeypatch.setattr(build, "code_limit", lambda: limit)
    with pytest.raises(ConfigurationError) as failed:
        build.build(folder)
    message = str(failed.value)
    assert f"{built['big'].size:,} bytes zipped, {built['big'].encoded:,} bytes base64-encoded" in message
    assert f"{limit:,}-byte" in message and "Docker action" in message and "action 'small'" in message


def test_unsupported_handlers_are_reported_not_dropped_silently() -> None:
    from corefn import App

    app = App("mixed")
    app.queue("orders", name="take_order")(lambda event: None)
    app.topic("news", name="on_news")(lambda event: None)
    app.invoke("ping")(lambda event: None)
    files = adapter.generate(app, "mixed:app")
    text = files["manifest.yaml"]
    assert isinstance(text, str)
    assert "# NOT DEPLOYED (Apache OpenWhisk has no trigger for it): topic handler 'on_news'" in text
    assert set(yaml.safe_load(text)["packages"]["mixed"]["actions"]) == {"take_order", "ping"}
