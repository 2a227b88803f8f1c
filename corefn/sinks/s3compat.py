"""Object stores that speak the S3 API at an endpoint of their own: ``cos://`` (IBM Cloud Object
Storage) and ``s3compat://`` (MinIO, Ceph RGW, Cloudflare R2, any S3-compatible service), written
once here so that no cloud's adapter has to import another's. Amazon S3 itself (``s3://``) is the
AWS adapter's :class:`corefn_aws.sinks.s3.S3Store`, a subclass that swaps in the AWS client and
IAM grants. boto3 is the S3 client for all of them, imported when a sink is first used
(``pip install 'corefn[s3compat]'``), as Redis and SQLAlchemy are for their backends.

URLs:

- ``cos://bucket[/prefix]?endpoint=https://s3.us-south.cloud-object-storage.appdomain.cloud``
  ``[&region=us-south]``: the bucket's regional (or private / direct) COS endpoint; without
  ``endpoint=`` the ``COREFN_COS_ENDPOINT`` variable is used. Credentials are COS *HMAC* keys (a
  service credential created with ``{"HMAC": true}``), read from ``COS_HMAC_ACCESS_KEY_ID`` /
  ``COS_HMAC_SECRET_ACCESS_KEY`` or else the standard ``AWS_ACCESS_KEY_ID`` /
  ``AWS_SECRET_ACCESS_KEY``: presigned URLs need HMAC keys (an IAM API key cannot sign).
- ``s3compat://bucket[/prefix]?endpoint=http://minio:9000[&region=...][&addressing=virtual]``:
  any other S3 API; without ``endpoint=`` the ``COREFN_S3_ENDPOINT`` variable is used; keys from
  ``S3_ACCESS_KEY_ID`` / ``S3_SECRET_ACCESS_KEY`` or else the standard AWS variables (MinIO's own
  client reads the same two).

Every prefix form stores keys under ``prefix/`` and lists them without it. Path-style addressing is
the default off AWS (MinIO serves only path style unless a domain is configured; COS accepts both).
The region only feeds SigV4 signing and defaults to ``us-east-1``, which MinIO and COS accept.

Streaming: ``put`` of a file-like object goes through boto3's managed transfer (multipart above
8 MiB, 8 MiB parts, 2 in flight and 2 read ahead; sink option ``upload_concurrency`` changes
both), so memory stays bounded whatever the object size: measured on moto, a 96 MiB upload peaks
at ~35 MiB of Python allocations (~52 MiB with 4 in flight) — sized for a 128 MB function;
``open`` returns the response's streaming body. ``url`` is a SigV4 presigned URL for the given
method. Content type defaults to a guess from the key, as the local store does.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, ClassVar, cast
from urllib.parse import parse_qs, urlsplit

from corefn.errors import (
    ConfigurationError,
    MissingExtraError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.sinks._errors import ErrorClass, family_by_type, translated, wrap
from corefn.sinks._keys import check_metadata
from corefn.sinks.base import ObjectInfo, Permission
from corefn.sinks.files import guess_type
from corefn.specs import SinkSpec

EXTRA = "s3compat"
MiB = 1024 * 1024
PART_SIZE = 8 * MiB
MAX_PARTS_IN_FLIGHT = 2

#: ``url(method=...)`` → the S3 operation a presigned URL allows
PRESIGN_OPERATIONS: dict[str, str] = {"GET": "get_object", "PUT": "put_object", "DELETE": "delete_object", "HEAD": "head_object"}

#: S3 API error codes (``ClientError.response["Error"]["Code"]``) → SinkError family. The codes are
#: Amazon's (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList);
#: COS and MinIO answer with the same ones. HEAD answers carry no body, so only the status: "404".
S3_ERROR_CODES: Mapping[str, ErrorClass] = {
    "NoSuchKey": SinkNotFoundError,
    "NoSuchBucket": SinkNotFoundError,
    "NotFound": SinkNotFoundError,
    "404": SinkNotFoundError,
    "PreconditionFailed": SinkConflictError,
    "412": SinkConflictError,
    "SlowDown": SinkThrottledError,
    "RequestLimitExceeded": SinkThrottledError,
    "503": SinkThrottledError,  # S3 answers 503 SlowDown, sometimes with the status as the code
    "ServiceUnavailable": SinkUnavailableError,
    "InternalError": SinkUnavailableError,
    "AccessDenied": SinkUnavailableError,
    "403": SinkUnavailableError,
    "ExpiredToken": SinkUnavailableError,
    "InvalidAccessKeyId": SinkUnavailableError,
    "SignatureDoesNotMatch": SinkUnavailableError,
}

#: botocore exceptions that are not ClientErrors (no service answer at all)
BOTOCORE_ERRORS: Mapping[str, ErrorClass] = {
    "botocore.exceptions.NoCredentialsError": SinkUnavailableError,
    "botocore.exceptions.PartialCredentialsError": SinkUnavailableError,
    "botocore.exceptions.NoRegionError": SinkUnavailableError,
    "botocore.exceptions.EndpointConnectionError": SinkUnavailableError,
    "botocore.exceptions.ConnectionError": SinkUnavailableError,
    "botocore.exceptions.ConnectTimeoutError": SinkUnavailableError,
    "botocore.exceptions.ReadTimeoutError": SinkUnavailableError,
    "botocore.exceptions.ParamValidationError": SinkError,
    "botocore.exceptions.BotoCoreError": SinkUnavailableError,
    "boto3.exceptions.S3UploadFailedError": SinkUnavailableError,
}


def translate_s3_error(sink: str, exc: BaseException) -> SinkError | None:
    """The SinkError for a boto3 / botocore exception from an S3 call, or None when it is not one."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response["Error"].get("Code"))
        status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        by_code = S3_ERROR_CODES.get(code) or S3_ERROR_CODES.get(status, SinkError)
        return wrap(sink, exc, by_code, f"{code}: {exc}")
    by_type = family_by_type(exc, BOTOCORE_ERRORS)
    return None if by_type is None else wrap(sink, exc, by_type)


