"""What the AWS backends share: one boto3 session and client per service and endpoint per
process, and one table from AWS error codes to the SinkError family.

Why share clients across backends: creating a boto3 client costs tens of milliseconds (it loads
the service model), so three S3 sinks in one function should pay it once. boto3 clients are
thread-safe once created; creating them is not, hence the lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from typing import Any
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
from corefn.kit.sinks import ErrorClass, family_by_type, translated, wrap
from corefn.sinks.s3compat import BOTOCORE_ERRORS, S3_ERROR_CODES

#: AWS error codes (``ClientError.response["Error"]["Code"]``) → SinkError family
AWS_ERROR_CODES: Mapping[str, ErrorClass] = {
    **S3_ERROR_CODES,  # the S3 API's codes (NoSuchKey, SlowDown ...), shared with IBM COS and MinIO
    # not found
    "ResourceNotFoundException": SinkNotFoundError,
    "AWS.SimpleQueueService.NonExistentQueue": SinkNotFoundError,
    "QueueDoesNotExist": SinkNotFoundError,
    "NotFoundException": SinkNotFoundError,
    # a conditional write lost
    "ConditionalCheckFailedException": SinkConflictError,
    "TransactionConflictException": SinkConflictError,
    # slow down
    "Throttling": SinkThrottledError,
    "ThrottlingException": SinkThrottledError,
    "ThrottledException": SinkThrottledError,
    "RequestThrottled": SinkThrottledError,
    "RequestThrottledException": SinkThrottledError,
    "TooManyRequestsException": SinkThrottledError,
    "ProvisionedThroughputExceededException": SinkThrottledError,
    "LimitExceededException": SinkThrottledError,
    "KMSThrottlingException": SinkThrottledError,
    # cannot reach / not allowed / misconfigured
    "InternalServerError": SinkUnavailableError,
    "InternalFailure": SinkUnavailableError,
    "AccessDeniedException": SinkUnavailableError,
    "AuthorizationError": SinkUnavailableError,
    "ExpiredTokenException": SinkUnavailableError,
    "UnrecognizedClientException": SinkUnavailableError,
    "InvalidClientTokenId": SinkUnavailableError,
    "KMSAccessDeniedException": SinkUnavailableError,
}


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def translate_error(sink: str, exc: BaseException) -> SinkError | None:
    """The SinkError for a boto3 / botocore exception, or None when it is not one."""
    code = error_code(exc)
    if code is not None:
        family = AWS_ERROR_CODES.get(code)
        if family is None:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")  # type: ignore[attr-defined]
            family = AWS_ERROR_CODES.get(str(status), SinkError)
        return wrap(sink, exc, family, f"{code}: {exc}")
    family = family_by_type(exc, BOTOCORE_ERRORS)
    return None if family is None else wrap(sink, exc, family)


def aws_errors(sink: str) -> contextlib.AbstractContextManager[None]:
    """Run a block, re-raising AWS failures as the SinkError family (original as ``cause``)."""
    return translated(sink, translate_error)


_clients: dict[tuple[str | None, ...], Any] = {}
_session: Any = None
_lock = threading.Lock()


def client(service: str, *, region: str | None = None, endpoint: str | None = None, credentials: tuple[str, str] | None = None, addressing: str | None = None) -> Any:
    """A boto3 client, created once per process for each service / region / endpoint (the
    ``AWS_ENDPOINT_URL`` in force is part of the key, so pointing at an emulator takes effect)."""
    key = (service, region, endpoint, credentials[0] if credentials else None, os.environ.get("AWS_ENDPOINT_URL"))
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = _create(service, region, endpoint, credentials, addressing)
    return found


def _create(service: str, region: str | None, endpoint: str | None, credentials: tuple[str, str] | None, addressing: str | None) -> Any:
    global _session
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise MissingExtraError("boto3", "aws") from None
    if credentials is not None:
        session = boto3.session.Session(aws_access_key_id=credentials[0], aws_secret_access_key=credentials[1])
    else:
        if _session is None:
            _session = boto3.session.Session()
        session = _session
    config = Config(
        retries={"mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        signature_version="s3v4" if service == "s3" else None,
        s3={"addressing_style": addressing} if addressing else None,
    )
    return session.client(service, region_name=region, endpoint_url=endpoint, config=config)


def url_parts(url: str, scheme: str) -> tuple[str, str, dict[str, str]]:
    """``scheme://name/rest?a=b`` → (name, rest, {a: b}); the name is required."""
    parts = urlsplit(url)
    if parts.scheme.lower() != scheme or not parts.netloc:
        raise ConfigurationError(f"sink URL {url!r} should look like {scheme}://name")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return parts.netloc, parts.path.strip("/"), query
