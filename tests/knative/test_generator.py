"""``corefn deploy --cloud knative``: manifests valid against Knative's own CRD schemas (vendored
under crds/, see its README) and Kubernetes' schemas for core kinds, with what each declaration
promises: a pinned Service per handler, its feed, delivery from the retry options, secrets only
by reference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from corefn.errors import ConfigurationError
from corefn.loader import load_app
from corefn_knative import adapter
from corefn_knative.generator import k8s_name, manifests

HERE = Path(__file__).parent
APP_REF = str(HERE / "sample_app.py") + ":app"
CRDS = {(d["group"] + "/" + d["version"], d["kind"]): d for d in (json.loads(p.read_text()) for p in (HERE / "crds").glob("*.json"))}


def strict(schema: Any) -> Any:
    """The CRD schema as the API server's strict field validation applies it: an object with
    ``properties`` accepts no other field unless it says ``x-kubernetes-preserve-unknown-fields``
    (the server would prune or, with ``kubectl apply --validate=strict``, refuse them)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_schema(api_version: str, kind: str) -> Any:
    """The vendored schema of ``kind``, strict, with the fields every object has and CRD schemas
    leave implicit (``apiVersion``, ``kind``, ``metadata``: the API server checks those)."""
    schema = dict(CRDS[(api_version, kind)]["openAPIV3Schema"])
    schema["properties"] = {
        "apiVersion": {"type": "string", "enum": [api_version]},
        "kind": {"type": "string", "enum": [kind]},
        "metadata": {"type": "object"},
        **schema["properties"],
    }
    return strict(schema)


def documents(ref: str = APP_REF) -> list[tuple[str, dict[str, Any]]]:
    app = load_app(ref)
    return [(path, doc) for path, docs in manifests(app, ref).items() for doc in docs]


ROOT = HERE.parent.parent
EXAMPLE_REFS = [f"{ROOT / 'examples' / name / 'app.py'}:app" for name in ("image_pipeline", "iot_site")]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


FLOW_REF = str(HERE / "flow_app.py") + ":app"


@pytest.mark.parametrize("ref", [APP_REF, *EXAMPLE_REFS, FLOW_REF], ids=["sample", "image_pipeline", "iot_site", "flows"])
def test_every_custom_resource_validates_against_its_knative_crd_schema(ref: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(ref.rsplit(":", 1)[0]).parent))
    seen = set()
    for path, doc in documents(ref):
        if doc["apiVersion"] == "v1":
            continue
        crd = CRDS.get((doc["apiVersion"], doc["kind"]))
        assert crd is not None, f"{path}: no vendored schema for {doc['apiVersion']} {doc['kind']}"
        jsonschema.validate(doc, crd_schema(doc["apiVersion"], doc["kind"]))
        seen.add(doc["kind"])
    if ref == APP_REF:
        assert seen == {"Service", "Trigger", "PingSource", "KafkaSource", "Broker"}


