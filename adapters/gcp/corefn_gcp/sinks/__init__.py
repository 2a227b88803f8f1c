"""Google Cloud sink backends, found by URL scheme (``corefn.sinks`` entry points).

===================================  ==========  =================================================
URL                                  family      service
===================================  ==========  =================================================
``gs://bucket``                      object      Cloud Storage
``firestore://collection``           table       Firestore (Native mode), default database
``firestore://project/collection``   table       ... in another project (``?database=name`` too)
``pubsub://topic``                   publisher   Pub/Sub
``pubsub://project/topic``           publisher   ... in another project
===================================  ==========  =================================================

The project is ``GOOGLE_CLOUD_PROJECT`` (set on Cloud Functions and Cloud Run), else whatever
Application Default Credentials name. Credentials are Application Default Credentials
(``GOOGLE_APPLICATION_CREDENTIALS`` or the runtime's service account). The SDKs honour the
emulator variables themselves (``STORAGE_EMULATOR_HOST``, ``PUBSUB_EMULATOR_HOST``,
``FIRESTORE_EMULATOR_HOST``) and then need no credentials.

No SDK is imported by this package. Every Google client library raises google-api-core's
exceptions (whose ``code`` is the HTTP status, for gRPC and REST alike), so
:func:`google_errors` is the one mapping for all three backends.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager

from corefn.errors import (
    ConfigurationError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.kit.sinks import VERSION_FIELD, SdkPackages, from_status, retry_after, translated
from corefn.kit.sinks import sdk_required as missing_sdk

#: HTTP status (google-api-core's ``code``) → error class. gRPC UNAVAILABLE arrives as 503 and
#: mostly means "not reachable", so 503 is unavailable here; 429 (RESOURCE_EXHAUSTED) throttles.
STATUS_ERRORS: dict[int, type[SinkError]] = {
    401: SinkUnavailableError,
    403: SinkUnavailableError,
    404: SinkNotFoundError,
    409: SinkConflictError,
    412: SinkConflictError,
    429: SinkThrottledError,
    500: SinkUnavailableError,
    502: SinkUnavailableError,
    503: SinkUnavailableError,
    504: SinkUnavailableError,
}


def to_sink_error(sink: str, exc: BaseException) -> SinkError | None:
    """The SinkError for a google-api-core / google-auth / transport exception (None: not ours)."""
    from google.api_core.exceptions import GoogleAPICallError, RetryError
    from google.auth.exceptions import GoogleAuthError

    if isinstance(exc, GoogleAPICallError):
        status = int(exc.code or 0)
        message = f"Google answered {status} {type(exc).__name__}: {exc.message}"
        wait = retry_after(getattr(getattr(exc, "response", None), "headers", None))
        return from_status(sink, status, STATUS_ERRORS, message, exc, wait)
    if isinstance(exc, RetryError | GoogleAuthError | ConnectionError | TimeoutError):
        return SinkUnavailableError(sink, f"Google Cloud cannot be reached: {exc}", exc)
    try:
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.exceptions import Timeout
    except ImportError:  # pragma: no cover - requests comes with google-cloud-storage
        return None
    if isinstance(exc, RequestsConnectionError | Timeout):
        return SinkUnavailableError(sink, f"Google Cloud cannot be reached: {exc}", exc)
    return None


def google_errors(sink: str) -> AbstractContextManager[None]:
    """Re-raise Google client exceptions as the SinkError family (the original is ``cause``)."""
    return translated(sink, to_sink_error)


EXTRA = "gcp"
#: top-level module → the pip package that provides it
SDK_PACKAGES: SdkPackages = {"google": lambda name: name.replace(".", "-").replace("-v1", "").replace("_v1", "")}


def sdk_required() -> AbstractContextManager[None]:
    """A missing SDK fails with the pip command that installs it, not a bare ImportError."""
    return missing_sdk(EXTRA, SDK_PACKAGES)


def project_and_name(url: str) -> tuple[str | None, str, dict[str, str]]:
    """``scheme://name`` or ``scheme://project/name`` (+ ``?k=v`` options)."""
    from urllib.parse import parse_qsl

    scheme, _, rest = url.partition("://")
    path, _, query = rest.partition("?")
    parts = [part for part in path.split("/") if part]
    if len(parts) == 1:
        return os.environ.get("GOOGLE_CLOUD_PROJECT") or None, parts[0], dict(parse_qsl(query))
    if len(parts) == 2:
        return parts[0], parts[1], dict(parse_qsl(query))
    raise ConfigurationError(f"sink URL {url!r}: use {scheme}://NAME or {scheme}://PROJECT/NAME")


__all__ = [
    "STATUS_ERRORS",
    "VERSION_FIELD",
    "google_errors",
    "project_and_name",
    "sdk_required",
    "to_sink_error",
]
