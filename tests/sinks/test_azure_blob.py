"""Blob Storage (``az://``) against Azurite: the object-store contract, then SAS URLs, block
uploads, URL forms and credentials."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from corefn.errors import ConfigurationError, SinkConflictError, SinkNotFoundError
from corefn.sinks.base import ObjectStore
from corefn_azure.sinks.blob import BlobStore, open_backend
from tests.fixtures.emulators import Azurite
from tests.sinks.contract import GeneratedStream, MiB, ObjectStoreContract, make_spec, unique


@pytest.fixture
def container(azure_storage: Azurite) -> Iterator[str]:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azure_storage.connection_string)
    name = unique("c")
    service.create_container(name)
    yield name
    service.delete_container(name)


@pytest.fixture
def store(container: str) -> BlobStore:
    return open_backend(make_spec("object", page_size=3), f"az://{container}")


class TestBlobContract(ObjectStoreContract):
    # 4 MiB blocks up, 1 MiB ranges down, plus the SDK's own copies of one of them
    stream_peak_limit = 16 * MiB

    @pytest.fixture
    def store(self, store: BlobStore) -> ObjectStore:
        return store


def test_large_upload_goes_as_blocks(store: BlobStore) -> None:
    info = store.put("big", GeneratedStream(9 * MiB))  # type: ignore[arg-type]
    assert info.size == 9 * MiB  # counted while uploading, no second request
    committed, _ = store._container.get_blob_client("big").get_block_list()
    assert [block.size for block in committed] == [4 * MiB, 4 * MiB, 1 * MiB]


def test_sas_url_grants_only_what_it_signs(store: BlobStore) -> None:
    store.put("doc.txt", b"secret")
    url = store.url("doc.txt", expires=60)
    assert "sp=r" in url and "sig=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"secret"
    tampered = url.replace("doc.txt", "other.txt")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered, timeout=10)
    assert caught.value.code == 403


def test_sas_url_for_upload(store: BlobStore) -> None:
    url = store.url("upload.bin", method="PUT")
    request = urllib.request.Request(url, data=b"uploaded", method="PUT", headers={"x-ms-blob-type": "BlockBlob"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    assert store.get("upload.bin") == b"uploaded"
    with pytest.raises(ConfigurationError):
        store.url("upload.bin", method="PATCH")


def test_account_form_uses_the_matching_connection_string(container: str, azure_storage: Azurite) -> None:
    store = open_backend(make_spec("object"), f"az://{azure_storage.account_name}/{container}")
    store.put("k", b"v")
    assert store.get("k") == b"v"


def test_account_form_for_another_account_uses_a_key_else_the_identity(monkeypatch: pytest.MonkeyPatch, azure_storage: Azurite) -> None:
    from azure.identity import DefaultAzureCredential

    identity = open_backend(make_spec("object"), "az://prodaccount/images")  # no key: the managed identity
    assert isinstance(identity._container.credential, DefaultAzureCredential)
    monkeypatch.setenv("AZURE_STORAGE_KEY", azure_storage.account_key)
    store = open_backend(make_spec("object"), "az://prodaccount/images")
    assert store._container.url == "https://prodaccount.blob.core.windows.net/images"
    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT_SUFFIX", "core.chinacloudapi.cn")
    store = open_backend(make_spec("object"), "az://prodaccount/images")
    assert store._container.url == "https://prodaccount.blob.core.chinacloudapi.cn/images"


def test_short_form_needs_a_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    with pytest.raises(ConfigurationError, match="AZURE_STORAGE_CONNECTION_STRING"):
        open_backend(make_spec("object"), "az://images")


def test_functions_storage_setting_is_the_fallback(container: str, azure_storage: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AzureWebJobsStorage", azure_storage.connection_string)
    store = open_backend(make_spec("object"), f"az://{container}")
    store.put("k", b"v")
    assert store.exists("k")


def test_sas_token_account_cannot_sign(container: str, azure_storage: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", "sv=2024-01-01&sig=x")
    store = open_backend(make_spec("object"), f"az://someaccount/{container}")
    with pytest.raises(ConfigurationError, match="account key"):
        store.url("k")


def test_missing_container_is_not_found(azure_storage: Azurite) -> None:
    store = open_backend(make_spec("object"), "az://no-such-container")
    with pytest.raises(SinkNotFoundError) as caught:
        store.put("k", b"v")
    assert type(caught.value.cause).__name__ == "ResourceNotFoundError"


def test_permissions_scope_the_container() -> None:
    (grant,) = BlobStore.permissions("az://acct/images", "object")
    assert grant.cloud == "azure"
    assert grant.actions == ("Storage Blob Data Contributor",)
    assert grant.resource == "storageAccounts/acct/blobServices/default/containers/images"
    assert BlobStore.permissions("az://images", "object")[0].resource.startswith("storageAccounts/*/")


def test_a_declared_sink_is_bound_by_configuration(container: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's code names a sink; the environment picks Blob Storage through the ``az`` entry point."""
    from corefn import App

    app = App("pipeline")
    thumbnails = app.object_store("thumbnails")
    monkeypatch.setenv("COREFN_SINK_THUMBNAILS", f"az://{container}")
    thumbnails.put("t.jpg", b"jpeg", content_type="image/jpeg")
    assert type(thumbnails.backend) is BlobStore
    assert thumbnails.get("t.jpg") == b"jpeg"


def test_open_fails_rather_than_splice_an_overwrite(store: BlobStore) -> None:
    """Ranges after the first carry If-Match with the first response's ETag."""
    store.put("v", b"a" * (3 * MiB))
    with store.open("v") as stream:
        assert stream.read(MiB) == b"a" * MiB
        store.put("v", b"b" * (3 * MiB))
        with pytest.raises(SinkConflictError):
            stream.read()
