"""The examples' AWS bundles run as a user's Lambda runs them: a fresh virtual environment of the
runtime's Python (3.12) built from the bundle's ``requirements.txt`` alone (``--no-deps``, then
``pip check``: the pinned closure must be complete), ``python -I`` with only the bundle's ``src/`` on
the path, Lambda's environment as the template sets it (``AWS_LAMBDA_FUNCTION_NAME`` makes corefn
strict about configuration; secrets are Secrets Manager references), and the generated entry
point ``corefn_aws.runtime.handler`` driven with real payloads against the moto server — the IoT
photo upload and its processing by the pipeline's ``imaging`` module included.

Each function runs with only its generated role's grants: moto's IAM enforcement is switched on
around the invocation (``/moto-api/reset-auth``) and the function's credentials belong to a user
holding exactly the role's policy, so a grant the template forgot is an AccessDenied here
(needed ⊆ granted; ``test_deploy_proof`` checks granted ⊆ needed). Moto checks resources for S3 and
SQS only; for the other services the actions are checked.

The venv is built once per requirements hash and Python version and kept under ``.cache/``
(gitignored), so reruns cost only the invocations. No Lambda runtime here: each function is one
process, invoked the way the runtime invokes it (``handler(event, context)``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws.test_deploy_proof import EXAMPLES, ROOT

pytestmark = pytest.mark.emulator

EVENTS = ROOT / "tests" / "events" / "aws"
ACCOUNT = "123456789012"

DRIVER = r"""
import json, sys
bundle = sys.argv[1]
sys.path.insert(0, bundle)
from corefn_aws.runtime import handler

class Context:
    aws_request_id = "req-bundle"
    def get_remaining_time_in_millis(self):
        return 60000

answers = [handler(event, Context()) for event in json.load(sys.stdin)]
outside = sorted({m.__file__ for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and m.__name__.split(".")[0] in ("corefn", "corefn_aws", "app", "imaging", "reports_db")
                  and not m.__file__.startswith(bundle)})
json.dump({"answers": answers, "outside": outside, "path": sys.path}, sys.stdout)
"""


def _python312() -> str:
    """A Python 3.12 (pyenv's own install first: its shim fails where 3.12 is not the active version)."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))] + [shutil.which("python3.12") or ""]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    pytest.fail("Lambda's runtime is Python 3.12: install it (pyenv install 3.12) to run the bundle as Lambda does")


def _venv(requirements: Path) -> Path:
    """A venv of the bundle's pins alone, cached by the requirements' hash."""
    python = _python312()
    key = hashlib.sha256(requirements.read_bytes() + python.encode()).hexdigest()[:16]
    venv = ROOT / ".cache" / "bundle-venvs" / key
    ready = venv / ".complete"
    if not ready.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "-q", "--no-deps", "--only-binary=:all:", "-r", str(requirements)], check=True)
        check = subprocess.run([*pip, "check"], capture_output=True, text=True)
        assert check.returncode == 0, f"requirements.txt is not a complete closure: {check.stdout}"
        ready.write_text(requirements.read_text())
    return venv / "bin" / "python"


def _sub(value: Any, names: dict[str, str]) -> str:
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    for key, replacement in names.items():
        text = text.replace("${" + key + "}", replacement)
    return str(text)


