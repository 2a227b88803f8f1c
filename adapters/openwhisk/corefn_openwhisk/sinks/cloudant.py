"""IBM Cloudant as a corefn table (ibmcloudant SDK, CouchDB API).

URL: ``cloudant://db`` (service URL from ``CLOUDANT_URL``) or ``cloudant://host/db``
(``https://host``). Credentials follow the IBM SDK's own environment convention for the service
name ``CLOUDANT``: ``CLOUDANT_APIKEY`` (IAM), or ``CLOUDANT_AUTH_TYPE=basic`` with
``CLOUDANT_USERNAME`` / ``CLOUDANT_PASSWORD``, ...; with none set, requests go unauthenticated
(a local CouchDB or pouchdb-server in admin party mode). The database must exist.

Layout. ``_id`` is the key, or ``{key}:{sort}`` when the sink has a sort key, so one partition is
one contiguous range of the primary index and ``query`` is an ``_all_docs`` range read (no
secondary index to create, works the same on CouchDB). In the key ``%`` and ``:`` are
percent-encoded (and a leading ``_``, which CouchDB reserves); integer sort keys are written as
``n + 2**63`` in 20 digits so that id order is numeric order (a partition should not mix
string and integer sort keys). Items keep their own key attributes, so types round-trip.
Attribute names starting with ``_`` are CouchDB's and are refused.

Versions are the document's ``_rev``. ``if_version`` writes with that ``_rev`` and
``if_absent`` without one: CouchDB answers 409 when the stored revision differs. An
unconditional ``put`` or ``delete`` reads the current ``_rev`` first (``_all_docs?key=``) and retries a few
times if someone else wrote in between.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from itertools import islice
from typing import Any, ClassVar

from corefn.errors import (
    ConfigurationError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkUnavailableError,
)
from corefn.kit.sinks import (
    VERSION_FIELD,
    check_sort,
    check_sort_op,
    from_status,
    item_fields,
    key_names,
    retry_after,
    translated,
)
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_openwhisk.sinks import STATUS_ERRORS, sdk_required

HIGH = "\ufff0"  # sorts after any character a key can continue with
PAGE = 200
RETRIES = 5
#: any of these (CLOUDANT_*) means credentials are configured; without them the SDK would
#: fall back to container auth, so none at all means an unauthenticated local CouchDB
AUTH_VARIABLES = ("AUTH_TYPE", "APIKEY", "USERNAME", "BEARER_TOKEN")
SORT_OPERATORS = ("=", "<", "<=", ">", ">=")  # and begins_with


def to_sink_error(sink: str, exc: BaseException) -> SinkError | None:
    """The SinkError for an IBM SDK / requests exception (None: not a service failure)."""
    from ibm_cloud_sdk_core import ApiException
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout

    if isinstance(exc, ApiException):
        message = f"Cloudant answered {exc.status_code}: {exc.message}"
        wait = retry_after(getattr(exc.http_response, "headers", None))
        return from_status(sink, exc.status_code, STATUS_ERRORS, message, exc, wait)
    if isinstance(exc, RequestsConnectionError | Timeout):
        return SinkUnavailableError(sink, f"Cloudant cannot be reached: {exc}", exc)
    return None


def cloudant_errors(sink: str) -> AbstractContextManager[None]:
    """Re-raise IBM SDK exceptions as the SinkError family (the original is ``cause``)."""
    return translated(sink, to_sink_error)


def key_part(value: Any, *, ordered: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigurationError(f"Cloudant keys must be strings or integers, not {type(value).__name__}")
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ConfigurationError(f"integer key {value} is outside the 64-bit range")
        return f"{value + 2**63:020d}" if ordered else str(value)
    text = value.replace("%", "%25")
    return text if ordered else text.replace(":", "%3A")


def parse_url(url: str) -> tuple[str, str]:
    """(service URL, database) from ``cloudant://db`` or ``cloudant://host/db``."""
    parts = [part for part in url.partition("://")[2].split("?")[0].split("/") if part]
    if len(parts) == 1:
        service = os.environ.get("CLOUDANT_URL")
        if not service:
            raise ConfigurationError(f"sink URL {url!r} needs CLOUDANT_URL, or name the host: cloudant://HOST/{parts[0]}")
        return service.rstrip("/"), parts[0]
    if len(parts) == 2:
        return f"https://{parts[0]}", parts[1]
    raise ConfigurationError(f"sink URL {url!r}: use cloudant://DB or cloudant://HOST/DB")


