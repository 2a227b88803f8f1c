"""Amazon S3 (``s3://``) on the moto server, against the object contract (IBM COS and other
S3-compatible stores: tests/sinks/test_s3compat.py)."""

from __future__ import annotations

from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkNotFoundError, SinkUnavailableError
from corefn_aws.sinks.s3 import S3Store, open_backend
from tests.fixtures.emulators import MotoServer
from tests.sinks.contract import MiB, ObjectStoreContract, make_spec, unique


def _bucket(moto: MotoServer) -> str:
    import boto3

    name = unique("bkt")
    boto3.client("s3", endpoint_url=moto.endpoint_url, region_name=moto.region).create_bucket(Bucket=name)
    return name


class TestS3(ObjectStoreContract):
    stream_size = 96 * MiB  # 12 parts of 8 MiB
    stream_peak_limit = 48 * MiB  # measured ~35 MiB: 2 parts in flight, 2 read ahead, copies for signing

    @pytest.fixture
    def store(self, aws_env: MotoServer) -> S3Store:
        return open_backend(make_spec("object", "photos", page_size=3), f"s3://{_bucket(aws_env)}")


class TestS3WithPrefix(ObjectStoreContract):
    stream_size = 9 * MiB

    @pytest.fixture
    def store(self, aws_env: MotoServer) -> S3Store:
        return open_backend(make_spec("object", "photos", page_size=3), f"s3://{_bucket(aws_env)}/tenant-1")


def test_prefix_is_stored_but_not_listed(aws_env: MotoServer) -> None:
    import boto3

    bucket = _bucket(aws_env)
    store = open_backend(make_spec("object", "photos"), f"s3://{bucket}/tenant-1")
    store.put("a.txt", b"x")
    raw = boto3.client("s3").list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in raw["Contents"]] == ["tenant-1/a.txt"]
    assert [o.key for o in store.list()] == ["a.txt"]


def test_presigned_put_url(aws_env: MotoServer) -> None:
    import urllib.request

    store = open_backend(make_spec("object", "photos"), f"s3://{_bucket(aws_env)}")
    url = store.url("upload.bin", method="PUT", expires=60)
    request = urllib.request.Request(url, data=b"uploaded by a browser", method="PUT", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert store.get("upload.bin") == b"uploaded by a browser"
    with pytest.raises(ConfigurationError):
        store.url("x", method="PATCH")


def test_missing_bucket_is_not_found(aws_env: MotoServer) -> None:
    store = open_backend(make_spec("object", "photos"), "s3://no-such-bucket-corefn")
    with pytest.raises(SinkNotFoundError) as caught:
        store.get("x")
    assert caught.value.cause is not None and type(caught.value.cause).__name__ == "NoSuchBucket"


def test_unreachable_endpoint_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.emulators import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_backend(make_spec("object", "photos"), "s3://b")
    with pytest.raises(SinkUnavailableError):
        store.get("x")


def test_client_is_created_once(aws_env: MotoServer) -> None:
    store = open_backend(make_spec("object", "photos"), f"s3://{_bucket(aws_env)}")
    other = open_backend(make_spec("object", "thumbs"), f"s3://{_bucket(aws_env)}")
    assert store.client is store.client is other.client


def test_permissions_split_read_write_list() -> None:
    grants: list[Any] = S3Store.permissions("s3://my-thumbs/prefix", "object")
    assert [(g.actions, g.resource) for g in grants] == [
        (("s3:GetObject",), "arn:aws:s3:::my-thumbs/prefix/*"),
        (("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"), "arn:aws:s3:::my-thumbs/prefix/*"),
        (("s3:ListBucket",), "arn:aws:s3:::my-thumbs"),
    ]


def test_sink_configured_by_environment(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn import App

    bucket = _bucket(aws_env)
    monkeypatch.setenv("COREFN_SINK_THUMBNAILS", f"s3://{bucket}")
    thumbnails = App("pipeline").object_store("thumbnails")
    thumbnails.put("t.jpg", b"jpeg")
    assert isinstance(thumbnails.backend, S3Store)  # type: ignore[attr-defined]
    assert thumbnails.info("t.jpg").content_type == "image/jpeg"


def test_download_cut_short_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """An S3 endpoint that promises 1 MB and hangs up after 10 bytes: the HTTP boundary is faked
    (moto cannot drop a connection mid-body); boto3 and botocore are real."""
    import http.server
    import threading

    class HangUp(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", str(1024 * 1024))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HangUp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        store = open_backend(make_spec("object", "photos"), "s3://bucket")
        with store.open("big") as stream, pytest.raises(SinkUnavailableError) as caught:
            while stream.read(64 * 1024):
                pass
        assert "botocore" in type(caught.value.cause).__module__
    finally:
        server.shutdown()
        server.server_close()
