"""Azure Table Storage as a corefn table (azure-data-tables).

URL: ``aztable://table`` or ``aztable://account/table`` (credentials as in the package
docstring; Azurite's connection string works). The table must exist (deploy creates it).

Mapping. The sink's ``key`` attribute becomes the PartitionKey and its ``sort_key`` the RowKey
(``''`` when the sink has none). Both are derived copies: the item keeps its own attributes, so
their JSON types come back unchanged. Key values must be strings or integers. Table Storage
forbids ``/ \\ # ?`` and control characters in keys, so those (and ``%``) are percent-encoded;
an integer sort key is written as ``n + 2**63`` in 20 digits so the service's string order is the
numeric order (a partition should not mix string and integer sort keys).

Values: strings, booleans, floats and 64-bit integers are native properties (queryable in the
portal); ``null``, lists and objects are stored as their JSON text, and the names of those
properties are kept in ``corefnJson`` so reads restore them. Service limits apply: 1 MiB per
entity, 64 KiB per string property, 252 user properties, names that are C# identifiers.

Versions are the entity ETag: ``if_version`` is an ``If-Match`` replace, ``if_absent`` an
insert (409 when the entity exists).
"""

from __future__ import annotations

import json
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
from corefn_azure.sinks import StorageTarget, azure_errors, sdk_required, to_sink_error

JSON_PROPERTIES = "corefnJson"
SYSTEM_PROPERTIES = frozenset({"PartitionKey", "RowKey", "Timestamp", JSON_PROPERTIES})
INT64 = range(-(2**63), 2**63)

#: sort-key operator → OData comparison on RowKey
SORT_OPERATORS: dict[str, str] = {"=": "eq", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
FORBIDDEN = {c: f"%{ord(c):02X}" for c in "%/\\#?" + "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))}


def key_text(value: Any, *, ordered: bool = False) -> str:
    """A PartitionKey / RowKey for a key value (see the module docstring for the encoding)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigurationError(f"Table Storage keys must be strings or integers, not {type(value).__name__}")
    if isinstance(value, int):
        if value not in INT64:
            raise ConfigurationError(f"integer key {value} is outside the 64-bit range Table Storage stores")
        return f"{value + 2**63:020d}" if ordered else str(value)
    return "".join(FORBIDDEN.get(c, c) for c in value)


def _next_prefix(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class AzureTable:
    families: ClassVar[tuple[str, ...]] = ("table",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from azure.data.tables import TableClient

        self.spec = spec
        self.key, self.sort_key = key_names(spec)
        self.target = StorageTarget.parse(url)
        self._table = self.target.client(TableClient, "table")

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        scope = StorageTarget.parse(url).scope("table", "tables")
        return [Permission("azure", ("Storage Table Data Contributor",), scope)]

    # -- item <-> entity ------------------------------------------------------------------------

    def _keys(self, key: Any, sort: Any) -> tuple[str, str]:
        check_sort(self.spec.name, self.sort_key, sort)
        return key_text(key), "" if self.sort_key is None else key_text(sort, ordered=True)

    def _entity(self, item: Mapping[str, Any]) -> dict[str, Any]:
        from azure.data.tables import EdmType, EntityProperty

        data = item_fields(self.spec.name, item, self.key, self.sort_key)
        pk, rk = self._keys(data[self.key], data.get(self.sort_key) if self.sort_key else None)
        entity: dict[str, Any] = {"PartitionKey": pk, "RowKey": rk}
        encoded: list[str] = []
        for name, value in data.items():
            if name in SYSTEM_PROPERTIES:
                raise ConfigurationError(f"sink {self.spec.name!r}: attribute name {name!r} is reserved by Table Storage")
            if isinstance(value, str | bool | float):
                entity[name] = value
            elif isinstance(value, int) and value in INT64:
                entity[name] = EntityProperty(value, EdmType.INT64)
            else:
                entity[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                encoded.append(name)
        if encoded:
            entity[JSON_PROPERTIES] = json.dumps(encoded)
        return entity

    @staticmethod
    def _item(entity: Mapping[str, Any]) -> dict[str, Any]:
        encoded = set(json.loads(entity.get(JSON_PROPERTIES) or "[]"))
        item: dict[str, Any] = {}
        for name, value in entity.items():
            if name in SYSTEM_PROPERTIES:
                continue
            value = getattr(value, "value", value)  # Int64 comes back as EntityProperty
            item[name] = json.loads(value) if name in encoded else value
        metadata = getattr(entity, "metadata", {})
        item[VERSION_FIELD] = metadata.get("etag")
        return item

    # -- the Table protocol ---------------------------------------------------------------------

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        pk, rk = self._keys(key, sort)
        try:
            with azure_errors(self.spec.name):
                return self._item(self._table.get_entity(pk, rk))
        except SinkNotFoundError:
            return None

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        from azure.core import MatchConditions
        from azure.data.tables import UpdateMode

        entity = self._entity(item)
        with gone_is_conflict(self.spec.name, if_version), azure_errors(self.spec.name):
            if if_absent:
                written = self._table.create_entity(entity)
            elif if_version is not None:
                written = self._table.update_entity(
                    entity, UpdateMode.REPLACE, etag=str(if_version), match_condition=MatchConditions.IfNotModified
                )
            else:
                written = self._table.upsert_entity(entity, UpdateMode.REPLACE)
        stored = {k: v for k, v in item.items() if k != VERSION_FIELD}
        stored[VERSION_FIELD] = written.get("etag")
        return stored

    def delete(self, key: Any, sort: Any = None) -> None:
        pk, rk = self._keys(key, sort)
        with azure_errors(self.spec.name):
            self._table.delete_entity(pk, rk)  # a missing entity is not an error for the SDK either

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """One partition in RowKey order; the sort condition is evaluated by the service."""
        check_sort_op(self.spec.name, self.sort_key, sort_op, sort_value, SORT_OPERATORS)
        condition, parameters = "PartitionKey eq @pk", {"pk": key_text(key)}
        if sort_op is not None:
            bound = key_text(sort_value, ordered=True)
            if sort_op == "begins_with":
                if bound:
                    condition += " and RowKey ge @lo and RowKey lt @hi"
                    parameters |= {"lo": bound, "hi": _next_prefix(bound)}
            else:
                condition += f" and RowKey {SORT_OPERATORS[sort_op]} @rk"
                parameters["rk"] = bound
        page = min(limit, 1000) if limit else None
        with azure_errors(self.spec.name):
            pages = self._table.query_entities(condition, parameters=parameters, results_per_page=page)
        return islice((self._item(entity) for entity in translated_items(self.spec.name, to_sink_error, pages)), limit)


def open_backend(spec: SinkSpec, url: str) -> AzureTable:
    with sdk_required():
        return AzureTable(spec, url)
