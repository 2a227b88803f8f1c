"""Azure Cosmos DB (NoSQL API) as a corefn table (azure-cosmos).

URL: ``cosmos://account/database/container``: the endpoint is
``https://account.documents.azure.com:443/``, or ``https://host:port/`` when the first segment
is a host (``cosmos://localhost:8081/db/items`` for the emulator). The key is ``COSMOS_KEY``, or
the ``AccountKey`` of ``COSMOS_CONNECTION_STRING`` when its endpoint is this account. The
container must exist with partition key path ``/<the sink's key>``.

Mapping. The item's key attribute is the partition key value (its JSON type is kept). The
document ``id`` Cosmos requires is the sort-key value, or the key value when the sink has no
sort key, as text; ``/ \\ ? #`` and ``%`` are percent-encoded because Cosmos refuses them in ids.
An item may hold its own ``id`` attribute only when ``id`` is the sink's key or sort key (then it
must be a string Cosmos accepts as is); otherwise ``id`` is Cosmos's and is refused.

``query`` runs inside one logical partition (the ``x-ms-documentdb-partitionkey`` header), so it
costs no cross-partition fan-out: ``SELECT * FROM c WHERE c["sort"] <op> @v ORDER BY c["sort"]``
(``STARTSWITH`` for ``begins_with``), paged lazily by continuation token.

Versions are the document ``_etag``: ``if_version`` is a replace with ``If-Match`` (412 when it
changed, 404 when it is gone: both a conflict), ``if_absent`` a create (409 when it exists).
The SDK retries throttled (429) requests itself, honouring ``x-ms-retry-after-ms``, before we
map what remains to SinkThrottledError.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any, ClassVar

from corefn.errors import ConfigurationError, SinkNotFoundError
from corefn.kit.sinks import (
    VERSION_FIELD,
    check_sort,
    check_sort_op,
    gone_is_conflict,
    item_fields,
    key_names,
    translated_items,
)
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_azure.sinks import azure_errors, identity_credential, sdk_required, to_sink_error

SYSTEM_PROPERTIES = frozenset({"_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"})
FORBIDDEN_IN_ID = {c: f"%{ord(c):02X}" for c in "%/\\?#"}
SORT_OPERATORS = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
PAGE = 100


def parse_url(url: str) -> tuple[str, str, str, str]:
    """(endpoint, account, database, container)."""
    parts = [part for part in url.partition("://")[2].split("?")[0].split("/") if part]
    if len(parts) != 3:
        raise ConfigurationError(f"sink URL {url!r}: use cosmos://ACCOUNT/DATABASE/CONTAINER")
    account, database, container = parts
    is_host = "." in account or ":" in account
    endpoint = f"https://{account}/" if is_host else f"https://{account}.documents.azure.com:443/"
    return endpoint, account.split(".")[0].split(":")[0], database, container


def account_key(endpoint: str) -> Any:
    """``COSMOS_KEY``, the key of a ``COSMOS_CONNECTION_STRING`` for this account, else the
    managed identity (the data-plane role is a Cosmos DB SQL role assignment)."""
    if key := os.environ.get("COSMOS_KEY"):
        return key
    text = os.environ.get("COSMOS_CONNECTION_STRING", "")
    fields = dict(part.partition("=")[::2] for part in text.split(";") if "=" in part)
    if fields.get("AccountKey") and fields.get("AccountEndpoint", "").rstrip("/").split("//")[-1].split(":")[0] == (
        endpoint.rstrip("/").split("//")[-1].split(":")[0]
    ):
        return fields["AccountKey"]
    if fields.get("AccountKey"):
        raise ConfigurationError(f"Cosmos DB at {endpoint}: COSMOS_CONNECTION_STRING is for another account (set COSMOS_KEY, or neither for managed identity)")
    return identity_credential(f"Cosmos DB at {endpoint}")


def document_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigurationError(f"Cosmos ids are made from strings or numbers, not {type(value).__name__}")
    return "".join(FORBIDDEN_IN_ID.get(c, c) for c in str(value))


def _field(name: str) -> str:
    return f"c[{json.dumps(name)}]"


class CosmosTable:
    families: ClassVar[tuple[str, ...]] = ("table",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str, **client_options: Any) -> None:
        """``client_options`` go to ``CosmosClient`` (e.g. an azure-core ``transport``)."""
        from azure.cosmos import CosmosClient

        self.spec = spec
        self.key, self.sort_key = key_names(spec)
        endpoint, _, database, container = parse_url(url)
        with azure_errors(spec.name):  # the SDK reads the database account right away
            self._client = CosmosClient(endpoint, credential=account_key(endpoint), **client_options)
        self._container = self._client.get_database_client(database).get_container_client(container)

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        _, account, database, container = parse_url(url)
        scope = f"databaseAccounts/{account}/dbs/{database}/colls/{container}"
        return [Permission("azure", ("Cosmos DB Built-in Data Contributor",), scope)]

    @property
    def _own_id(self) -> bool:
        """Whether ``id`` is one of the item's own key attributes."""
        return "id" in (self.key, self.sort_key)

    def _id(self, key: Any, sort: Any) -> str:
        check_sort(self.spec.name, self.sort_key, sort)
        return document_id(key if self.sort_key is None else sort)

    def _document(self, item: Mapping[str, Any]) -> dict[str, Any]:
        data = item_fields(self.spec.name, item, self.key, self.sort_key)
        doc_id = self._id(data[self.key], data.get(self.sort_key) if self.sort_key else None)
        if self._own_id and data["id"] != doc_id:
            raise ConfigurationError(f"sink {self.spec.name!r}: a Cosmos id must be a string without / \\ ? # %: {data['id']!r}")
        if not self._own_id and "id" in data:
            raise ConfigurationError(f"sink {self.spec.name!r}: attribute 'id' is Cosmos DB's own (the sink's key is {self.key!r})")
        reserved = [k for k in data if k in SYSTEM_PROPERTIES]
        if reserved:
            raise ConfigurationError(f"sink {self.spec.name!r}: attribute names {reserved} are Cosmos DB's")
        return {**data, "id": doc_id}

    def _item(self, document: Mapping[str, Any]) -> dict[str, Any]:
        item = {k: v for k, v in document.items() if k not in SYSTEM_PROPERTIES and (k != "id" or self._own_id)}
        item[VERSION_FIELD] = document.get("_etag")
        return item

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        doc_id = self._id(key, sort)
        try:
            with azure_errors(self.spec.name):
                return self._item(self._container.read_item(doc_id, partition_key=key))
        except SinkNotFoundError:
            return None

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        from azure.core import MatchConditions

        document = self._document(item)
        with gone_is_conflict(self.spec.name, if_version), azure_errors(self.spec.name):
            if if_absent:
                written = self._container.create_item(document)
            elif if_version is not None:
                written = self._container.replace_item(
                    document["id"], document, etag=str(if_version), match_condition=MatchConditions.IfNotModified
                )
            else:
                written = self._container.upsert_item(document)
        return self._item(written)

    def delete(self, key: Any, sort: Any = None) -> None:
        doc_id = self._id(key, sort)
        try:
            with azure_errors(self.spec.name):
                self._container.delete_item(doc_id, partition_key=key)
        except SinkNotFoundError:
            pass

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        check_sort_op(self.spec.name, self.sort_key, sort_op, sort_value, SORT_OPERATORS)
        sql, parameters = "SELECT * FROM c", []
        if sort_op is not None and self.sort_key is not None:
            field = _field(self.sort_key)
            if sort_op == "begins_with":
                sql += f" WHERE STARTSWITH({field}, @v)"
            else:
                sql += f" WHERE {field} {SORT_OPERATORS[sort_op]} @v"
            parameters.append({"name": "@v", "value": sort_value})
        if self.sort_key is not None:
            sql += f" ORDER BY {_field(self.sort_key)}"
        page = min(limit, PAGE) if limit else PAGE
        with azure_errors(self.spec.name):
            results = self._container.query_items(sql, parameters=parameters or None, partition_key=key, max_item_count=page)
        return islice((self._item(doc) for doc in translated_items(self.spec.name, to_sink_error, results)), limit)


def open_backend(spec: SinkSpec, url: str) -> CosmosTable:
    with sdk_required():
        return CosmosTable(spec, url)
