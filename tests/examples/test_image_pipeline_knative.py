"""The image pipeline on Knative, end to end and offline: the generated Service's settings, the
runtime served by uvicorn as the container runs it, an S3-compatible store played by moto's S3
API. An upload's bucket notification posted to the running runtime — MinIO's webhook form, and
Code Engine's COS CloudEvent in binary mode — produces the watermark and the thumbnail on that
store, checked on the pixels (tests/examples/conftest.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from corefn.loader import load_app
from tests.examples.conftest import PIPELINE_REF, photo
from tests.examples.test_image_pipeline_clouds import NOT_AN_IMAGE, SINKS, UPLOAD_KEY, assert_outputs, generated

pytestmark = [pytest.mark.emulator, pytest.mark.usefixtures("fresh_apps")]


def _service_env(folder: Path) -> dict[str, Any]:
    """The container env of the generated make_renditions Service: plain values, secret keys."""
    docs = [json.loads(part) for part in (folder / "knative" / "make-renditions.yaml").read_text().split("---\n") if part.strip()]
    service = next(d for d in docs if d["kind"] == "Service")
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in service["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_s3_compatible_notifications_posted_to_the_running_runtime_make_renditions(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    import uvicorn

    from corefn_knative.runtime import WEBHOOK_PATH, from_environment

    env = _service_env(generated("knative", tmp_path / "knative"))
    suffix = uuid.uuid4().hex[:8]
    physical = {name: f"{name}-{suffix}" for name in SINKS}
    token = uuid.uuid4().hex
    for name, value in env.items():
        if name == "COREFN_WEBHOOK_TOKEN":  # the Secret's token, which the store's webhook sends (auth_token)
            monkeypatch.setenv(name, token)
        elif isinstance(value, dict):  # a secretKeyRef: the deployer's `kubectl create secret` value
            sink = name.removeprefix("COREFN_SINK_").lower()
            monkeypatch.setenv(name, f"cos://{physical[sink]}?endpoint={aws_env.endpoint_url}")
        else:
            monkeypatch.setenv(name, value)
    assert env["COREFN_HANDLER"] == "make_renditions"
    monkeypatch.setenv("PIPELINE_FORMAT", "auto")

    s3 = boto3.session.Session(region_name=aws_env.region).client("s3", endpoint_url=aws_env.endpoint_url)
    for name in SINKS:
        s3.create_bucket(Bucket=physical[name])

    server = uvicorn.Server(uvicorn.Config(from_environment(), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    try:
        original = photo()
        # the photo, announced by MinIO's webhook (key URL-encoded as S3 does)
        s3.put_object(Bucket=physical["originals"], Key=UPLOAD_KEY, Body=original, ContentType="image/jpeg")
        head = s3.head_object(Bucket=physical["originals"], Key=UPLOAD_KEY)
        from urllib.parse import quote_plus

        minio = {
            "EventName": "s3:ObjectCreated:Put", "Key": f"{physical['originals']}/{UPLOAD_KEY}",
            "Records": [{
                "eventVersion": "2.0", "eventSource": "minio:s3", "awsRegion": "", "eventName": "s3:ObjectCreated:Put",
                "eventTime": head["LastModified"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "responseElements": {"x-amz-request-id": uuid.uuid4().hex.upper()[:16]},
                "s3": {"s3SchemaVersion": "1.0", "configurationId": "Config",
                       "bucket": {"name": physical["originals"], "arn": f"arn:aws:s3:::{physical['originals']}"},
                       "object": {"key": quote_plus(UPLOAD_KEY), "size": head["ContentLength"],
                                  "eTag": head["ETag"].strip('"'), "contentType": "image/jpeg"}},
            }],
        }  # fmt: skip
        assert httpx.post(url + WEBHOOK_PATH, json=minio, timeout=60).status_code == 401  # no token: refused
        response = httpx.post(url + WEBHOOK_PATH, json=minio, headers={"authorization": f"Bearer {token}"}, timeout=60)
        assert response.status_code == 204, response.text
        # a text file, announced by Code Engine's COS subscription (binary-mode CloudEvent)
        s3.put_object(Bucket=physical["originals"], Key=NOT_AN_IMAGE, Body=b"not an image", ContentType="text/plain")
        head = s3.head_object(Bucket=physical["originals"], Key=NOT_AN_IMAGE)
        headers = {
            "ce-specversion": "1.0", "ce-id": str(uuid.uuid4()), "ce-type": "com.ibm.cloud.cos.document.write",
            "ce-source": f"https://cloud.ibm.com/catalog/services/cloud-object-storage/{physical['originals']}",
            "ce-subject": NOT_AN_IMAGE, "ce-time": "2026-12-06T08:00:00.000Z", "content-type": "application/json",
        }
        body = {
            "bucket": physical["originals"], "endpoint": "", "key": NOT_AN_IMAGE, "operation": "Object:Write",
            "notification": {"bucket_name": physical["originals"], "content_type": "text/plain", "event_type": "Object:Write",
                             "format": "2.0", "object_length": str(head["ContentLength"]), "object_name": NOT_AN_IMAGE},
        }  # fmt: skip
        response = httpx.post(url + "/", headers=headers, content=json.dumps(body), timeout=60)
        assert response.status_code == 204, response.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    def get(sink: str, key: str) -> bytes:
        data: bytes = s3.get_object(Bucket=physical[sink], Key=key)["Body"].read()
        return data

    assert_outputs(get, "JPEG", original)


def test_the_pipeline_deploys_to_knative() -> None:
    from corefn_knative.generator import manifests

    docs = manifests(load_app(PIPELINE_REF), PIPELINE_REF)
    kinds = sorted(d["kind"] for documents in docs.values() for d in documents)
    assert kinds.count("Service") == 1 and "Trigger" in kinds
