"""S3-compatible object stores (``cos://`` IBM COS, ``s3compat://`` MinIO and friends) on the moto
server's S3 API, against the object contract: the core's own client (explicit endpoint, path-style
addressing, its own keys), not the AWS adapter's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from corefn.errors import ConfigurationError, MissingExtraError, SinkNotFoundError
from corefn.sinks import backend_factory
from corefn.sinks.s3compat import CosStore, S3CompatibleStore, open_backend, open_cos_backend
from tests.fixtures.emulators import MotoServer
from tests.sinks.contract import MiB, ObjectStoreContract, make_spec, unique


def _bucket(moto: MotoServer) -> str:
    import boto3

    name = unique("bkt")
    boto3.client(
        "s3", endpoint_url=moto.endpoint_url, region_name=moto.region, aws_access_key_id="x", aws_secret_access_key="x"
    ).create_bucket(Bucket=name)
    return name


@pytest.fixture
def off_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS setting in the environment: these stores must not need one."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)


class TestCos(ObjectStoreContract):
    """IBM COS's S3-compatible API, played by moto's S3: HMAC keys, explicit endpoint."""

    stream_size = 9 * MiB

    @pytest.fixture
    def store(self, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, off_aws: None) -> CosStore:
        monkeypatch.setenv("COS_HMAC_ACCESS_KEY_ID", "cos-hmac-key")
        monkeypatch.setenv("COS_HMAC_SECRET_ACCESS_KEY", "cos-hmac-secret")
        bucket = _bucket(moto_server)
        return open_cos_backend(make_spec("object", "photos", page_size=3), f"cos://{bucket}?endpoint={moto_server.endpoint_url}&region=us-south")


class TestEndpointFromEnvironment(ObjectStoreContract):
    """A MinIO-style store: ``s3compat://`` with the endpoint and keys from the environment, a prefix."""

    stream_size = 9 * MiB

    @pytest.fixture
    def store(self, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, off_aws: None) -> S3CompatibleStore:
        monkeypatch.setenv("COREFN_S3_ENDPOINT", moto_server.endpoint_url)
        monkeypatch.setenv("S3_ACCESS_KEY_ID", "minioadmin")
        monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "minioadmin")
        return open_backend(make_spec("object", "photos", page_size=3), f"s3compat://{_bucket(moto_server)}/tenant-1")


def test_schemes_are_served_by_the_core() -> None:
    assert backend_factory("cos") is open_cos_backend
    assert backend_factory("s3compat") is open_backend
    assert backend_factory("kafka").__module__ == "corefn.sinks.kafka"


def test_prefix_is_stored_but_not_listed(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, off_aws: None) -> None:
    import boto3

    monkeypatch.setenv("S3_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "s")
    bucket = _bucket(moto_server)
    store = open_backend(make_spec("object", "photos"), f"s3compat://{bucket}/tenant-1?endpoint={moto_server.endpoint_url}")
    store.put("a.txt", b"x")
    raw = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="k", aws_secret_access_key="s").list_objects_v2(Bucket=bucket)  # fmt: skip
    assert [o["Key"] for o in raw["Contents"]] == ["tenant-1/a.txt"]
    assert [o.key for o in store.list()] == ["a.txt"]
    assert store.client._client_config.s3["addressing_style"] == "path"


def test_missing_bucket_is_not_found(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, off_aws: None) -> None:
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "s")
    store = open_backend(make_spec("object", "photos"), f"s3compat://no-such-bucket-corefn?endpoint={moto_server.endpoint_url}")
    with pytest.raises(SinkNotFoundError):
        store.get("x")
    assert store.exists("x") is False


@pytest.mark.parametrize(("url", "variable"), [("cos://bucket", "COREFN_COS_ENDPOINT"), ("s3compat://bucket", "COREFN_S3_ENDPOINT")])
def test_an_endpoint_is_required(url: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError, match=variable):
        backend_factory(url.split(":")[0])(make_spec("object", "photos"), url)


def test_permissions() -> None:
    grants = CosStore.permissions("cos://b?endpoint=https://x", "object")
    assert [(g.cloud, g.actions) for g in grants] == [
        ("openwhisk", ("cloud-object-storage.content-reader",)),
        ("openwhisk", ("cloud-object-storage.object-writer",)),
    ]
    assert {g.resource for g in grants} == {"crn:v1:bluemix:public:cloud-object-storage:global:*:*:bucket:b"}
    assert S3CompatibleStore.permissions("s3compat://b?endpoint=http://minio:9000", "object") == []
    assert CosStore.needs_private_network("cos://b") is False


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn.sinks import s3compat

    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setattr(s3compat, "_clients", {})
    store = open_backend(make_spec("object", "photos"), "s3compat://bucket?endpoint=http://127.0.0.1:9")
    with pytest.raises(MissingExtraError, match=r"pip install 'corefn\[s3compat\]'"):
        store.get("x")


def test_importing_the_backends_imports_no_sdk() -> None:
    probe = "import json, sys\nimport corefn.sinks.s3compat, corefn.sinks.kafka\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert [m for m in loaded if m.split(".")[0] in ("boto3", "botocore", "kafka")] == []
