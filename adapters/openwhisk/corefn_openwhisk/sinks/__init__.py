"""IBM Cloud sink backends for OpenWhisk (IBM Cloud Functions), found by URL scheme.

==================================  ==========  ==============================================
URL                                 family      service
==================================  ==========  ==============================================
``cloudant://db``                   table       Cloudant (CouchDB API) at ``CLOUDANT_URL``
``cloudant://host/db``              table       Cloudant at ``https://host``
==================================  ==========  ==============================================

IBM Cloud's other two services speak open protocols, so their backends are cloud-neutral and live
in the core: Cloud Object Storage is ``cos://`` (:mod:`corefn.sinks.s3compat`, its S3 API) and
Event Streams is ``kafka://`` (:mod:`corefn.sinks.kafka`). No SDK is imported by this package:
each backend imports its SDK when first opened and keeps one client per process.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from corefn.errors import (
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.kit.sinks import VERSION_FIELD, SdkPackages
from corefn.kit.sinks import sdk_required as missing_sdk

#: HTTP status → error class, for Cloudant (IBM's 429 "too many requests" is its throttle)
STATUS_ERRORS: dict[int, type[SinkError]] = {
    401: SinkUnavailableError,
    403: SinkUnavailableError,
    404: SinkNotFoundError,
    409: SinkConflictError,
    412: SinkConflictError,
    429: SinkThrottledError,
    500: SinkUnavailableError,
    502: SinkUnavailableError,
    503: SinkThrottledError,
    504: SinkUnavailableError,
}


EXTRA = "openwhisk"
#: top-level module → the pip package that provides it
SDK_PACKAGES: SdkPackages = {
    "ibmcloudant": lambda name: "ibmcloudant",
    "ibm_cloud_sdk_core": lambda name: "ibm-cloud-sdk-core",
}


def sdk_required() -> AbstractContextManager[None]:
    """A missing SDK fails with the pip command that installs it, not a bare ImportError."""
    return missing_sdk(EXTRA, SDK_PACKAGES)


__all__ = ["STATUS_ERRORS", "VERSION_FIELD", "sdk_required"]
