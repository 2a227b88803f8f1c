"""``s3://`` (Amazon S3): the core's S3-API object store with the AWS session and IAM grants.

URL: ``s3://bucket`` or ``s3://bucket/prefix`` (every key is stored under ``prefix/``; ``list``
gives keys without it). ``?region=eu-west-1`` overrides the region. Credentials and endpoint come
from the standard AWS chain (the Lambda role; ``AWS_ENDPOINT_URL`` for an emulator).

The store itself (streaming uploads with bounded memory, presigned URLs, the S3 error codes) is
:class:`corefn.sinks.s3compat.S3CompatibleStore`, shared with ``cos://`` (IBM COS) and
``s3compat://`` (MinIO ...), which live in the core because they belong to no one cloud.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, ClassVar

from corefn.sinks.base import Permission
from corefn.sinks.s3compat import S3CompatibleStore, url_parts
from corefn.specs import SinkSpec
from corefn_aws.sinks._aws import aws_errors, client


class S3Store(S3CompatibleStore):
    """An :class:`~corefn.sinks.base.ObjectStore` on an Amazon S3 bucket."""

    scheme: ClassVar[str] = "s3"
    endpoint_variable: ClassVar[str | None] = None  # AWS_ENDPOINT_URL, read by boto3 itself
    key_variables: ClassVar[tuple[str, str]] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

    @property
    def client(self) -> Any:
        """The process's shared AWS client (one boto3 session for every AWS sink)."""
        return client("s3", region=self.region)

    def errors(self) -> AbstractContextManager[None]:
        return aws_errors(self.name)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """Read, write and list as separate grants, so a deploy generator can drop what a
        function does not use."""
        bucket, prefix, _ = url_parts(url, cls.scheme)
        objects = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        return [
            Permission("aws", ("s3:GetObject",), objects),
            Permission("aws", ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"), objects),
            Permission("aws", ("s3:ListBucket",), f"arn:aws:s3:::{bucket}"),
        ]


def open_backend(spec: SinkSpec, url: str) -> S3Store:
    return S3Store(spec, url)