class Stack:
    """The template's resources made in moto and each function's environment, filled in as
    CloudFormation would (the parameters, the secrets' ARNs)."""

    def __init__(self, folder: Path, moto: Any, aws: Any, secrets: dict[str, str] | None = None) -> None:
        self.template = yaml.safe_load((folder / "template.yaml").read_text())
        self.src = folder / "src"
        self.moto = moto
        self.names = {"ResourcePrefix": f"t{uuid.uuid4().hex[:6]}", "Stage": "test", "AWS::AccountId": ACCOUNT,
                      "AWS::Region": moto.region, "AWS::Partition": "aws"}  # fmt: skip
        for key in [p for p in self.template["Parameters"] if p.endswith("Secret")]:
            value = (secrets or {}).get(key) or ("k" * 32 if key == "ApiKeySecret" else "postgresql+psycopg://nobody@127.0.0.1:1/none")
            self.names[key] = aws("secretsmanager").create_secret(Name=f"{self.names['ResourcePrefix']}/{key}", SecretString=value)["ARN"]
        for body in self.template["Resources"].values():
            props = body.get("Properties", {})
            if body["Type"] == "AWS::S3::Bucket":
                where = {} if moto.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": moto.region}}
                aws("s3").create_bucket(Bucket=_sub(props["BucketName"], self.names), **where)
            elif body["Type"] == "AWS::SQS::Queue" and "QueueName" in props:
                aws("sqs").create_queue(QueueName=_sub(props["QueueName"], self.names))
            elif body["Type"] == "AWS::DynamoDB::Table":
                aws("dynamodb").create_table(TableName=_sub(props["TableName"], self.names), KeySchema=props["KeySchema"],
                                             AttributeDefinitions=props["AttributeDefinitions"], BillingMode="PAY_PER_REQUEST")  # fmt: skip

    def env(self, function: str) -> dict[str, str]:
        props = self.template["Resources"][function]["Properties"]
        variables = {**self.template["Globals"]["Function"]["Environment"]["Variables"], **props["Environment"]["Variables"]}
        env = {k: str(self.resolve(v)) for k, v in variables.items()}  # Fn::Sub, and Ref (a state machine ARN)
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": _sub(props["FunctionName"], self.names), "AWS_REGION": self.moto.region,
            "AWS_DEFAULT_REGION": self.moto.region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": self.moto.endpoint_url, "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
        })  # fmt: skip
        return env

    def resolve(self, value: Any) -> Any:
        """A template value as CloudFormation resolves it (the few intrinsics roles use)."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict) and "Fn::Sub" in value:
            return _sub(value, self.names)
        if isinstance(value, dict) and "Ref" in value:
            return self.names[value["Ref"]]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            lid, _ = value["Fn::GetAtt"]
            body = self.template["Resources"][lid]
            region = self.moto.region
            if body["Type"] == "AWS::SQS::Queue":
                name = _sub(body["Properties"].get("QueueName", lid), self.names)
                return f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
            if body["Type"] == "AWS::Kinesis::Stream":
                return f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{_sub(body['Properties']['Name'], self.names)}"
            if body["Type"] == "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{_sub(body['Properties']['TableName'], self.names)}/stream/*"
            return f"arn:aws:kms:{region}:{ACCOUNT}:key/{lid}"
        return value

    def credentials(self, aws: Any, function: str) -> dict[str, str]:
        """An IAM user holding exactly the function's role policy (moto evaluates identity policies,
        not roles assumed by Lambda). Moto checks resources for S3 and SQS only (other services
        authorise against "*"), so for those the statement's resource becomes "*": their actions
        are still checked."""
        role = self.template["Resources"][function + "Role"]["Properties"]
        statements = []
        for statement in role["Policies"][0]["PolicyDocument"]["Statement"]:
            resource = self.resolve(statement["Resource"])
            if not all(a.startswith(("s3:", "sqs:")) for a in statement["Action"]):
                resource = "*"
            actions = list(statement["Action"])
            if "s3:GetObject" in actions:  # AWS authorises HeadObject by s3:GetObject; moto asks for "s3:HeadObject"
                actions.append("s3:HeadObject")  # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
            statements.append({**statement, "Action": actions, "Resource": resource})
            if "sqs:GetQueueUrl" in actions:  # moto authorises GetQueueUrl against "*" (it reads no QueueUrl to name the queue)
                statements.append({"Effect": "Allow", "Action": ["sqs:GetQueueUrl"], "Resource": "*"})
        user = f"{self.names['ResourcePrefix']}-{function}"[:64]
        aws("iam").create_user(UserName=user)
        aws("iam").put_user_policy(UserName=user, PolicyName="role", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        key = aws("iam").create_access_key(UserName=user)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def invoke(self, python: Path, function: str, events: list[Any], aws: Any = None) -> list[Any]:
        """Run ``function`` on ``events``; with ``aws``, as the function's role under moto's IAM
        enforcement (anything the role does not grant is AccessDenied)."""
        env = self.env(function)
        if aws is not None:
            env.update(self.credentials(aws, function))
        with enforced_iam(self.moto, aws is not None):
            done = subprocess.run([str(python), "-I", "-c", DRIVER, str(self.src)], input=json.dumps(events), capture_output=True,
                                  text=True, env=env, cwd=self.src, timeout=120)  # Lambda: /var/task  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout)
        assert result["outside"] == [], f"modules loaded from outside the bundle: {result['outside']}"
        venv = str(python.parent.parent)
        assert not any(str(ROOT) in p and not p.startswith(venv) for p in result["path"]), result["path"]
        return result["answers"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def enforced_iam(moto: Any, on: bool = True) -> Iterator[None]:
    """Moto authorises every request against IAM while inside (``/moto-api/reset-auth``)."""
    import urllib.request

    def set_count(value: str) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{moto.endpoint_url}/moto-api/reset-auth", data=value.encode(), method="POST", headers={"content-type": "text/plain"}))

    if not on:
        yield
        return
    set_count("0")
    try:
        yield
    finally:
        set_count("inf")


def _http(method: str, path: str, body: bytes, content_type: str, api_key: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "http-apigw-v2.json").read_text())
    event.update(rawPath=path, rawQueryString="", cookies=[], queryStringParameters=None, isBase64Encoded=True,
                 body=base64.b64encode(body).decode(), headers={"content-type": content_type, "x-api-key": api_key})  # fmt: skip
    event["routeKey"] = "$default"
    event["requestContext"]["http"].update(method=method, path=path)
    return event  # type: ignore[no-any-return]


def _s3_created(bucket: str, key: str, size: int, region: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "storage-s3-put.json").read_text())
    record = event["Records"][0]
    record["awsRegion"] = region
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    record["s3"]["object"].update(key=key, size=size)
    return event  # type: ignore[no-any-return]


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def aws(aws_env: Any, reset_moto: Any) -> Any:
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=aws_env.region)
    return lambda service: session.client(service, endpoint_url=aws_env.endpoint_url)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for example, ref in EXAMPLES.items():
        folder = tmp_path_factory.mktemp(example)
        subprocess.run([str(ROOT / ".venv" / "bin" / "corefn"), "deploy", ref, "--cloud", "aws", "--out", str(folder)], cwd=ROOT,
                       check=True, capture_output=True, env={k: v for k, v in os.environ.items() if not k.startswith("COREFN_")})  # fmt: skip
        out[example] = folder / "aws"
    return out


def test_iot_site_bundle_registers_a_device_and_processes_its_photo(bundles: dict[str, Path], aws: Any, aws_env: Any) -> None:
    folder = bundles["iot_site"]
    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws)
    key = "k" * 32
    (created,) = stack.invoke(python, "RegisterDeviceFunction",
                              [_http("POST", "/devices", json.dumps({"id": "dev-1", "name": "door"}).encode(), "application/json", key)], aws)  # fmt: skip
    assert created["statusCode"] == 201, created
    denied, uploaded = stack.invoke(python, "UploadPhotoFunction", [
        _http("PUT", "/devices/dev-1/photos/door.jpg", _photo(), "image/jpeg", "wrong-key"),
        _http("PUT", "/devices/dev-1/photos/door.jpg", _photo(), "image/jpeg", key),
    ], aws)  # fmt: skip
    assert denied["statusCode"] == 401 and uploaded["statusCode"] == 202, (denied, uploaded)
    bucket = {n: _sub(stack.template["Resources"][n]["Properties"]["BucketName"], stack.names) for n in ("PhotosBucket", "PhotoThumbnailsBucket", "PhotoWatermarkedBucket")}
    head = aws("s3").head_object(Bucket=bucket["PhotosBucket"], Key="devices/dev-1/door.jpg")
    stack.invoke(python, "ProcessPhotoFunction", [_s3_created(bucket["PhotosBucket"], "devices/dev-1/door.jpg", head["ContentLength"], aws_env.region)], aws)
    thumbs = aws("s3").list_objects_v2(Bucket=bucket["PhotoThumbnailsBucket"]).get("Contents", [])
    marked = aws("s3").list_objects_v2(Bucket=bucket["PhotoWatermarkedBucket"]).get("Contents", [])
    assert [o["Key"] for o in thumbs] and [o["Key"] for o in marked], (thumbs, marked)
    table = _sub(stack.template["Resources"]["DevicesTable"]["Properties"]["TableName"], stack.names)
    device = aws("dynamodb").get_item(TableName=table, Key={"id": {"S": "dev-1"}})["Item"]
    assert "last_photo" in device and "thumbnail" in json.dumps(device["last_photo"])


def _sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event for messages received from the queue (the poller's wrapping)."""
    (template, *_) = json.loads((EVENTS / "queue-sqs.json").read_text())["Records"]
    records = []
    for message in messages:
        record = json.loads(json.dumps(template))
        record.update(messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"],
                      md5OfBody=message["MD5OfBody"], messageAttributes={}, eventSourceARN=queue_arn, awsRegion=region)  # fmt: skip
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
        records.append(record)
    return {"Records": records}


