"""The proof that the same code runs everywhere: ``examples/image_pipeline/app.py``, unchanged,
through each cloud's adapter and *generated* entry point, against real emulators, with its
outputs checked on the pixels.

What plays the provider's part (the only things built here, each following the provider's
documented format): Lambda's SQS poller (the received message wrapped as an SQS event), the Azure
Functions host (the ``func.InputStream`` it builds for a blob trigger), Eventarc (the binary-mode
CloudEvent of a ``finalized`` object, whose data is the object resource the emulator returned),
and the object store's MinIO-style webhook (the S3 event record posted to OpenWhisk's web action). Everything else is real: the
generated files, the adapters, boto3 / azure-storage-blob / google-cloud-storage against moto,
Azurite and the GCS emulator.

Configuration comes from what each generator writes (the SAM template's environment, the Cloud
Functions env file, the Azure settings file, the OpenWhisk manifest's bound parameters); where a
generator leaves a value for the deployer to fill in, the test fills it as a deployer would and
says so.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from corefn.loader import load_app
from tests.examples.conftest import PIPELINE_REF, ROOT, check_outputs, photo

pytestmark = [pytest.mark.emulator, pytest.mark.usefixtures("fresh_apps")]

SINKS = ("originals", "watermarked", "thumbnails", "rejected", "assets")
UPLOAD_KEY = "uploads/beach photo+1 (é).jpg"  # spaces, '+', parentheses and non-ASCII: every encoding rule
NOT_AN_IMAGE = "uploads/notes.txt"


def generated(cloud: str, out: Path) -> Path:
    from corefn.adapters import get_adapter

    app = load_app(PIPELINE_REF)
    for rel, content in get_adapter(cloud).generate(app, PIPELINE_REF).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content) if isinstance(content, str) else path.write_bytes(content)
    return out


def set_env(monkeypatch: pytest.MonkeyPatch, values: Mapping[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def assert_outputs(get: Any, fmt: str, original: bytes, lossless: bool = False) -> None:
    """``get(sink, key) -> bytes`` reads from the cloud's own storage."""
    out_key = UPLOAD_KEY.rsplit(".", 1)[0] + {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]
    check_outputs(original, get("watermarked", out_key), get("thumbnails", out_key), fmt=fmt, lossless=lossless)
    record = json.loads(get("rejected", NOT_AN_IMAGE + ".json"))
    assert (record["bucket"], record["key"], record["reason"]) == ("originals", NOT_AN_IMAGE, "not-an-image")


# -------------------------------------------------------------------------------------- AWS


class LambdaContext:
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    function_name = "image-pipeline-MakeRenditionsFunction"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _sub(value: Any, names: Mapping[str, str]) -> str:
    """A SAM ``Fn::Sub`` string (or a plain value) with the template's parameters filled in."""
    if isinstance(value, dict):
        text = str(value["Fn::Sub"])
        for name, replacement in names.items():
            text = text.replace("${" + name + "}", replacement)
        return text
    return str(value)


