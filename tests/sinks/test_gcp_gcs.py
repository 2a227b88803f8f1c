"""Cloud Storage (``gs://``) against gcp-storage-emulator: the object-store contract, then signed
URLs, resumable chunked uploads and the error mapping.

Signed URLs need a private key. The emulator runs anonymously, so the tests make a throwaway
RSA key with ``cryptography`` and hand it to the backend as a service-account key file through
``GOOGLE_APPLICATION_CREDENTIALS``, exactly as a real key would be given (the emulator does not
verify signatures; production uses a real key or IAM signBlob, see ``corefn_gcp.sinks.gcs``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn.sinks.base import ObjectStore
from corefn_gcp.sinks.gcs import GcsStore, bucket_of, open_backend
from tests.fixtures.emulators import GcsEmulator
from tests.sinks.contract import GeneratedStream, MiB, ObjectStoreContract, make_spec, unique


@pytest.fixture(scope="session")
def service_account_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account", "project_id": "test-project", "private_key_id": "throwaway",
        "private_key": pem.decode(), "client_email": "signer@test-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
    }  # fmt: skip
    path = tmp_path_factory.mktemp("gcp") / "throwaway-key.json"
    path.write_text(json.dumps(info))
    return path


@pytest.fixture
def gcs(gcs_emulator: GcsEmulator, service_account_key: Path, monkeypatch: pytest.MonkeyPatch) -> GcsEmulator:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", gcs_emulator.project)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key))
    return gcs_emulator


@pytest.fixture
def bucket(gcs: GcsEmulator) -> Iterator[str]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=gcs.project, credentials=AnonymousCredentials())
    name = unique("b")
    created = client.create_bucket(name)
    yield name
    created.delete(force=True)


@pytest.fixture
def store(bucket: str) -> GcsStore:
    return open_backend(make_spec("object", page_size=3), f"gs://{bucket}")


class TestGcsContract(ObjectStoreContract):
    # 2 MiB upload chunks and 1 MiB read ranges, plus the HTTP stack's copies of one of them
    stream_peak_limit = 12 * MiB

    @pytest.fixture
    def store(self, store: GcsStore) -> ObjectStore:
        return store


def test_file_like_put_is_a_chunked_resumable_upload(store: GcsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud.storage._media.requests import upload

    chunks: list[int] = []
    transmit = upload.ResumableUpload.transmit_next_chunk

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        chunks.append(self.chunk_size)
        return transmit(self, *args, **kwargs)

    monkeypatch.setattr(upload.ResumableUpload, "transmit_next_chunk", spy)
    store.put("big", GeneratedStream(5 * MiB))  # type: ignore[arg-type]
    assert chunks == [2 * MiB] * 3
    assert store.info("big").size == 5 * MiB


def test_signed_url_is_v4_for_the_object_and_method(store: GcsStore) -> None:
    store.put("a b.txt", b"x")
    url = store.url("a b.txt", expires=120, method="put")
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert parts.path.endswith(f"/{store._bucket.name}/a%20b.txt")
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "120"
    assert query["X-Goog-Credential"].startswith("signer@test-project.iam.gserviceaccount.com/")
    assert len(query["X-Goog-Signature"]) == 512  # hex of a 2048-bit RSA signature
    with pytest.raises(ConfigurationError):
        store.url("a b.txt", method="PATCH")


def test_open_missing_object_is_not_found_before_any_read(store: GcsStore) -> None:
    with pytest.raises(SinkNotFoundError) as caught:
        store.open("ghost")
    assert "ghost" in str(caught.value)


def test_missing_bucket_is_not_found(gcs: GcsEmulator) -> None:
    store = open_backend(make_spec("object"), "gs://no-such-bucket-here")
    with pytest.raises(SinkNotFoundError) as caught:
        store.get("k")
    assert type(caught.value.cause).__name__ == "NotFound"


def test_bucket_url_form() -> None:
    assert bucket_of("gs://my-bucket") == "my-bucket"
    assert bucket_of("gs://my-bucket/") == "my-bucket"
    for bad in ("gs://", "gs://a/b"):
        with pytest.raises(ConfigurationError):
            bucket_of(bad)


def test_permissions() -> None:
    grants = GcsStore.permissions("gs://thumbs", "object")
    assert grants[0].cloud == "gcp"
    assert grants[0].actions == ("roles/storage.objectAdmin",)
    assert grants[0].resource == "projects/_/buckets/thumbs"


def test_open_reads_ranges_of_one_generation(store: GcsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.put("v", GeneratedStream(3 * MiB))  # type: ignore[arg-type]
    generation = store._bucket.get_blob("v").generation
    session = store._client._http
    seen: list[str] = []
    real = session.request

    def spy(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(url)
        return real(method, url, *args, **kwargs)

    monkeypatch.setattr(session, "request", spy)
    with store.open("v") as stream:
        assert len(stream.read()) == 3 * MiB
    downloads = [url for url in seen if "alt=media" in url]
    assert len(downloads) >= 3  # 1 MiB ranges, not one whole-object GET
    assert all(f"generation={generation}" in url for url in downloads)


def test_keyless_identity_signs_through_iam(store: GcsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Cloud Functions the credentials have no private key: the URL is then signed by IAM
    signBlob as the runtime's service account (the library's ``service_account_email`` +
    ``access_token`` path). The call to IAM itself cannot run here; what we hand over can."""
    import google.auth

    class ComputeCredentials:  # what google.auth.default() gives on a Google runtime
        service_account_email = "fn@proj.iam.gserviceaccount.com"
        token: str | None = None

        def refresh(self, request: Any) -> None:
            self.token = "ya29.token"

    monkeypatch.setattr(google.auth, "default", lambda scopes=None: (ComputeCredentials(), "proj"))
    assert store._signer() == {"service_account_email": "fn@proj.iam.gserviceaccount.com", "access_token": "ya29.token"}


def test_identity_without_an_email_cannot_sign(store: GcsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth

    class UserCredentials:
        token = "t"

        def refresh(self, request: Any) -> None:
            pass

    monkeypatch.setattr(google.auth, "default", lambda scopes=None: (UserCredentials(), "proj"))
    with pytest.raises(ConfigurationError, match="signBlob"):
        store.url("k")
