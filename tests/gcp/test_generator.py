"""What ``corefn deploy APP --cloud gcp`` writes: one target per handler in main.py, a deploy.sh
bash accepts with the right trigger flags per kind, and one env file per function (written by the
script, since bucket names carry its PREFIX). tests/gcp/test_deploy_script.py runs the scripts."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from corefn import App
from corefn.errors import ConfigurationError
from corefn_gcp import adapter
from corefn_gcp.generator import function_name, generate


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
        "on_upload": "functions_framework.http",
        "on_upload_jpg": "functions_framework.http",
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
    commands = [line.removeprefix("again ") for line in script.replace("\\\n    ", "").splitlines()]

    def deploy_of(name: str) -> str:
        return next(line for line in commands if line.startswith(f"gcloud functions deploy {name} "))

    assert "--trigger-http --allow-unauthenticated" in deploy_of("gcp-test-get-device")
    # a storage handler: the bucket's Pub/Sub notification, then corefn's push subscription with a dead letter
    assert "--entry-point=on_upload --env-vars-file" in deploy_of("gcp-test-on-upload")
    assert "--trigger-http --no-allow-unauthenticated" in deploy_of("gcp-test-on-upload")
    assert "eventarc" not in deploy_of("gcp-test-on-upload") and "--trigger-event-filters" not in deploy_of("gcp-test-on-upload")
    notify = next(line.strip() for line in commands if "gcloud storage buckets notifications create" in line)
    assert notify == ('gcloud storage buckets notifications create "gs://${PREFIX}-originals" --topic=gcp-test-originals-events '
                      "--event-types=OBJECT_DELETE,OBJECT_FINALIZE --payload-format=json --skip-topic-setup")  # fmt: skip
    jpg = next(line.strip() for line in commands if 'notifications create "gs://${PREFIX}-uploads"' in line)
    assert "--object-prefix" not in jpg and ".jpg" not in jpg  # GCS filters by prefix only: the suffix is checked at dispatch
    upload_sub = next(line.strip() for line in commands if line.strip().startswith("gcloud pubsub subscriptions create gcp-test-on-upload-push"))
    assert "--topic=gcp-test-originals-events" in upload_sub
    assert "--dead-letter-topic=gcp-test-originals-events-dead-letter --max-delivery-attempts=5" in upload_sub
    assert 'again gcloud functions deploy gcp-test-on-device-change' in script  # Firestore stays Eventarc: retried while its agents propagate
    # a topic handler gets corefn's push subscription (Eventarc's own takes no dead-letter policy)
    assert "--trigger-http --no-allow-unauthenticated" in deploy_of("gcp-test-on-alert")
    assert "--runtime=python312" in deploy_of("gcp-test-on-alert") and "--gen2" in deploy_of("gcp-test-on-alert")
    assert '--service-account="$(sa gcp-test-on-alert)"' in deploy_of("gcp-test-on-alert")
    assert "document.v1.written" in deploy_of("gcp-test-on-device-change") and "document='devices/{doc}'" in script
    assert "--no-allow-unauthenticated" in deploy_of("gcp-test-every-five")
    job = next(line.strip() for line in commands if line.strip().startswith("gcloud scheduler jobs create http gcp-test-every-five"))
    assert "--schedule='*/5 * * * *'" in job and "--time-zone=Asia/Seoul" in job and "--headers=X-Corefn-Timer=every_five" in job
    order_sub = next(line.strip() for line in commands if line.strip().startswith("gcloud pubsub subscriptions create gcp-test-on-order-push"))
    assert "--dead-letter-topic=orders-dead --max-delivery-attempts=5" in order_sub
    stream_sub = next(line.strip() for line in commands if line.strip().startswith("gcloud pubsub subscriptions create gcp-test-on-reading-push"))
    assert "--topic=telemetry" in stream_sub and "--enable-message-ordering" in stream_sub
    assert "--dead-letter-topic=telemetry-dead-letter" in stream_sub  # streams poison after 5 attempts too


def _env_file(script: str, function: str) -> dict[str, str]:
    """The env file the script writes for ``function``, with the script's variables set."""
    body = script.split(f'cat > "$ENV_DIR/{function}.yaml" <<EOF\n', 1)[1].split("\nEOF\n", 1)[0]
    expanded = subprocess.run(["bash", "-c", f"PROJECT=p PREFIX=x REGION=r; cat <<EOF\n{body}\nEOF"], capture_output=True, text=True, check=True)
    loaded: dict[str, str] = yaml.safe_load(expanded.stdout)
    return loaded


