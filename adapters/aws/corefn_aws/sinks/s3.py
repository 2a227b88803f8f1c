"""``s3://`` (Amazon S3) and ``cos://`` (IBM Cloud Object Storage through its S3-compatible API).

URLs:

- ``s3://bucket`` or ``s3://bucket/prefix`` (every key is stored under ``prefix/``; ``list``
  gives keys without it). ``?region=eu-west-1`` overrides the region.
- ``cos://bucket[/prefix]?endpoint=https://s3.us-south.cloud-object-storage.appdomain.cloud``
  ``[&region=us-south]``: the endpoint is the bucket's regional (or private / direct) COS
  endpoint; without ``endpoint=`` the ``COREFN_COS_ENDPOINT`` variable is used. Credentials are
  COS *HMAC* keys (a service credential created with ``{"HMAC": true}``), read from
  ``COS_HMAC_ACCESS_KEY_ID`` / ``COS_HMAC_SECRET_ACCESS_KEY`` or else the standard
  ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``: presigned URLs need HMAC keys (an IAM API
  key cannot sign). COS uses path-style addressing here (it accepts both).

Streaming: ``put`` of a file-like object goes through boto3's managed transfer (multipart above
8 MiB, 8 MiB parts, 2 in flight and 2 read ahead; sink option ``upload_concurrency`` changes
both), so memory stays bounded whatever the object size: measured on moto, a 96 MiB upload peaks
at ~35 MiB of Python allocations (~52 MiB with 4 in flight) — sized for a 128 MB Lambda;
``open`` returns the response's streaming body. ``url`` is a SigV4 presigned URL for the given
method. Content type defaults to a guess from the key, as the local store does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import IO, Any, ClassVar, cast

from corefn.errors import ConfigurationError
from corefn.sinks._keys import check_metadata
from corefn.sinks.base import ObjectInfo, Permission
from corefn.sinks.files import guess_type
from corefn.specs import SinkSpec
from corefn_aws.sinks._aws import GuardedStream, aws_errors, client, url_parts

MiB = 1024 * 1024
PART_SIZE = 8 * MiB
MAX_PARTS_IN_FLIGHT = 2

#: ``url(method=...)`` → the S3 operation a presigned URL allows
PRESIGN_OPERATIONS: dict[str, str] = {"GET": "get_object", "PUT": "put_object", "DELETE": "delete_object", "HEAD": "head_object"}


class S3Store:
    """An :class:`~corefn.sinks.base.ObjectStore` on an S3 bucket (or an S3-compatible one)."""

    kinds: ClassVar[tuple[str, ...]] = ("object",)
    private_network: ClassVar[bool] = False
    scheme: ClassVar[str] = "s3"

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.bucket, prefix, self.query = url_parts(url, self.scheme)
        self.prefix = prefix + "/" if prefix else ""
        self.page_size = int(spec.options.get("page_size") or 1000)
        self.region = self.query.get("region")
        self.upload_concurrency = int(spec.options.get("upload_concurrency") or MAX_PARTS_IN_FLIGHT)
        self._transfer: Any = None

    @property
    def client(self) -> Any:
        return client("s3", region=self.region)

    @classmethod
    def permissions(cls, url: str, kind: str) -> list[Permission]:
        """Read, write and list as separate grants, so a deploy generator can drop what a
        function does not use."""
        bucket, prefix, _ = url_parts(url, cls.scheme)
        objects = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        return [
            Permission("aws", ("s3:GetObject",), objects),
            Permission("aws", ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"), objects),
            Permission("aws", ("s3:ListBucket",), f"arn:aws:s3:::{bucket}"),
        ]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    def _key(self, key: str) -> str:
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"sink {self.name!r}: object key must be a non-empty string")
        return self.prefix + key

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> bytes:
        with aws_errors(self.name):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def open(self, key: str) -> IO[bytes]:
        with aws_errors(self.name):
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        return cast(IO[bytes], GuardedStream(self.name, body))

    def info(self, key: str) -> ObjectInfo:
        with aws_errors(self.name):
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
            with aws_errors(self.name):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except LookupError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with aws_errors(self.name):
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
        with aws_errors(self.name):
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
        with aws_errors(self.name):
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
        with aws_errors(self.name):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


class CosStore(S3Store):
    """IBM Cloud Object Storage through its S3-compatible API (see the module docstring)."""

    scheme: ClassVar[str] = "cos"

    def __init__(self, spec: SinkSpec, url: str) -> None:
        super().__init__(spec, url)
        self.endpoint = self.query.get("endpoint") or os.environ.get("COREFN_COS_ENDPOINT")
        if not self.endpoint:
            raise ConfigurationError(
                f"sink {spec.name!r}: {url!r} needs ?endpoint=https://s3.<region>.cloud-object-storage.appdomain.cloud "
                "(or COREFN_COS_ENDPOINT)"
            )
        self.region = self.region or "us-east-1"  # COS ignores it, SigV4 needs one
        key_id, secret = os.environ.get("COS_HMAC_ACCESS_KEY_ID"), os.environ.get("COS_HMAC_SECRET_ACCESS_KEY")
        self.credentials = (key_id, secret) if key_id and secret else None

    @property
    def client(self) -> Any:
        return client("s3", region=self.region, endpoint=self.endpoint, credentials=self.credentials, addressing="path")

    @classmethod
    def permissions(cls, url: str, kind: str) -> list[Permission]:
        """IBM IAM service roles on the bucket: Content Reader (list + read), Object Writer."""
        bucket, _, _ = url_parts(url, cls.scheme)
        resource = f"crn:v1:bluemix:public:cloud-object-storage:global:*:*:bucket:{bucket}"
        return [
            Permission("openwhisk", ("cloud-object-storage.content-reader",), resource),
            Permission("openwhisk", ("cloud-object-storage.object-writer",), resource),
        ]


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def open_backend(spec: SinkSpec, url: str) -> S3Store:
    return S3Store(spec, url)


def open_cos_backend(spec: SinkSpec, url: str) -> CosStore:
    return CosStore(spec, url)