def test_the_crd_check_can_fail() -> None:
    service = next(iter(by_kind("Service").values()))
    service["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(service, crd_schema("serving.knative.dev/v1", "Service"))
    trigger = next(iter(by_kind("Trigger").values()))
    trigger["spec"]["delivery"]["retry"] = "three"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(trigger, crd_schema("eventing.knative.dev/v1", "Trigger"))


def test_core_kinds_pass_kubernetes_validate_strict(tmp_path: Path) -> None:
    core = [doc for ref in (APP_REF, FLOW_REF) for docs in manifests(load_app(ref), ref).values() for doc in docs
            if doc["apiVersion"] == "v1"]  # fmt: skip
    assert {d["kind"] for d in core} == {"ServiceAccount"} and any(d["metadata"]["name"] == "kn-flows-flows" for d in core)
    good = tmp_path / "core.yaml"
    good.write_text("".join(f"---\n{json.dumps(d)}\n" for d in core))
    done = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", str(good)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({**core[0], "automountServiceAccountTokens": False}))
    done = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0


def test_each_handler_gets_a_pinned_service_and_its_own_service_account() -> None:
    services, accounts = by_kind("Service"), by_kind("ServiceAccount")
    app = load_app(APP_REF)
    assert set(services) == set(accounts) == {k8s_name(app.name, s.name) for s in app.handlers}
    for name, service in services.items():
        revision = service["spec"]["template"]["spec"]
        assert revision["serviceAccountName"] == name
        env = {e["name"]: e for e in revision["containers"][0]["env"]}
        assert env["COREFN_HANDLER"]["value"] and env["COREFN_APP"]["value"] == "sample_app:app"
        keys: tuple[str, ...] = ("COREFN_SINK_REPORTS",) if name == "kn-test-get-device" else ("COREFN_SINK_REPORTS", "COREFN_SINK_READINGS_DB", "COREFN_SINK_ALERTS")
        if name == "kn-test-on-upload":
            keys += ("COREFN_WEBHOOK_TOKEN",)
        assert {k for k, e in env.items() if "valueFrom" in e} == set(keys)  # uses= narrows them
        for key in keys:
            assert env[key]["valueFrom"]["secretKeyRef"] == {"name": "kn-test-secrets", "key": key}
    device = services["kn-test-get-device"]
    template = device["spec"]["template"]
    assert template["spec"]["timeoutSeconds"] == 30 and template["spec"]["containerConcurrency"] == 1
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/max-scale"] == "10"
    assert template["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    assert "networking.knative.dev/visibility" not in device["metadata"]["labels"]
    assert services["kn-test-on-job"]["spec"]["template"]["metadata"]["annotations"] == {"autoscaling.knative.dev/min-scale": "1"}
    assert services["kn-test-nightly"]["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"


def test_feeds_filters_and_delivery_follow_the_declarations() -> None:
    triggers, pings, kafka = by_kind("Trigger"), by_kind("PingSource"), by_kind("KafkaSource")
    order = triggers["kn-test-on-order"]["spec"]
    assert order["filter"]["attributes"] == {"type": "com.example.orders.placed"}
    assert order["delivery"]["retry"] == 2 and order["delivery"]["backoffPolicy"] == "exponential"
    assert order["delivery"]["deadLetterSink"]["ref"]["name"] == "kn-test-dead-letter"
    assert order["subscriber"]["ref"] == {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "kn-test-on-order"}
    uploads = {t["spec"]["filter"]["attributes"]["type"]: t["spec"] for n, t in triggers.items() if n.startswith("kn-test-on-upload")}
    assert set(uploads) == {"dev.corefn.storage.created", "dev.corefn.storage.deleted"}
    assert all(t["delivery"]["retry"] == 3 and t["delivery"]["deadLetterSink"]["ref"]["name"] == "originals-dead" for t in uploads.values())
    nightly = pings["kn-test-nightly"]["spec"]
    assert (nightly["schedule"], nightly["timezone"]) == ("0 3 * * *", "Europe/Paris")
    reading = kafka["kn-test-on-reading"]["spec"]
    assert reading["delivery"]["retry"] == 100 and reading["delivery"]["backoffDelay"] == "PT2S"  # max_attempts=0, backoff=2
    assert reading["topics"] == ["telemetry"] and reading["ordering"] == "ordered" and reading["initialOffset"] == "earliest"
    assert kafka["kn-test-on-job"]["spec"]["ordering"] == "unordered"
    assert set(by_kind("Broker")) == {"default", "kn-test-dead-letter", "originals-dead"}


def test_no_secret_value_is_ever_written_and_the_readme_says_how_to_create_it() -> None:
    app = load_app(APP_REF)
    files = adapter.generate(app, APP_REF)
    assert not any('"kind": "Secret"' in str(text) for text in files.values())
    readme = str(files["README.md"])
    assert "kubectl create secret generic kn-test-secrets" in readme and "--from-literal=COREFN_SINK_REPORTS=" in readme
    assert "MinIO" in readme and "/_corefn/s3" in readme and "PostgreSQL" in readme
    script = str(files["codeengine.sh"])
    assert "ibmcloud ce subscription cron create" in script and "--time-zone Europe/Paris" in script
    assert "ibmcloud ce subscription cos create" in script and "--event-type all" in script
    assert "ibmcloud ce subscription kafka create" in script
    assert 'CMD ["python", "-m", "corefn_knative.runtime"]' in str(files["Dockerfile"])
    assert "nightly: a PingSource does not retry" in readme and "on_reading: Knative retries a fixed number" in readme


def test_the_generated_script_is_valid_bash(tmp_path: Path) -> None:
    script = tmp_path / "codeengine.sh"
    script.write_text(str(adapter.generate(load_app(APP_REF), APP_REF)["codeengine.sh"]))
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_the_script_gives_code_engine_one_broker_per_flag(tmp_path: Path) -> None:
    """``ibmcloud ce subscription kafka create --broker`` takes one server and is repeated
    (https://cloud.ibm.com/docs/codeengine?topic=codeengine-cli#cli-subscription-kafka-create):
    the script is run with a stand-in ``ibmcloud`` that records its arguments."""
    script = tmp_path / "codeengine.sh"
    script.write_text(str(adapter.generate(load_app(APP_REF), APP_REF)["codeengine.sh"]))
    calls = tmp_path / "calls"
    stub = tmp_path / "bin" / "ibmcloud"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}:/usr/bin:/bin", "IMAGE": "icr.io/ns/app:1", "KAFKA_BROKERS": "b-0:9093,b-1:9093",
           "KAFKA_SECRET": "kafka-creds", "BUCKET_ORIGINALS": "my-originals"}  # fmt: skip
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    kafka = [line for line in calls.read_text().splitlines() if line.startswith("ce subscription kafka create")]
    assert kafka and all("--broker b-0:9093 --broker b-1:9093 --topic" in line for line in kafka)
    missing = subprocess.run(["bash", str(script)], env={**env, "KAFKA_BROKERS": ""}, capture_output=True, text=True)
    assert missing.returncode != 0 and "KAFKA_BROKERS" in missing.stderr


def test_kinds_knative_cannot_feed_are_refused() -> None:
    from corefn import App

    app = App("feeds")

    @app.nosql("devices")
    def changed(event: Any) -> None: ...

    with pytest.raises(ConfigurationError, match="change-feed"):
        manifests(app, "x:app")


def test_long_names_stay_valid_labels() -> None:
    name = k8s_name("a-very-long-application-name-that-goes-on", "and_a_handler_name_that_is_longer_still")
    assert len(name) <= 50 and name[0].isalpha() and name.replace("-", "").isalnum() and name == name.lower()


def test_retry_policies_compile_to_knative_delivery() -> None:
    from corefn import App
    from corefn.policy import compile_policies

    app = App("policies")
    app.object_store("failed-uploads")

    @app.topic("orders", max_attempts=1, backoff=0.25, dead_letter="orders-poison")
    def once(message: Any) -> None: ...

    @app.storage("photos", dead_letter="failed-uploads")
    def photos(event: Any) -> None: ...

    @app.get("/x")
    def sync(request: Any) -> None: ...

    compiled = compile_policies(app, "knative")
    assert compiled["once"].settings["delivery"] == {
        "retry": 0, "backoffPolicy": "exponential", "backoffDelay": "PT0.25S",
        "deadLetterSink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "orders-poison"}},
    }  # fmt: skip
    assert compiled["photos"].settings["delivery"]["deadLetterSink"]["ref"]["name"] == "policies-dead-letter"
    assert "cannot dead-letter to bucket 'failed-uploads'" in compiled["photos"].notes[0]
    assert compiled["sync"].settings == {} and compiled["sync"].notes == ()


def test_code_engine_sizes_come_from_ibms_vcpu_memory_table() -> None:
    """https://cloud.ibm.com/docs/codeengine?topic=codeengine-mem-cpu-combo: the least memory
    covering the handler's, the most vCPU among those pairs; past 48 GB is an error."""
    from corefn_knative.codeengine import cpu_memory

    assert cpu_memory(128) == ("0.125", "0.25G")
    assert cpu_memory(2048) == ("1", "2G")
    assert cpu_memory(40 * 1024) == ("10", "40G")
    assert cpu_memory(48 * 1024) == ("12", "48G")
    with pytest.raises(ConfigurationError, match="48 GB"):
        cpu_memory(48 * 1024 + 1)