def test_iot_site_bundle_accepts_a_reading_and_stores_it_in_sql(
    bundles: dict[str, Path], aws: Any, aws_env: Any, postgres_server: Any
) -> None:
    """The readings that must never be lost: HTTP → SQS (moto) → the queue function → PostgreSQL,
    with the database URL a Secrets Manager reference and psycopg from the pinned venv."""
    import psycopg

    folder = bundles["iot_site"]
    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws, {"ReportsUrlSecret": postgres_server.url})
    key = "k" * 32
    stack.invoke(python, "RegisterDeviceFunction", [_http("POST", "/devices", b'{"id": "dev-2"}', "application/json", key)], aws)
    (accepted,) = stack.invoke(python, "PostReadingFunction",
                               [_http("POST", "/devices/dev-2/readings", b'{"temperature": 21.5}', "application/json", key)], aws)  # fmt: skip
    assert accepted["statusCode"] == 202, accepted
    reading = json.loads(accepted["body"])["accepted"]
    queue = _sub(stack.template["Resources"]["ReadingsQueue"]["Properties"]["QueueName"], stack.names)
    url = aws("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    arn = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    received = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    (answer,) = stack.invoke(python, "StoreReadingFunction", [_sqs_event(received, arn, aws_env.region)], aws)
    assert answer == {"batchItemFailures": []}, answer
    with psycopg.connect(postgres_server.dsn) as conn:
        row = conn.execute("SELECT device, temperature FROM readings WHERE id = %s", (reading,)).fetchone()
    assert row == ("dev-2", 21.5)


def test_image_pipeline_bundle_makes_renditions(bundles: dict[str, Path], aws: Any, aws_env: Any) -> None:
    folder = bundles["image_pipeline"]
    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws)
    originals = _sub(stack.template["Resources"]["OriginalsBucket"]["Properties"]["BucketName"], stack.names)
    body = _photo()
    aws("s3").put_object(Bucket=originals, Key="uploads/cat.jpg", Body=body, ContentType="image/jpeg")
    (answer,) = stack.invoke(python, "MakeRenditionsFunction", [_s3_created(originals, "uploads/cat.jpg", len(body), aws_env.region)], aws)
    thumbnails = _sub(stack.template["Resources"]["ThumbnailsBucket"]["Properties"]["BucketName"], stack.names)
    assert [o["Key"] for o in aws("s3").list_objects_v2(Bucket=thumbnails).get("Contents", [])], answer


