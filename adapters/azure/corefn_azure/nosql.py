"""Cosmos DB change feed documents (``func.DocumentList``).

The change feed (latest-version mode, the one the Functions trigger reads) delivers the current
version of each inserted or replaced document and no deletes, and cannot tell an insert from an
update: every change is an ``upsert`` with ``old = null``. ``keys`` are the document's ``id`` and
its partition key; the feed does not name the partition key path, so it comes from the app's
declaration (``app.table(name, key=...)`` or the ``azure`` provider option ``partition_key``), or
``Metadata.corefn.partition_key`` in JSON. ``new`` is the document without Cosmos DB's system
properties (``_rid, _self, _etag, _attachments, _ts, _lsn``); ``_ts`` (epoch seconds) is the
change's ``time`` and ``_lsn`` its ``sequence``.

As JSON, the host sends the worker the document list itself: a bare array of documents (or one
document). Real change-feed documents always carry the system properties, and that is the
signature corefn recognises; an array of plain objects without them is not claimed (with
``--cloud azure`` it is a direct invoke).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from corefn.events import Event, NoSqlChange
from corefn.payload import Reader
from corefn_azure._common import (
    EventShape,
    decode_json_text,
    time_value,
)
from corefn_azure._envelope import HostShape, envelope_parts, hint, host_parts

SYSTEM_FIELDS = frozenset({"_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"})
SIGNATURE = ("id", "_rid", "_self", "_ts")


def is_change_document(value: Any) -> bool:
    return isinstance(value, dict) and all(key in value for key in SIGNATURE)


def key_name(partition_key: str | None) -> str | None:
    """``/deviceId`` → ``deviceId``; nested paths keep their slashes (``address/city``)."""
    if not partition_key:
        return None
    name = partition_key.strip("/")
    return name if name and name != "id" else None


def _lookup(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def with_partition_key(event: NoSqlChange, partition_key: str | None) -> NoSqlChange:
    """The change with its partition key added to ``keys`` (the run time knows the path from the
    declaration; the binding object does not carry it)."""
    pk = key_name(partition_key)
    if pk is None or pk in event.keys:
        return event
    changed: NoSqlChange = event.replace(keys={**event.keys, pk: _lookup(event.new or {}, pk)})
    return changed


def changes(reader: Reader, docs: Any, table: str | None, partition_key: str | None, at: str, raw: Any) -> list[Event]:
    if isinstance(docs, Mapping):
        docs = [docs]
    if not isinstance(docs, list):
        raise reader.error(at or "$", "should be a list of documents")
    pk = key_name(partition_key)
    events: list[Event] = []
    for i, doc in enumerate(docs):
        where = f"{at}[{i}]"
        if not isinstance(doc, Mapping):
            raise reader.error(where, "should be a document object")
        doc = dict(doc)
        doc_id = reader.str(doc, "id", at=where)
        keys: dict[str, Any] = {"id": doc_id}
        if pk is not None:
            keys[pk] = _lookup(doc, pk)
        ts = reader.get(doc, "_ts", (int, float), default=None, at=where)
        lsn = reader.get(doc, "_lsn", (int, str), default=None, at=where)
        events.append(
            NoSqlChange(
                table=table,
                operation="upsert",
                keys=keys,
                new={k: v for k, v in doc.items() if k not in SYSTEM_FIELDS},
                old=None,
                time=time_value(reader, None if ts is None else ts * 1000, f"{where}._ts"),
                sequence=None if lsn is None else str(lsn),
                raw=doc if raw is None else raw,
            )
        )
    return events


class CosmosDocuments(EventShape):
    """The bare document list (or one document) with Cosmos DB system properties."""

    name: ClassVar[str] = "cosmosdb-documents"
    kind: ClassVar[str] = "nosql"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_change_document(raw[0] if isinstance(raw, list) and raw else raw)

    def to_events(self) -> list[Event]:
        return changes(self.reader, self.raw, None, None, "", None)


class HostCosmos(HostShape):
    """Host envelope whose trigger value is a document list (an array, or its JSON text) and
    whose metadata carries no other trigger's keys. ``Metadata.corefn`` may name the
    ``container`` and ``partition_key``."""

    name: ClassVar[str] = "host-cosmosdb"
    kind: ClassVar[str] = "nosql"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        parts = envelope_parts(raw)
        if parts is None:
            return False
        docs = decode_json_text(parts[0])
        return isinstance(docs, list) and bool(docs) and isinstance(docs[0], dict) and "id" in docs[0]

    def to_events(self) -> list[Event]:
        r = self.reader
        value, meta = host_parts(r, self.raw)
        docs = decode_json_text(value)
        return changes(r, docs, hint(r, meta, "container"), hint(r, meta, "partition_key"), "Data", None)


class DocumentListObject(EventShape):
    """``func.DocumentList`` from ``@app.cosmos_db_trigger``. A failure is raised: the trigger
    then retries the batch from its lease's checkpoint rather than skipping it."""

    name: ClassVar[str] = "document-list"
    kind: ClassVar[str] = "nosql"
    binding: ClassVar[str] = "DocumentList"

    def to_events(self) -> list[Event]:
        # not binding_object(): a JSON document list forced here with --shape reads as well
        return changes(self.reader, list(self.raw), None, None, "", None)