def sqs_event(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message as Lambda's SQS event source mapping delivers it."""
    record = {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message["Attributes"], "messageAttributes": {}, "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    }  # fmt: skip
    return {"Records": [record]}


def test_aws_s3_notification_through_sqs_to_the_generated_lambda(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    import yaml

    folder = generated("aws", tmp_path / "aws")
    template = yaml.safe_load((folder / "template.yaml").read_text())
    prefix = f"ip{uuid.uuid4().hex[:8]}"  # the ResourcePrefix parameter: unique buckets per test run
    names = {"ResourcePrefix": prefix, "Stage": "test", "AWS::AccountId": "123456789012", "AWS::Region": aws_env.region}
    env = {k: _sub(v, names) for k, v in template["Globals"]["Function"]["Environment"]["Variables"].items()}
    function = template["Resources"]["MakeRenditionsFunction"]["Properties"]
    env.update({k: _sub(v, names) for k, v in function["Environment"]["Variables"].items()})
    assert function["Handler"] == "corefn_aws.runtime.handler" and env["COREFN_APP"] == "app:app"
    set_env(monkeypatch, {**env, "PIPELINE_FORMAT": "JPEG", "PIPELINE_QUALITY": "80"})

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=aws_env.region
    )
    s3 = session.client("s3", endpoint_url=aws_env.endpoint_url)
    sqs = session.client("sqs", endpoint_url=aws_env.endpoint_url)
    bucket = {name: env[f"COREFN_SINK_{name.upper()}"].removeprefix("s3://") for name in SINKS}
    for name in SINKS:
        s3.create_bucket(Bucket=bucket[name])
    url = sqs.create_queue(QueueName=f"{prefix}-uploads")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket["originals"],
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    original = photo()
    s3.put_object(Bucket=bucket["originals"], Key=UPLOAD_KEY, Body=original, ContentType="image/jpeg")
    s3.put_object(Bucket=bucket["originals"], Key=NOT_AN_IMAGE, Body=b"shopping list: milk, eggs")

    from corefn_aws.runtime import handler

    delivered: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while len(delivered) < 2 and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            result = handler(sqs_event(message, arn, aws_env.region), LambdaContext())
            assert result == {"batchItemFailures": []}, result
            if "s3:TestEvent" not in message["Body"]:  # S3 announces the configuration first: no records
                delivered.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(delivered) == 2
    # the generated template wires the bucket straight to the function (Events: Type: S3): Lambda
    # then passes the very S3 event the queue carried; deliver the photo's that way too
    assert function["Events"]["Objects"]["Type"] == "S3"
    s3.delete_object(Bucket=bucket["thumbnails"], Key=UPLOAD_KEY)
    (photo_event,) = [e for e in delivered if e["Records"][0]["s3"]["object"]["key"].endswith(".jpg")]
    handler(photo_event, LambdaContext())

    def get(sink: str, key: str) -> bytes:
        body: bytes = s3.get_object(Bucket=bucket[sink], Key=key)["Body"].read()
        return body

    assert_outputs(get, "JPEG", original)
    # nothing loops: only the two uploads were announced; the four outputs raised no notification
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)


# ------------------------------------------------------------------------------------ Azure


def _import_function_app(folder: Path) -> Any:
    name = f"corefn_example_function_app_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, folder / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_azure_blob_trigger_through_the_generated_function_app(
    azurite: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.functions.blob import InputStream
    from azure.storage.blob import BlobServiceClient, ContentSettings

    folder = generated("azure", tmp_path / "azure")
    settings = json.loads((folder / "local.settings.json.example").read_text())["Values"]
    assert settings["COREFN_APP"] == "app:app"  # the app as the function app folder sees it
    # the settings file leaves each sink's URL for the deployer: the containers of the same names
    env = {k: v for k, v in settings.items() if k.startswith("COREFN_") and v}
    env.update({f"COREFN_SINK_{name.upper()}": f"az://{name}" for name in SINKS})
    env.update(AzureWebJobsStorage=azurite.connection_string, AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string)
    set_env(monkeypatch, {**env, "PIPELINE_FORMAT": "WEBP", "PIPELINE_QUALITY": "90"})

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    for name in SINKS:
        if not service.get_container_client(name).exists():
            service.create_container(name)
    run_id = uuid.uuid4().hex[:8]
    monkeypatch.setattr(sys.modules[__name__], "UPLOAD_KEY", f"{run_id}/{UPLOAD_KEY}")
    monkeypatch.setattr(sys.modules[__name__], "NOT_AN_IMAGE", f"{run_id}/{NOT_AN_IMAGE}")
    original = photo()
    module = _import_function_app(folder)
    functions = {fn.get_function_name(): fn for fn in module.app.get_functions()}
    for key, data, kind in ((UPLOAD_KEY, original, "image/jpeg"), (NOT_AN_IMAGE, b"not an image", "text/plain")):
        blob = service.get_blob_client("originals", key)
        blob.upload_blob(data, content_settings=ContentSettings(content_type=kind))
        props = blob.get_blob_properties()
        stream = InputStream(  # what the Functions host passes a blob trigger
            data=blob.download_blob().readall(), name=f"{props.container}/{props.name}", length=props.size, uri=blob.url,
            blob_properties={"Length": props.size, "ETag": props.etag, "ContentType": props.content_settings.content_type,
                             "LastModified": props.last_modified.isoformat()},
        )  # fmt: skip
        assert functions["make_renditions"].get_user_function()(stream, context=None) is None

    def get(sink: str, key: str) -> bytes:
        data: bytes = service.get_blob_client(sink, key).download_blob().readall()
        return data

    assert_outputs(get, "WEBP", original)


# -------------------------------------------------------------------------------------- GCP


def test_gcp_bucket_notification_pushed_through_the_generated_target(
    gcs_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functions_framework
    import yaml
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    folder = generated("gcp", tmp_path / "gcp")
    # the env file deploy.sh writes for the function, expanded as the script expands it
    script = (folder / "deploy.sh").read_text()
    body = script.split('cat > "$ENV_DIR/image-pipeline-make-renditions.yaml" <<EOF\n', 1)[1].split("\nEOF\n", 1)[0]
    expanded = subprocess.run(["bash", "-c", f"PROJECT=corefn-test PREFIX=pipe REGION=us-central1; cat <<EOF\n{body}\nEOF"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    env = yaml.safe_load(expanded.stdout)
    assert env["COREFN_HANDLER"] == "make_renditions"
    # bucket names are global on GCS: deploy.sh's PREFIX makes them ${PREFIX}-<name>; the env file
    # binds every bucket the handler uses, and names the app as the bundle sees it (its folder is the root)
    assert env["COREFN_APP"] == "app:app"
    assert all(env[f"COREFN_SINK_{name.upper()}"] == f"gs://pipe-{name}" for name in SINKS)
    set_env(monkeypatch, {**env, "STORAGE_EMULATOR_HOST": gcs_emulator.endpoint, "PIPELINE_FORMAT": "PNG"})
    monkeypatch.chdir(ROOT)

    client = storage.Client(project=gcs_emulator.project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    for name in (*SINKS, "originals"):
        if not client.bucket(f"pipe-{name}").exists():
            client.create_bucket(f"pipe-{name}")
    run_id = uuid.uuid4().hex[:8]
    monkeypatch.setattr(sys.modules[__name__], "UPLOAD_KEY", f"{run_id}/{UPLOAD_KEY}")
    monkeypatch.setattr(sys.modules[__name__], "NOT_AN_IMAGE", f"{run_id}/{NOT_AN_IMAGE}")
    original = photo()
    target = functions_framework.create_app("make_renditions", str(folder / "main.py")).test_client()  # type: ignore[no-untyped-call]
    for key, data, kind in ((UPLOAD_KEY, original, "image/jpeg"), (NOT_AN_IMAGE, b"not an image", "text/plain")):
        blob = client.bucket("pipe-originals").blob(key)
        blob.upload_from_string(data, content_type=kind)
        blob.reload()
        resource = dict(blob._properties)  # the object resource, as the notification's JSON payload carries it
        # the bucket's Pub/Sub notification (https://cloud.google.com/storage/docs/pubsub-notifications#format)
        # as the function's push subscription posts it
        attributes = {
            "notificationConfig": f"projects/_/buckets/{resource['bucket']}/notificationConfigs/1", "eventType": "OBJECT_FINALIZE",
            "payloadFormat": "JSON_API_V1", "bucketId": resource["bucket"], "objectId": resource["name"],
            "objectGeneration": str(resource["generation"]), "eventTime": resource["updated"],
        }  # fmt: skip
        data = base64.b64encode(json.dumps(resource).encode()).decode()
        push = {"message": {"attributes": attributes, "data": data, "messageId": f"{resource['generation']}1", "publishTime": resource["updated"]},
                "subscription": "projects/corefn-test/subscriptions/image-pipeline-make-renditions-push", "deliveryAttempt": 1}  # fmt: skip
        answer = target.post("/", json=push)
        assert answer.status_code == 204, answer.get_data(as_text=True)

    def get(sink: str, key: str) -> bytes:
        return bytes(client.bucket(f"pipe-{sink}").blob(key).download_as_bytes())

    assert_outputs(get, "PNG", original, lossless=True)


# -------------------------------------------------------------------------------- OpenWhisk


def test_openwhisk_bucket_notification_to_the_generated_action(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An S3-compatible store (IBM COS's S3 API, MinIO...), played by the moto server (``cos://``
    sinks), posting its bucket notification to the storage action, a raw web action (Apache
    OpenWhisk has no storage feed: the store's MinIO-style webhook is the bridge)."""
    from urllib.parse import quote_plus

    import boto3
    import yaml

    folder = generated("openwhisk", tmp_path / "openwhisk")
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    package = manifest["packages"]["image-pipeline"]
    deployed = package["actions"]["make_renditions"]
    assert deployed["web"] == "raw" and "triggers" not in package  # the webhook, no feed
    inputs = deployed["inputs"]
    suffix = uuid.uuid4().hex[:8]
    physical = {name: f"{name}-{suffix}" for name in SINKS}
    token = "t" * 40
    # wskdeploy fills "$NAME" from the deployer's environment: these are its values
    bound: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, str) and value.startswith("$COREFN_SINK_"):
            sink = value.removeprefix("$COREFN_SINK_").lower()
            value = f"cos://{physical[sink]}?endpoint={aws_env.endpoint_url}"
        elif value == "$COREFN_WEBHOOK_TOKEN":
            value = token
        bound[name] = value
    bound["__corefn_env_COREFN_NAMES"] = json.dumps({physical["originals"]: "originals"})
    bound["__corefn_env_PIPELINE_FORMAT"] = "auto"
    for name in [n.removeprefix("__corefn_env_") for n in bound if n.startswith("__corefn_env_")]:
        monkeypatch.setenv(name, "")  # the action exports bound parameters into os.environ: undo it after the test
        monkeypatch.delenv(name)

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=aws_env.region
    )
    s3 = session.client("s3", endpoint_url=aws_env.endpoint_url)
    for name in SINKS:
        s3.create_bucket(Bucket=physical[name])
    spec = importlib.util.spec_from_file_location(
        f"corefn_example_action_{suffix}", folder / "actions" / "make_renditions" / "__main__.py"
    )
    assert spec is not None and spec.loader is not None
    action = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(action)

    original = photo()
    for key, data, kind in ((UPLOAD_KEY, original, "image/jpeg"), (NOT_AN_IMAGE, b"not an image", "text/plain")):
        s3.put_object(Bucket=physical["originals"], Key=key, Body=data, ContentType=kind)
        head = s3.head_object(Bucket=physical["originals"], Key=key)
        record = {  # an S3 event record as MinIO posts it (see tests/events/knative/storage-minio-webhook.json)
            "eventVersion": "2.0", "eventSource": "minio:s3", "eventName": "s3:ObjectCreated:Put",
            "eventTime": head["LastModified"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "responseElements": {"x-amz-request-id": str(uuid.uuid4())},
            "s3": {"bucket": {"name": physical["originals"]}, "object": {
                "key": quote_plus(key), "size": head["ContentLength"], "eTag": head["ETag"].strip('"'), "contentType": kind}},
        }  # fmt: skip
        note = {"EventName": "s3:ObjectCreated:Put", "Key": f"{physical['originals']}/{key}", "Records": [record]}
        request = {"__ow_method": "post", "__ow_path": "", "__ow_query": "", "__ow_body": json.dumps(note),
                   "__ow_headers": {"content-type": "application/json", "authorization": f"Bearer {token}"}}  # fmt: skip
        result = action.main({**request, **bound})
        assert result["statusCode"] == 200, result

    def get(sink: str, key: str) -> bytes:
        body: bytes = s3.get_object(Bucket=physical[sink], Key=key)["Body"].read()
        return body

    assert_outputs(get, "JPEG", original)
