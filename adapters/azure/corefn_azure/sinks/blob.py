"""Azure Blob Storage as an object store (azure-storage-blob).

URL: ``az://container`` (account and key from ``AZURE_STORAGE_CONNECTION_STRING``, else
``AzureWebJobsStorage``: an Azurite connection string works unchanged) or
``az://account/container`` (``AZURE_STORAGE_KEY`` / ``AZURE_STORAGE_SAS_TOKEN``; see the package
docstring). The container must exist: deploy creates it from the declaration.

Memory stays bounded for any object size: uploads go as 4 MiB blocks (Put Block + Put Block
List) whatever the source, and downloads are ranged GETs of 1 MiB fetched as the caller reads
(the SDK's defaults would buffer a whole 64 MiB single-shot upload and a 32 MiB first download;
its HTTP stack holds about nine copies of a range while reading it, hence small ranges). Every
range after the first carries ``If-Match`` with the first answer's ETag, so an overwrite while
a stream is being read raises SinkConflictError instead of splicing two versions.
``url()`` signs a service SAS with the account key; an account reached with a SAS token or
Entra ID has no key to sign with, so it raises ConfigurationError (a user delegation SAS would
need azure-identity).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn.kit.sinks import CountingReader, TranslatedReader, check_metadata, translated_items
from corefn.sinks.base import ObjectInfo, Permission
from corefn.specs import SinkSpec
from corefn_azure.sinks import STORAGE_RETRY, StorageTarget, azure_errors, sdk_required, to_sink_error

MiB = 1024 * 1024
CHUNK = 4 * MiB

#: SAS permission flags per HTTP method the URL is for.
SAS_PERMISSIONS: dict[str, dict[str, bool]] = {
    "GET": {"read": True},
    "HEAD": {"read": True},
    "PUT": {"create": True, "write": True},
    "DELETE": {"delete": True},
}


class BlobStore:
    families = ("object",)
    private_network = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from azure.storage.blob import ContainerClient, ExponentialRetry

        self.spec = spec
        self.page_size: int | None = spec.options.get("page_size")
        self.target = StorageTarget.parse(url)
        self._container = self.target.client(
            ContainerClient, "blob", max_single_put_size=CHUNK, max_block_size=CHUNK,
            max_single_get_size=MiB, max_chunk_get_size=MiB, retry_policy=ExponentialRetry(**STORAGE_RETRY),
        )  # fmt: skip

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        scope = StorageTarget.parse(url).scope("blob", "containers")
        return [Permission("azure", ("Storage Blob Data Contributor",), scope)]

    def _info(self, key: str, props: Any) -> ObjectInfo:
        settings = getattr(props, "content_settings", None)
        return ObjectInfo(
            key=key,
            size=props.size,
            etag=(props.etag or "").strip('"') or None,
            content_type=settings.content_type if settings is not None else None,
            modified=props.last_modified,
            metadata=dict(props.metadata or {}),
        )

    def get(self, key: str) -> bytes:
        with azure_errors(self.spec.name):
            return bytes(self._container.download_blob(key).readall())

    def open(self, key: str) -> IO[bytes]:
        with azure_errors(self.spec.name):
            downloader = self._container.download_blob(key, max_concurrency=1)
        return io.BufferedReader(TranslatedReader(downloader.read, self.spec.name, to_sink_error), MiB)

    def put(
        self,
        key: str,
        data: bytes | IO[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        from azure.storage.blob import ContentSettings

        metadata = check_metadata(metadata, self.spec.name)
        settings = ContentSettings(content_type=content_type or "application/octet-stream")
        source: bytes | CountingReader = bytes(data) if isinstance(data, bytes | bytearray) else CountingReader(data)
        with azure_errors(self.spec.name):
            written = self._container.get_blob_client(key).upload_blob(
                source, overwrite=True, content_settings=settings, metadata=dict(metadata or {}), max_concurrency=1,
                length=len(source) if isinstance(source, bytes) else None,
            )  # fmt: skip
        return ObjectInfo(
            key=key,
            size=len(source) if isinstance(source, bytes) else source.count,
            etag=str(written.get("etag") or "").strip('"') or None,
            content_type=settings.content_type,
            modified=written.get("last_modified"),
            metadata=dict(metadata or {}),
        )

    def delete(self, key: str) -> None:
        """Deleting a missing blob is not an error (as on S3): the goal state holds."""
        try:
            with azure_errors(self.spec.name):
                self._container.delete_blob(key, delete_snapshots="include")
        except SinkNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        with azure_errors(self.spec.name):
            return bool(self._container.get_blob_client(key).exists())

    def info(self, key: str) -> ObjectInfo:
        with azure_errors(self.spec.name):
            return self._info(key, self._container.get_blob_client(key).get_blob_properties())

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Blob Storage lists in name order, a page (up to 5000, or the sink's ``page_size``
        option) per request as iteration goes."""
        with azure_errors(self.spec.name):
            blobs = self._container.list_blobs(
                name_starts_with=prefix or None, include=["metadata"], results_per_page=self.page_size
            )
        for props in translated_items(self.spec.name, to_sink_error, blobs):
            yield self._info(props.name, props)

    def url(self, key: str, *, expires: int = 3600, method: str = "GET") -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        flags = SAS_PERMISSIONS.get(method.upper())
        if flags is None:
            raise ConfigurationError(f"no SAS for method {method!r}; use one of {', '.join(SAS_PERMISSIONS)}")
        credential = self._container.credential
        account_key = getattr(credential, "account_key", None)
        if not account_key:
            raise ConfigurationError(
                f"sink {self.spec.name!r}: signing a SAS URL needs the storage account key (connection string or AZURE_STORAGE_KEY)"
            )
        blob = self._container.get_blob_client(key)
        sas = generate_blob_sas(
            account_name=blob.account_name,
            container_name=self._container.container_name,
            blob_name=key,
            account_key=account_key,
            permission=BlobSasPermissions(**flags),
            expiry=datetime.now(UTC) + timedelta(seconds=expires),
        )
        return f"{blob.url}?{sas}"


def open_backend(spec: SinkSpec, url: str) -> BlobStore:
    with sdk_required():
        return BlobStore(spec, url)