def s3_errors(sink: str) -> contextlib.AbstractContextManager[None]:
    """Run a block, re-raising S3 API failures as the SinkError family (original as ``cause``)."""
    return translated(sink, translate_s3_error)


class GuardedStream(io.RawIOBase):
    """A response body whose read errors (a connection dropped mid-download) come out as the
    SinkError family too, like every other call's. Buffer it for small reads."""

    def __init__(self, body: Any, errors: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
        super().__init__()
        self._body = body
        self._errors = errors

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._errors():
            return bytes(self._body.read(None if size is None or size < 0 else size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


_clients: dict[tuple[str | None, ...], Any] = {}
_lock = threading.Lock()


def endpoint_client(endpoint: str, region: str, credentials: tuple[str, str] | None, addressing: str) -> Any:
    """A boto3 S3 client for one endpoint, created once per process per endpoint / region / key:
    creating one loads the service model (tens of milliseconds), using one is thread-safe."""
    key = (endpoint, region, credentials[0] if credentials else None, addressing)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                found = _clients[key] = _create(endpoint, region, credentials, addressing)
    return found


def _create(endpoint: str, region: str, credentials: tuple[str, str] | None, addressing: str) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise MissingExtraError("boto3", EXTRA) from None
    keys = {"aws_access_key_id": credentials[0], "aws_secret_access_key": credentials[1]} if credentials else {}
    config = Config(
        retries={"mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        signature_version="s3v4",
        s3={"addressing_style": addressing},
    )
    return boto3.session.Session(**keys).client("s3", region_name=region, endpoint_url=endpoint, config=config)


def url_parts(url: str, scheme: str) -> tuple[str, str, dict[str, str]]:
    """``scheme://bucket/prefix?a=b`` → (bucket, prefix, {a: b}); the bucket is required."""
    parts = urlsplit(url)
    if parts.scheme.lower() != scheme or not parts.netloc:
        raise ConfigurationError(f"sink URL {url!r} should look like {scheme}://bucket[/prefix]")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return parts.netloc, parts.path.strip("/"), query


class S3CompatibleStore:
    """An :class:`~corefn.sinks.base.ObjectStore` on a bucket behind any S3 API endpoint.

    Subclasses change data, not code: ``scheme``, where the endpoint and keys come from, and
    (by overriding :attr:`client`, :meth:`errors` and :meth:`permissions`) whose SDK session and
    IAM they use."""

    families: ClassVar[tuple[str, ...]] = ("object",)
    private_network: ClassVar[bool] = False
    scheme: ClassVar[str] = "s3compat"
    #: the variable read when the URL has no ``endpoint=`` (None: the endpoint is optional)
    endpoint_variable: ClassVar[str | None] = "COREFN_S3_ENDPOINT"
    #: (key id, secret) variables tried before the standard AWS ones
    key_variables: ClassVar[tuple[str, str]] = ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
    endpoint_hint: ClassVar[str] = "http://minio.example:9000"

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.bucket, prefix, self.query = url_parts(url, self.scheme)
        self.prefix = prefix + "/" if prefix else ""
        self.page_size = int(spec.options.get("page_size") or 1000)
        self.region = self.query.get("region")
        self.upload_concurrency = int(spec.options.get("upload_concurrency") or MAX_PARTS_IN_FLIGHT)
        self.addressing = self.query.get("addressing", "path")
        self._transfer: Any = None
        self.endpoint = self.query.get("endpoint") or (os.environ.get(self.endpoint_variable) if self.endpoint_variable else None)
        if self.endpoint_variable and not self.endpoint:
            raise ConfigurationError(
                f"sink {spec.name!r}: {url!r} needs ?endpoint={self.endpoint_hint} (or {self.endpoint_variable})"
            )
        key_id, secret = (os.environ.get(name) for name in self.key_variables)
        self.credentials = (key_id, secret) if key_id and secret else None

    @property
    def client(self) -> Any:
        return endpoint_client(str(self.endpoint), self.region or "us-east-1", self.credentials, self.addressing)

    def errors(self) -> contextlib.AbstractContextManager[None]:
        """The block every SDK call runs in (see :func:`s3_errors`)."""
        return s3_errors(self.name)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """None to grant: a self-hosted S3 API (MinIO, Ceph) is governed by its own access keys,
        not by any cloud's IAM, so deploy has nothing to write."""
        url_parts(url, cls.scheme)
        return []

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"sink {self.name!r}: object key must be a non-empty string")
        return self.prefix + key

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> bytes:
        with self.errors():
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def open(self, key: str) -> IO[bytes]:
        with self.errors():
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        return cast(IO[bytes], GuardedStream(body, self.errors))

    def info(self, key: str) -> ObjectInfo:
        with self.errors():
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return ObjectInfo(
            key=key,
            size=head.get("ContentLength"),
            etag=_etag(head.get("ETag")),
            content_type=head.get("ContentType"),
            modified=head.get("LastModified"),
            metadata=dict(head.get("Metadata") or {}),
        )

    def exists(self, key: str) -> bool:
        try:
            with self.errors():
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except LookupError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with self.errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix, PaginationConfig={"PageSize": self.page_size}
            )
            for page in pages:
                for entry in page.get("Contents", ()):
                    yield ObjectInfo(
                        key=entry["Key"][len(self.prefix) :],
                        size=entry.get("Size"),
                        etag=_etag(entry.get("ETag")),
                        modified=entry.get("LastModified"),
                    )

    def url(self, key: str, *, expires: int = 3600, method: str = "GET") -> str:
        operation = PRESIGN_OPERATIONS.get(method.upper())
        if operation is None:
            raise ConfigurationError(f"url method must be one of {', '.join(PRESIGN_OPERATIONS)}, got {method!r}")
        with self.errors():
            return str(
                self.client.generate_presigned_url(
                    operation, Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=int(expires)
                )
            )

    # ------------------------------------------------------------------ writing

    def put(
        self,
        key: str,
        data: bytes | IO[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        full = self._key(key)
        extra: dict[str, Any] = {"ContentType": content_type or guess_type(key), "Metadata": check_metadata(metadata, self.name)}
        if isinstance(data, str):
            data = data.encode()
        with self.errors():
            if isinstance(data, (bytes, bytearray, memoryview)):
                answer = self.client.put_object(Bucket=self.bucket, Key=full, Body=bytes(data), **extra)
                return ObjectInfo(key, len(data), _etag(answer.get("ETag")), extra["ContentType"], None, extra["Metadata"])
            self.client.upload_fileobj(data, self.bucket, full, ExtraArgs=extra, Config=self._transfer_config())
        return self.info(key)

    def _transfer_config(self) -> Any:
        if self._transfer is None:
            from boto3.s3.transfer import TransferConfig

            config = TransferConfig(
                multipart_threshold=PART_SIZE,
                multipart_chunksize=PART_SIZE,
                max_concurrency=self.upload_concurrency,
                preferred_transfer_client="classic",
            )
            # s3transfer reads a non-seekable stream ahead into memory, up to this many parts
            # (default 10, not settable in the constructor): this, not max_concurrency, bounds memory
            config.max_in_memory_upload_chunks = self.upload_concurrency
            self._transfer = config
        return self._transfer

    def delete(self, key: str) -> None:
        with self.errors():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


class CosStore(S3CompatibleStore):
    """IBM Cloud Object Storage through its S3-compatible API (see the module docstring)."""

    scheme: ClassVar[str] = "cos"
    endpoint_variable: ClassVar[str | None] = "COREFN_COS_ENDPOINT"
    key_variables: ClassVar[tuple[str, str]] = ("COS_HMAC_ACCESS_KEY_ID", "COS_HMAC_SECRET_ACCESS_KEY")
    endpoint_hint: ClassVar[str] = "https://s3.<region>.cloud-object-storage.appdomain.cloud"

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """IBM IAM service roles on the bucket: Content Reader (list + read), Object Writer
        (https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-iam-bucket-permissions)."""
        bucket, _, _ = url_parts(url, cls.scheme)
        resource = f"crn:v1:bluemix:public:cloud-object-storage:global:*:*:bucket:{bucket}"
        return [
            Permission("openwhisk", ("cloud-object-storage.content-reader",), resource),
            Permission("openwhisk", ("cloud-object-storage.object-writer",), resource),
        ]


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def open_backend(spec: SinkSpec, url: str) -> S3CompatibleStore:
    return S3CompatibleStore(spec, url)


def open_cos_backend(spec: SinkSpec, url: str) -> CosStore:
    return CosStore(spec, url)


__all__ = [
    "CosStore",
    "GuardedStream",
    "S3CompatibleStore",
    "BOTOCORE_ERRORS",
    "S3_ERROR_CODES",
    "endpoint_client",
    "open_backend",
    "open_cos_backend",
    "s3_errors",
    "translate_s3_error",
    "url_parts",
]