def test_env_files_name_the_app_and_the_handler(generated: Path) -> None:
    script = (generated / "deploy.sh").read_text()
    env = _env_file(script, "gcp-test-on-order")
    assert env == {"COREFN_APP": "tests.gcp.sample_app:app", "COREFN_HANDLER": "on_order", "GOOGLE_CLOUD_PROJECT": "p"}
    upload = _env_file(script, "gcp-test-on-upload")  # notifications name the physical bucket: the handler sees the logical one
    assert json.loads(upload["COREFN_NAMES"]) == {"x-originals": "originals", "x-uploads": "uploads"}


def test_options_reach_the_deploy_command() -> None:
    app = App("Shop_API")

    @app.queue("jobs", timeout=30, memory=512, concurrency=3, warm=True, max_attempts=200, env={"MODE": "fast"})
    def work(message: object) -> None: ...

    files = generate(app, "shop.py:app")
    script = str(files["deploy.sh"]).replace("\\\n    ", "")
    assert "--memory=512Mi" in script and "--timeout=30s" in script and "--max-instances=3" in script
    assert "--max-delivery-attempts=100" in script and "--dead-letter-topic=jobs-dead-letter" in script  # Pub/Sub's cap
    assert "--ack-deadline=30" in script
    assert "gcloud scheduler jobs create http shop-api-work-warm" in script and "X-Corefn-Warmup=1" in script
    assert _env_file(str(files["deploy.sh"]), "shop-api-work") == {
        "COREFN_APP": "shop:app", "COREFN_HANDLER": "work", "GOOGLE_CLOUD_PROJECT": "p", "COREFN_TIMEOUT": "30", "MODE": "fast",
    }  # fmt: skip


def test_user_environment_values_reach_the_function_verbatim() -> None:
    app = App("quoting")

    @app.invoke(env={"PATTERN": 'a$HOME`x`\\n"q"', "LOOKS_GENERATED": "${PREFIX}-x"})
    def work(event: object) -> None: ...

    env = _env_file(str(generate(app, "q.py:app")["deploy.sh"]), "quoting-work")
    assert env["PATTERN"] == 'a$HOME`x`\\n"q"' and env["LOOKS_GENERATED"] == "${PREFIX}-x"


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


def test_a_cache_user_gets_its_url_from_a_secret_and_the_vpc() -> None:
    app = App("cachey")
    hot = app.cache("hot")
    app.object_store("files")

    @app.http("GET", "/a", uses=[hot])
    def fast(req: object) -> str:
        return "ok"

    @app.http("GET", "/b", uses=["files"])
    def slow(req: object) -> str:
        return "ok"

    script = str(generate(app, "cachey.py:app")["deploy.sh"]).replace("\\\n    ", "")
    fast_deploy = next(line for line in script.splitlines() if line.startswith("gcloud functions deploy cachey-fast "))
    slow_deploy = next(line for line in script.splitlines() if line.startswith("gcloud functions deploy cachey-slow "))
    assert "--set-secrets=COREFN_SINK_HOT=cachey-sink-hot:latest" in fast_deploy and '--vpc-connector="$CONNECTOR"' in fast_deploy
    assert "--vpc-connector" not in slow_deploy and "COREFN_SINK_HOT" not in _env_file(script, "cachey-slow")
    assert _env_file(script, "cachey-slow")["COREFN_SINK_FILES"] == "gs://x-files"
    assert "gcloud secrets create cachey-sink-hot --replication-policy=automatic" in script


def test_a_declared_topic_subscription_is_the_push_subscriptions_name() -> None:
    app = App("subs")

    @app.topic("news", subscription="indexer")
    def index(message: object) -> None: ...

    script = str(generate(app, "subs.py:app")["deploy.sh"])
    assert "gcloud pubsub subscriptions create indexer --topic=news" in script