def test_an_unconfigured_sink_fails_the_cold_start_naming_its_setting(bundles: dict[str, Path], aws: Any, aws_env: Any) -> None:
    folder = bundles["image_pipeline"]
    python = _venv(folder / "src" / "requirements.txt")
    stack = Stack(folder, aws_env, aws)
    env = stack.env("MakeRenditionsFunction")
    del env["COREFN_SINK_THUMBNAILS"]
    # the cold start (loading the app) happens on the first invocation
    event = _s3_created(_sub(stack.template["Resources"]["OriginalsBucket"]["Properties"]["BucketName"], stack.names), "x.jpg", 3, aws_env.region)
    done = subprocess.run([str(python), "-I", "-c", DRIVER, str(stack.src)], input=json.dumps([event]), capture_output=True, text=True, env=env)
    assert done.returncode != 0 and "COREFN_SINK_THUMBNAILS" in done.stderr and "ConfigurationError" in done.stderr


def test_sam_build_succeeds_with_only_pypi_and_the_folder(bundles: dict[str, Path]) -> None:
    """``sam build`` as the README says, with Lambda's Python on PATH: it installs the pinned
    requirements for the template's architecture (arm64 wheels) and copies the bundle as it is."""
    from tests.aws.test_deploy_proof import _tool

    folder = bundles["image_pipeline"]
    python = Path(_python312())
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ.get('PATH', '')}", "SAM_CLI_TELEMETRY": "0"}
    done = subprocess.run([_tool("sam", "sam"), "build", "--region", "ap-northeast-2"], cwd=folder, capture_output=True, text=True,
                          env=env, timeout=600)  # fmt: skip
    assert done.returncode == 0 and "Build Succeeded" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    built = folder / ".aws-sam" / "build" / "MakeRenditionsFunction"
    assert (built / "corefn_aws" / "runtime.py").is_file() and (built / "imaging.py").is_file()
    assert list((built / "PIL").glob("_imaging.cpython-312-aarch64-linux-gnu.so")), "Pillow was not installed for arm64"


def test_the_read_only_device_apis_role_cannot_write(bundles: dict[str, Path], aws: Any, aws_env: Any) -> None:
    """The enforcement bites: with get_device's grants, writing a photo or a reading is refused."""
    import boto3
    from botocore.exceptions import ClientError

    stack = Stack(bundles["iot_site"], aws_env, aws)
    keys = stack.credentials(aws, "GetDeviceFunction")
    session = boto3.session.Session(aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                                    region_name=aws_env.region)  # fmt: skip
    photos = _sub(stack.template["Resources"]["PhotosBucket"]["Properties"]["BucketName"], stack.names)
    queue = _sub(stack.template["Resources"]["ReadingsQueue"]["Properties"]["QueueName"], stack.names)
    url = aws("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    with enforced_iam(aws_env):
        for attempt in (
            lambda: session.client("s3", endpoint_url=aws_env.endpoint_url).put_object(Bucket=photos, Key="devices/x/y.jpg", Body=b"x"),
            lambda: session.client("sqs", endpoint_url=aws_env.endpoint_url).send_message(QueueUrl=url, MessageBody="{}"),
        ):
            with pytest.raises(ClientError) as refused:
                attempt()
            assert refused.value.response["Error"]["Code"] in ("AccessDenied", "403")
