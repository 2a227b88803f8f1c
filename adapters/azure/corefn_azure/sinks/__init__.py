"""Azure sink backends, found by URL scheme (``corefn.sinks`` entry points).

=========================================  ==========  ==========================================
URL                                        family      service
=========================================  ==========  ==========================================
``az://container``                         object      Blob Storage, account from the connection string
``az://account/container``                 object      Blob Storage, ``https://account.blob.<suffix>``
``azqueue://queue``, ``azqueue://a/q``     publisher   Queue Storage (base64 messages)
``aztable://table``, ``aztable://a/t``     table       Table Storage
``cosmos://account/database/container``    table       Cosmos DB (NoSQL API)
``servicebus://namespace/queue-or-topic``  publisher   Service Bus (REST send)
``eventhub://namespace/hub``               publisher   Event Hubs (REST send, :mod:`.eventhub`)
=========================================  ==========  ==========================================

Storage credentials (Blob, Queue, Table) follow the Azure CLI's variables: a one-segment URL
uses ``AZURE_STORAGE_CONNECTION_STRING`` (else ``AzureWebJobsStorage``, which every Function App
has; an Azurite connection string works as is). A two-segment URL names the account and uses
that connection string if it is for the same account, else ``AZURE_STORAGE_KEY`` or
``AZURE_STORAGE_SAS_TOKEN`` against ``<account>.<service>.<AZURE_STORAGE_ENDPOINT_SUFFIX or
core.windows.net>``, and **without a key or SAS, Microsoft Entra ID**: the function's managed
identity (:func:`identity_credential`; what the generated ARM template sets up: the URL names the
account and no setting holds a key). No SDK is imported by this package: each backend imports its SDK when it is
first opened, and keeps one client for the life of the process.

Every Azure SDK raises azure-core's exceptions, so :func:`azure_errors` is the one mapping to the
:class:`~corefn.errors.SinkError` family for all five backends.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

from corefn.errors import (
    ConfigurationError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.kit.sinks import VERSION_FIELD, SdkPackages, from_status, translated
from corefn.kit.sinks import retry_after as http_retry_after
from corefn.kit.sinks import sdk_required as missing_sdk

#: Blob and Queue SDKs wait 15 s, 18 s, 24 s between retries by default: too long inside a
#: function with a deadline; this gives 1 s, 3 s, 5 s (Table Storage uses azure-core's policy,
#: already sub-second)
STORAGE_RETRY: dict[str, Any] = {"initial_backoff": 1, "increment_base": 2, "retry_total": 3}

#: HTTP status → error class. Azure Storage answers 503 "ServerBusy" when it throttles.
STATUS_ERRORS: dict[int, type[SinkError]] = {
    401: SinkUnavailableError,
    403: SinkUnavailableError,
    404: SinkNotFoundError,
    409: SinkConflictError,
    410: SinkNotFoundError,
    412: SinkConflictError,
    429: SinkThrottledError,
    500: SinkUnavailableError,
    502: SinkUnavailableError,
    503: SinkThrottledError,
    504: SinkUnavailableError,
}


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a ``Retry-After`` (or Cosmos ``x-ms-retry-after-ms``) header, if any."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    if (ms := lowered.get("x-ms-retry-after-ms")) is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            return None
    return http_retry_after(lowered)


def to_sink_error(
    sink: str, exc: BaseException, statuses: Mapping[int, type[SinkError]] = STATUS_ERRORS
) -> SinkError | None:
    """The SinkError for an azure-core exception (None: not a service failure, let it through).
    ``statuses`` is for a service whose REST API gives a status another meaning."""
    from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        status = int(exc.status_code)
        code = getattr(exc, "error_code", None) or (exc.reason or "")
        message = f"Azure answered {status} {code}".rstrip()
        return from_status(sink, status, statuses, message, exc, retry_after(getattr(exc.response, "headers", None)))
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return SinkUnavailableError(sink, f"Azure cannot be reached: {exc}", exc)
    if isinstance(exc, AzureError):
        return SinkError(sink, str(exc), exc)
    return None


def azure_errors(sink: str, statuses: Mapping[int, type[SinkError]] = STATUS_ERRORS) -> AbstractContextManager[None]:
    """Re-raise azure-core exceptions as the SinkError family (the original is ``cause``)."""
    return translated(sink, partial(to_sink_error, statuses=statuses))


#: top-level module → the pip package that provides it (``azure.storage.blob`` → ``azure-storage-blob``)
SDK_PACKAGES: SdkPackages = {"azure": lambda name: name.replace(".", "-")}


def sdk_required() -> AbstractContextManager[None]:
    """A missing SDK fails with the pip command that installs it, not a bare ImportError."""
    return missing_sdk("azure", SDK_PACKAGES)


def _parse_connection_string(text: str) -> dict[str, str]:
    parts = (item.partition("=") for item in text.split(";") if item.strip())
    return {name.strip().lower(): value.strip() for name, _, value in parts}


@dataclass(frozen=True, slots=True)
class StorageTarget:
    """Where a Blob / Queue / Table URL points: one named resource in one storage account."""

    scheme: str
    resource: str
    account: str | None = None

    @classmethod
    def parse(cls, url: str) -> StorageTarget:
        scheme, _, rest = url.partition("://")
        parts = [part for part in rest.split("?")[0].split("/") if part]
        if len(parts) == 1:
            return cls(scheme, parts[0])
        if len(parts) == 2:
            return cls(scheme, parts[1], parts[0])
        raise ConfigurationError(f"sink URL {url!r}: use {scheme}://NAME or {scheme}://ACCOUNT/NAME")

    @property
    def connection_string(self) -> str | None:
        """The connection string to use, or None to build the endpoint from the account name."""
        text = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or os.environ.get("AzureWebJobsStorage")
        if self.account is None:
            if not text:
                raise ConfigurationError(
                    f"{self.scheme}://{self.resource} needs AZURE_STORAGE_CONNECTION_STRING (or AzureWebJobsStorage); "
                    f"or name the account: {self.scheme}://ACCOUNT/{self.resource}"
                )
            return text
        if text and _parse_connection_string(text).get("accountname") == self.account:
            return text
        return None

    def scope(self, service: str, collection: str) -> str:
        """The role-assignment scope of this resource (every account when the URL names none),
        e.g. ``storageAccounts/acct/blobServices/default/containers/photos``."""
        return f"storageAccounts/{self.account or '*'}/{service}Services/default/{collection}/{self.resource}"

    def endpoint(self, service: str) -> str:
        suffix = os.environ.get("AZURE_STORAGE_ENDPOINT_SUFFIX", "core.windows.net")
        return f"https://{self.account}.{service}.{suffix}"

    def credential(self) -> Any:
        """An account key or SAS credential from the environment (Azure CLI names), else the
        managed identity."""
        from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

        if key := os.environ.get("AZURE_STORAGE_KEY"):
            return AzureNamedKeyCredential(str(self.account), key)
        if sas := os.environ.get("AZURE_STORAGE_SAS_TOKEN"):
            return AzureSasCredential(sas.lstrip("?"))
        return identity_credential(f"{self.scheme}://{self.account}/{self.resource}")

    def client(self, cls: Any, service: str, **options: Any) -> Any:
        """``cls`` (ContainerClient, QueueClient, TableClient) for this resource."""
        conn = self.connection_string
        if conn is not None:
            return cls.from_connection_string(conn, self.resource, **options)
        return cls(self.endpoint(service), self.resource, credential=self.credential(), **options)


__all__ = [
    "STATUS_ERRORS",
    "STORAGE_RETRY",
    "VERSION_FIELD",
    "StorageTarget",
    "azure_errors",
    "sdk_required",
    "retry_after",
    "to_sink_error",
]


_IDENTITY: list[Any] = []


def identity_credential(what: str) -> Any:
    """The process's Microsoft Entra ID credential, made once: azure-identity's
    ``DefaultAzureCredential``, which inside a function app is its managed identity (App
    Service's ``IDENTITY_ENDPOINT``; ``AZURE_CLIENT_ID`` picks a user-assigned one) and on a
    developer's machine ``az login``
    (https://learn.microsoft.com/en-us/azure/developer/python/sdk/authentication/credential-chains).
    ``what`` names the resource in the error when azure-identity is missing."""
    if not _IDENTITY:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            raise ConfigurationError(
                f"{what}: no key or SAS is configured and azure-identity is not installed for managed identity "
                "(pip install 'corefn[azure]')"
            ) from None
        _IDENTITY.append(DefaultAzureCredential(exclude_interactive_browser_credential=True))
    return _IDENTITY[0]