class CloudantTable:
    families: ClassVar[tuple[str, ...]] = ("table",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from ibm_cloud_sdk_core import get_authenticator_from_environment
        from ibm_cloud_sdk_core.authenticators import NoAuthAuthenticator
        from ibmcloudant.cloudant_v1 import CloudantV1

        self.spec = spec
        self.key, self.sort_key = key_names(spec)
        service_url, self.db = parse_url(url)
        authenticator: Any = NoAuthAuthenticator()
        if any(os.environ.get(f"CLOUDANT_{name}") for name in AUTH_VARIABLES):
            try:
                authenticator = get_authenticator_from_environment("CLOUDANT")
            except ValueError as exc:  # the SDK validates the settings it found
                raise ConfigurationError(f"sink {spec.name!r}: Cloudant credentials: {exc}") from exc
        self._client = CloudantV1(authenticator=authenticator)
        self._client.set_service_url(service_url)

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        parts = [part for part in url.partition("://")[2].split("?")[0].split("/") if part]
        host = parts[0] if len(parts) == 2 else "*"
        return [Permission("openwhisk", ("Writer",), f"cloudantnosqldb:{host}/{parts[-1]}")]

    # -- ids and items --------------------------------------------------------------------------

    def _doc_id(self, key: Any, sort: Any) -> str:
        check_sort(self.spec.name, self.sort_key, sort)
        base = key_part(key)
        base = "%5F" + base[1:] if base.startswith("_") else base
        if self.sort_key is None:
            return base
        return f"{base}:{key_part(sort, ordered=True)}"

    def _document(self, item: Mapping[str, Any]) -> dict[str, Any]:
        data = item_fields(self.spec.name, item, self.key, self.sort_key)
        if reserved := [k for k in data if k.startswith("_")]:
            raise ConfigurationError(f"sink {self.spec.name!r}: attribute names starting with '_' are CouchDB's: {reserved}")
        return data

    @staticmethod
    def _item(document: Mapping[str, Any]) -> dict[str, Any]:
        item = {k: v for k, v in document.items() if not k.startswith("_")}
        item[VERSION_FIELD] = document["_rev"]
        return item

    def _rev(self, doc_id: str) -> str | None:
        """The current ``_rev`` (None: no such document), from the primary index without the
        body. Not HEAD's ETag: CouchDB puts the rev there, but CouchDB-compatible servers such as
        pouchdb-server answer with an ETag of their own."""
        with cloudant_errors(self.spec.name):
            rows = self._client.post_all_docs(self.db, key=doc_id).get_result().get("rows", [])
        for row in rows:
            if row.get("id") == doc_id and not row.get("value", {}).get("deleted"):
                return str(row["value"]["rev"])
        return None

    # -- the Table protocol ---------------------------------------------------------------------

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        doc_id = self._doc_id(key, sort)
        try:
            with cloudant_errors(self.spec.name):
                document = self._client.get_document(self.db, doc_id).get_result()
        except SinkNotFoundError as exc:
            if "database" in str(exc).lower():  # "Database does not exist." is not a missing item
                raise
            return None
        return self._item(document)

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        data = self._document(item)
        doc_id = self._doc_id(data[self.key], data.get(self.sort_key) if self.sort_key else None)
        if if_absent or if_version is not None:
            try:
                rev = self._write(doc_id, data, None if if_absent else str(if_version))
            except SinkNotFoundError as exc:  # a stale _rev of a deleted document
                if if_absent or "database" in str(exc).lower():
                    raise
                raise SinkConflictError(self.spec.name, f"no item {doc_id!r} at version {if_version!r}", exc.cause) from exc
        else:
            rev = self._retrying(lambda: self._write(doc_id, data, self._rev(doc_id)))
        return {**data, VERSION_FIELD: rev}

    def _write(self, doc_id: str, data: dict[str, Any], rev: str | None) -> str:
        document = {**data, "_id": doc_id, **({"_rev": rev} if rev else {})}
        with cloudant_errors(self.spec.name):
            return str(self._client.put_document(self.db, doc_id, document).get_result()["rev"])

    def _retrying(self, attempt: Any) -> Any:
        """Read-then-write with the fresh ``_rev``; another writer in between means read again."""
        for _ in range(RETRIES - 1):
            try:
                return attempt()
            except SinkConflictError:
                continue
        return attempt()

    def delete(self, key: Any, sort: Any = None) -> None:
        doc_id = self._doc_id(key, sort)

        def attempt() -> None:
            rev = self._rev(doc_id)
            if rev is None:
                return
            try:
                with cloudant_errors(self.spec.name):
                    self._client.delete_document(self.db, doc_id, rev=rev)
            except SinkNotFoundError:
                pass

        self._retrying(attempt)

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        check_sort_op(self.spec.name, self.sort_key, sort_op, sort_value, SORT_OPERATORS)
        if self.sort_key is None:
            found = self.get(key)
            return iter([found] if found is not None and limit != 0 else [])
        prefix = self._doc_id(key, "")  # "{key}:"
        bound = prefix + key_part(sort_value, ordered=True) if sort_op is not None else prefix
        ranges: dict[str | None, tuple[str, str, bool]] = {
            None: (prefix, prefix + HIGH, True),
            "=": (bound, bound, True),
            "<": (prefix, bound, False),
            "<=": (prefix, bound, True),
            ">": (bound, prefix + HIGH, True),
            ">=": (bound, prefix + HIGH, True),
            "begins_with": (bound, bound + HIGH, True),
        }
        start, end, inclusive = ranges[sort_op]
        rows = self._range(start, end, inclusive)
        if sort_op == ">":
            rows = (row for row in rows if row["_id"] != bound)
        return islice((self._item(row) for row in rows), limit)

    def _range(self, start: str, end: str, inclusive: bool) -> Iterator[dict[str, Any]]:
        """Documents with ids in [start, end] (or [start, end)), a page per request."""
        skip = 0
        while True:
            with cloudant_errors(self.spec.name):
                result = self._client.post_all_docs(
                    self.db, include_docs=True, start_key=start, end_key=end, inclusive_end=inclusive, limit=PAGE, skip=skip,
                ).get_result()  # fmt: skip
            rows = result.get("rows", [])
            for row in rows:
                if row.get("doc"):
                    yield row["doc"]
            if len(rows) < PAGE:
                return
            start, skip = rows[-1]["id"], 1


def open_backend(spec: SinkSpec, url: str) -> CloudantTable:
    with sdk_required():
        return CloudantTable(spec, url)
