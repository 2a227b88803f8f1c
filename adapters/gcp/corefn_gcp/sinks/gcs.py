"""Google Cloud Storage as an object store (google-cloud-storage).

URL: ``gs://bucket`` (the bucket must exist: deploy creates it). ``STORAGE_EMULATOR_HOST``
points the client at an emulator, anonymously.

Memory stays bounded for any object size: a file-like ``put`` is a resumable upload sent in
2 MiB chunks, and ``open()`` is a reader that fetches 1 MiB ranges as the caller reads, each
naming the object generation it first saw: on Cloud Storage an overwrite meanwhile makes the
read fail instead of splicing two versions (gcp-storage-emulator ignores generations, so the
tests check the requests only).

``url()`` makes a V4 signed URL. Signing needs a private key: a service-account key
(``GOOGLE_APPLICATION_CREDENTIALS``) signs locally; on Cloud Functions / Cloud Run, whose
credentials have no key, the URL is signed by the IAM ``signBlob`` API as the runtime's service
account, which then needs ``roles/iam.serviceAccountTokenCreator`` on itself (declared by
:meth:`GcsStore.permissions`). With ``STORAGE_EMULATOR_HOST`` set, the URL points at the
emulator (which does not check signatures).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import IO, Any, ClassVar

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn.kit.sinks import CountingReader, TranslatedReader, check_metadata, translated_items
from corefn.sinks.base import ObjectInfo, Permission
from corefn.specs import SinkSpec
from corefn_gcp.sinks import google_errors, sdk_required, to_sink_error

MiB = 1024 * 1024
UPLOAD_CHUNK = 2 * MiB  # a multiple of 256 KiB; the upload stack holds ~4 copies of one chunk
READ_CHUNK = 1 * MiB
SIGNED_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


def bucket_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    bucket = rest.split("?")[0].strip("/")
    if not bucket or "/" in bucket:
        raise ConfigurationError(f"sink URL {url!r}: use gs://BUCKET")
    return bucket


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False


class GcsStore:
    families: ClassVar[tuple[str, ...]] = ("object",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from google.cloud.storage import Client

        self.spec = spec
        self.page_size: int | None = spec.options.get("page_size")
        with google_errors(spec.name):
            self._client = Client(project=os.environ.get("GOOGLE_CLOUD_PROJECT") or None)
        self._bucket = self._client.bucket(bucket_of(url))

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        bucket = bucket_of(url)
        return [
            Permission("gcp", ("roles/storage.objectAdmin",), f"projects/_/buckets/{bucket}"),
            # signed URLs from a key-less runtime identity go through IAM signBlob as itself
            Permission("gcp", ("roles/iam.serviceAccountTokenCreator",), "serviceAccounts/self"),
        ]

    def _info(self, blob: Any) -> ObjectInfo:
        return ObjectInfo(
            key=blob.name,
            size=blob.size,
            etag=blob.etag,
            content_type=blob.content_type,
            modified=blob.updated,
            metadata=dict(blob.metadata or {}),
        )

    def _existing(self, key: str) -> Any:
        with google_errors(self.spec.name):
            blob = self._bucket.get_blob(key)
        if blob is None:
            raise SinkNotFoundError(self.spec.name, f"no object {key!r} in gs://{self._bucket.name}")
        return blob

    def get(self, key: str) -> bytes:
        with google_errors(self.spec.name):
            return bytes(self._bucket.blob(key).download_as_bytes())

    def open(self, key: str) -> IO[bytes]:
        blob = self._existing(key)  # pins the generation every range read will ask for
        with google_errors(self.spec.name):
            reader = blob.open("rb", chunk_size=READ_CHUNK)
        return io.BufferedReader(TranslatedReader(reader.read, self.spec.name, to_sink_error, reader.close), READ_CHUNK)

    def put(
        self,
        key: str,
        data: bytes | IO[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        content_type = content_type or "application/octet-stream"
        blob = self._bucket.blob(key)
        blob.metadata = check_metadata(metadata, self.spec.name) or None
        with google_errors(self.spec.name):
            if isinstance(data, bytes | bytearray):
                blob.upload_from_string(bytes(data), content_type=content_type)
            else:
                blob.chunk_size = UPLOAD_CHUNK
                source = data if _seekable(data) else CountingReader(data)
                blob.upload_from_file(source, content_type=content_type, rewind=False)
        return self._info(blob)

    def delete(self, key: str) -> None:
        """Deleting a missing object is not an error (as on S3): the goal state holds."""
        try:
            with google_errors(self.spec.name):
                self._bucket.blob(key).delete()
        except SinkNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        with google_errors(self.spec.name):
            return bool(self._bucket.blob(key).exists())

    def info(self, key: str) -> ObjectInfo:
        return self._info(self._existing(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Cloud Storage lists in name order, one page (1000, or ``page_size``) per request."""
        with google_errors(self.spec.name):
            blobs = self._client.list_blobs(self._bucket, prefix=prefix or None, page_size=self.page_size)
        for blob in translated_items(self.spec.name, to_sink_error, blobs):
            yield self._info(blob)

    def url(self, key: str, *, expires: int = 3600, method: str = "GET") -> str:
        method = method.upper()
        if method not in SIGNED_METHODS:
            raise ConfigurationError(f"no signed URL for method {method!r}; use one of {', '.join(sorted(SIGNED_METHODS))}")
        options: dict[str, Any] = {"version": "v4", "expiration": timedelta(seconds=expires), "method": method}
        if emulator := os.environ.get("STORAGE_EMULATOR_HOST"):
            options["api_access_endpoint"] = emulator if "://" in emulator else f"http://{emulator}"
        with google_errors(self.spec.name):
            options.update(self._signer())
            return str(self._bucket.blob(key).generate_signed_url(**options))

    def _signer(self) -> dict[str, Any]:
        """Credentials that can sign, else the service account and token for IAM signBlob."""
        import google.auth
        from google.auth import credentials as auth_credentials
        from google.auth.transport.requests import Request

        credentials = self._client._credentials
        if isinstance(credentials, auth_credentials.Signing):
            return {"credentials": credentials}
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        if isinstance(credentials, auth_credentials.Signing):
            return {"credentials": credentials}
        credentials.refresh(Request())  # type: ignore[no-untyped-call]
        email = getattr(credentials, "service_account_email", None)
        if not email:
            raise ConfigurationError(
                f"sink {self.spec.name!r}: signed URLs need a service-account key or a service-account identity (IAM signBlob)"
            )
        return {"service_account_email": email, "access_token": credentials.token}


def open_backend(spec: SinkSpec, url: str) -> GcsStore:
    with sdk_required():
        return GcsStore(spec, url)
