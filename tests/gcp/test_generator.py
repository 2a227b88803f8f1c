"""What ``corefn deploy APP --cloud gcp`` writes: one target per handler in main.py, a deploy.sh
bash accepts with the right trigger flags per kind, and one env file per function."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from corefn import App
from corefn.errors import ConfigurationError
from corefn_gcp import adapter
from corefn_gcp.generator import function_name, plan, render


def test_main_has_one_target_per_handler_with_its_signature(generated: Path) -> None:
    tree = ast.parse((generated / "main.py").read_text())
    targets = {
        node.name: ast.unparse(node.decorator_list[0])
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    assert targets == {
        "get_device": "functions_framework.http",
        "make_png": "functions_framework.http",
        "on_upload": "functions_framework.cloud_event",
        "on_alert": "functions_framework.http",
        "on_order": "functions_framework.http",
        "on_reading": "functions_framework.http",
        "every_five": "functions_framework.http",
        "on_device_change": "functions_framework.cloud_event",
        "resize": "functions_framework.http",
    }


def test_deploy_script_is_valid_bash_with_trigger_flags_per_kind(generated: Path) -> None:
    script = (generated / "deploy.sh").read_text()
    bash = shutil.which("bash")
    assert bash is not None
    assert subprocess.run([bash, "-n", str(generated / "deploy.sh")], capture_output=True).returncode == 0
    commands = script.replace("\\\n    ", "").splitlines()

    def deploy_of(name: str) -> str:
        return next(line for line in commands if line.startswith(f"gcloud functions deploy {name} "))

    assert "--trigger-http --allow-unauthenticated" in deploy_of("gcp-test-get-device")
    assert "--entry-point=on_upload" in deploy_of("gcp-test-on-upload-created")
    assert "type=google.cloud.storage.object.v1.finalized" in deploy_of("gcp-test-on-upload-created")
    assert "type=google.cloud.storage.object.v1.deleted" in deploy_of("gcp-test-on-upload-deleted")
    assert "--trigger-event-filters=bucket=originals --retry" in deploy_of("gcp-test-on-upload-deleted")
    assert "--trigger-topic=alerts --retry" in deploy_of("gcp-test-on-alert")
    assert "--runtime=python311" in deploy_of("gcp-test-on-alert") and "--gen2" in deploy_of("gcp-test-on-alert")
    assert "document.v1.written" in deploy_of("gcp-test-on-device-change") and "document='devices/{doc}'" in script
    assert "--no-allow-unauthenticated" in deploy_of("gcp-test-every-five")
    job = next(line for line in commands if line.startswith("gcloud scheduler jobs create http gcp-test-every-five"))
    assert "--schedule='*/5 * * * *'" in job and "--time-zone=Asia/Seoul" in job and "--headers=X-Corefn-Timer=every_five" in job
    order_sub = next(line for line in commands if line.startswith("gcloud pubsub subscriptions create gcp-test-on-order-push"))
    assert "--dead-letter-topic=orders-dead --max-delivery-attempts=5" in order_sub
    stream_sub = next(line for line in commands if line.startswith("gcloud pubsub subscriptions create gcp-test-on-reading-push"))
    assert "--topic=telemetry" in stream_sub and "--enable-message-ordering" in stream_sub


def test_env_files_name_the_app_and_the_handler(generated: Path) -> None:
    env = yaml.safe_load((generated / "env" / "gcp-test-on-order.yaml").read_text())
    assert env == {"COREFN_APP": "tests.gcp.sample_app:app", "COREFN_HANDLER": "on_order"}
    deployed = {p.stem for p in (generated / "env").iterdir()}
    assert "gcp-test-on-upload-created" in deployed and "gcp-test-on-upload-deleted" in deployed


def test_options_reach_the_deploy_command() -> None:
    app = App("Shop_API")

    @app.queue("jobs", timeout=30, memory=512, concurrency=3, warm=True, max_attempts=200, env={"MODE": "fast"})
    def work(message: object) -> None: ...

    files = render(plan(app, "shop.py:app"))
    script = str(files["deploy.sh"]).replace("\\\n    ", "")
    assert "--memory=512Mi" in script and "--timeout=30s" in script and "--max-instances=3" in script
    assert "--max-delivery-attempts=100" in script and "--dead-letter-topic=jobs-dead-letter" in script  # Pub/Sub's cap
    assert "--ack-deadline=30" in script
    assert "gcloud scheduler jobs create http shop-api-work-warm" in script and "X-Corefn-Warmup=1" in script
    assert yaml.safe_load(str(files["env/shop-api-work.yaml"])) == {
        "COREFN_APP": "shop:app", "COREFN_HANDLER": "work", "COREFN_TIMEOUT": "30", "MODE": "fast",
    }  # fmt: skip


def test_handler_names_that_collide_as_python_targets_are_refused() -> None:
    app = App("clash")

    @app.invoke(name="a-b")
    def one(event: object) -> None: ...

    @app.invoke(name="a_b")
    def two(event: object) -> None: ...

    with pytest.raises(ConfigurationError, match="both become main.py target"):
        adapter.generate(app, "clash.py:app")


def test_function_names_follow_cloud_functions_rules() -> None:
    app = App("9lives")

    @app.invoke(name="Resize.Image_" + "x" * 49)
    def resize(event: object) -> None: ...

    name = function_name(app, app.handlers[0])
    assert name[0].isalpha() and len(name) <= 63 and name == name.lower() and "." not in name and "_" not in name
