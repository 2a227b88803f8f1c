"""``corefn deploy --cloud openwhisk``: the wskdeploy manifest checked against the wskdeploy
specification's rules, and each generated ``__main__.py`` imported and called as the runtime
would call it from the unzipped action."""

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
from corefn_openwhisk.generator import zip_ref
from tests.openwhisk import sample_app

EVENTS = Path(__file__).parent.parent / "events" / "openwhisk"
#: feeds of the OpenWhisk / IBM Cloud Functions catalog (openwhisk-package-alarms, -cloudant,
#: -kafka, and IBM's /whisk.system/cos)
KNOWN_FEEDS = {
    "/whisk.system/alarms/alarm",
    "/whisk.system/alarms/interval",
    "/whisk.system/alarms/once",
    "/whisk.system/cos/changes",
    "/whisk.system/cloudant/changes",
    "/whisk.system/messaging/messageHubFeed",
    "/whisk.system/messaging/kafkaFeed",
}
# wskdeploy specification (specification/html/spec_*.md): the keys each entity may carry
PACKAGE_KEYS = {"version", "license", "description", "dependencies", "inputs", "actions", "sequences", "triggers", "rules", "apis", "annotations"}
ACTION_KEYS = {"version", "function", "code", "runtime", "inputs", "outputs", "limits", "feed", "web", "web-export", "raw-http", "docker", "native", "final", "main", "annotations", "description"}
TRIGGER_KEYS = {"feed", "credential", "inputs", "annotations", "description"}
LIMIT_RANGES = {"memorySize": (128, 2048), "timeout": (100, 600000), "logSize": (0, 10)}


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
        + [f"actions/{a}/__main__.py" for a in ("web", "on_object", "on_record", "on_change", "nightly_report", "resize")]
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
    assert package["actions"]["web"]["inputs"] == {
        "__corefn_env_COREFN_SINK_THUMBNAILS": "$COREFN_SINK_THUMBNAILS",
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
    assert triggers["on_object-storage"]["inputs"] == {"bucket": "originals", "event_types": "all"}
    kafka = triggers["on_record-stream"]["inputs"]
    assert kafka["topic"] == "mytopic" and kafka["isBinaryKey"] is True and kafka["isBinaryValue"] is True
    assert kafka["kafka_brokers_sasl"] == "$KAFKA_BROKERS_SASL"
    assert package["actions"]["on_record"]["inputs"]["isBinaryValue"] is True  # the flags travel with the payload
    assert triggers["on_change-nosql"]["inputs"]["dbname"] == "orders"
    resize = package["actions"]["resize"]
    assert resize["limits"] == {"memorySize": 512, "timeout": 30000}
    assert resize["inputs"] == {
        "__corefn_app": "owapp:app",
        "__corefn_handler": "resize",
        "__corefn_env_COREFN_SINK_THUMBNAILS": "$COREFN_SINK_THUMBNAILS",
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
    _, folder, source = zip_ref(ref)
    stage = tmp_path / "action"  # what build.sh puts at the zip root: the app's folder + __main__.py
    shutil.copytree(root / "src", stage)
    monkeypatch.syspath_prepend(str(stage))  # the runtime runs __main__.py with the zip root on sys.path
    assert (folder, source) == (f"{root}/src", ".")
    web_main = _load_main(stage, "web", root / "deploy")
    out = web_main({"__ow_method": "get", "__ow_path": "/devices/7", "__ow_query": "verbose=yes", "__ow_headers": {}})
    assert out["statusCode"] == 200 and json.loads(out["body"]) == {"id": "7", "verbose": ["yes"]}
    resize_main = _load_main(stage, "resize", root / "deploy")
    assert resize_main({"width": 4, "__corefn_app": "owapp:app", "__corefn_handler": "resize"}) == {"width": 8}
    cos_main = _load_main(stage, "on_object", root / "deploy")
    assert cos_main(json.loads((EVENTS / "storage-cos-write.json").read_text()))["ok"] is True
    pinned = cos_main(json.loads((EVENTS / "stream-kafka-batch.json").read_text()))  # wrong trigger for this action
    assert pinned["error"]["type"] == "ConfigurationError"


def test_build_script(deployed: tuple[Path, dict[str, str | bytes], str]) -> None:
    root, files, _ = deployed
    script = files["build.sh"]
    assert isinstance(script, str)
    subprocess.run(["bash", "-n", str(root / "deploy" / "build.sh")], check=True, timeout=30)
    loop = next(line for line in script.splitlines() if line.startswith("for action in"))
    assert set(loop.removeprefix("for action in ").removesuffix("; do").split()) == {
        "web", "on_object", "on_record", "on_change", "nightly_report", "resize"
    }
    assert '"$HERE/actions/$action/__main__.py" "$stage/__main__.py"' in script and "python:3.11" in script


def test_unsupported_handlers_are_reported_not_dropped_silently() -> None:
    from corefn import App

    app = App("mixed")
    app.queue("orders", name="take_order")(lambda event: None)
    app.invoke("ping")(lambda event: None)
    files = adapter.generate(app, "mixed:app")
    text = files["manifest.yaml"]
    assert isinstance(text, str)
    assert "# NOT DEPLOYED (OpenWhisk has no trigger for it): queue handler 'take_order'" in text
    assert set(yaml.safe_load(text)["packages"]["mixed"]["actions"]) == {"ping"}


def test_build_script_makes_self_contained_zips(deployed: tuple[Path, dict[str, str | bytes], str], tmp_path: Path) -> None:
    """Run build.sh (with corefn copied from this checkout instead of pip-installed), unzip an
    action and call its main() in a Python without site-packages: the zip must be enough."""
    import sys
    import zipfile

    import corefn
    import corefn_openwhisk

    if shutil.which("zip") is None:
        pytest.skip("zip is not installed")
    root = deployed[0]
    vendor = tmp_path / "vendor"
    for package in (corefn, corefn_openwhisk):
        source = Path(str(package.__file__)).parent
        shutil.copytree(source, vendor / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    build = tmp_path / "deploy"
    shutil.copytree(root / "deploy", build)
    env = {"PATH": "/usr/bin:/bin", "COREFN_VENDOR": str(vendor)}  # APP_SRC defaults to the app's folder
    subprocess.run(["bash", str(build / "build.sh")], check=True, env=env, timeout=60, capture_output=True)
    unzipped = tmp_path / "resize"
    with zipfile.ZipFile(build / "build" / "resize.zip") as archive:
        assert "__main__.py" in archive.namelist() and "owapp.py" in archive.namelist()
        archive.extractall(unzipped)
    code = (
        "import sys, json; sys.path.insert(0, '.');"
        "import importlib.util as u; s = u.spec_from_file_location('action', '__main__.py'); m = u.module_from_spec(s);"
        "s.loader.exec_module(m); print(json.dumps(m.main({'width': 5})))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=unzipped, capture_output=True, text=True, timeout=60,
        env={"__OW_ACTIVATION_ID": "a1", "__OW_DEADLINE": "9999999999999", "COREFN_LOG_FORMAT": "text"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"width": 10}


def test_module_reference_copies_the_package_or_module() -> None:
    from corefn_openwhisk.generator import build_script, zip_ref

    assert zip_ref("shop.api:app") == ("shop.api:app", "", "shop")
    assert zip_ref("src/shop_app.py:application") == ("shop_app:application", "src", ".")
    script = build_script(load_app("tests.openwhisk.sample_app:app"), "tests.openwhisk.sample_app:app", [])
    assert "for src in tests tests.py; do" in script and 'APP_SRC="${APP_SRC:-$PWD}"' in script
