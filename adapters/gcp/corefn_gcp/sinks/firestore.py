"""Firestore (Native mode) as a corefn table (google-cloud-firestore).

URL: ``firestore://collection`` (project from ``GOOGLE_CLOUD_PROJECT``),
``firestore://project/collection``, either with ``?database=name`` for a named database.
``FIRESTORE_EMULATOR_HOST`` points the client at the emulator.

Where items live. Without a sort key, an item is the document ``collection/{key}``. With one,
it is ``collection/{key}/collection/{sort}``: each partition is a subcollection (named like the
collection, so a collection-group query still sees every item), and ``query`` is a range on
the sort attribute inside it, which Firestore serves from its automatic single-field index (a
flat collection would need a composite index per table: equality on the key plus a range on
the sort key). Key values are strings or integers; in document ids ``%`` and ``/`` are
percent-encoded, as are ids Firestore reserves (``.``, ``..``, ``__x__``). Items keep their own
key attributes, so query order is the sort attribute's own type order (numbers numerically).

Values are stored as Firestore's own types, so JSON round-trips exactly, with Firestore's
limits: 1 MiB per document, integers within 64 bits, and no array directly inside an array.

Versions are the document's ``update_time`` (RFC 3339 with nanoseconds). ``if_absent`` is a
``create`` (ALREADY_EXISTS when the document exists); ``if_version`` is an ``update`` with an
``update_time`` precondition that also deletes the fields the new item dropped, so the write is
a full replacement and fails (FAILED_PRECONDITION) if anyone wrote in between.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any, ClassVar

from corefn.errors import ConfigurationError, SinkConflictError
from corefn.kit.sinks import VERSION_FIELD, check_sort, check_sort_op, item_fields, key_names, translated_items
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_gcp.sinks import google_errors, project_and_name, sdk_required, to_sink_error

#: sort-key operator → Firestore filter operator (begins_with is a range, see ``query``)
SORT_OPERATORS: dict[str, str] = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
PREFIX_END = "\uf8ff"  # sorts after every character a prefix can be followed by


def doc_id(value: Any) -> str:
    """A document id for a key value (see the module docstring)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigurationError(f"Firestore keys must be strings or integers, not {type(value).__name__}")
    text = str(value).replace("%", "%25").replace("/", "%2F")
    if text in ("", ".", "..") or (text.startswith("__") and text.endswith("__")):
        text = text.replace(".", "%2E").replace("_", "%5F") or "%00"
    return text


class FirestoreTable:
    families: ClassVar[tuple[str, ...]] = ("table",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from google.cloud import firestore

        self.spec = spec
        self.key, self.sort_key = key_names(spec)
        project, collection, options = project_and_name(url)
        extra = {"database": options["database"]} if options.get("database") else {}
        with google_errors(spec.name):
            self._client = firestore.Client(project=project, **extra)
        self._collection = self._client.collection(collection)

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        project, _, options = project_and_name(url)
        database = options.get("database") or "(default)"
        return [Permission("gcp", ("roles/datastore.user",), f"projects/{project or '*'}/databases/{database}")]

    def _ref(self, key: Any, sort: Any) -> Any:
        check_sort(self.spec.name, self.sort_key, sort)
        document = self._collection.document(doc_id(key))
        if self.sort_key is None:
            return document
        return document.collection(self._collection.id).document(doc_id(sort))

    @staticmethod
    def _item(snapshot: Any) -> dict[str, Any]:
        item: dict[str, Any] = snapshot.to_dict() or {}
        item[VERSION_FIELD] = snapshot.update_time.rfc3339()
        return item

    def get(self, key: Any, sort: Any = None) -> dict[str, Any] | None:
        ref = self._ref(key, sort)
        with google_errors(self.spec.name):
            snapshot = ref.get()
        return self._item(snapshot) if snapshot.exists else None

    def put(self, item: Mapping[str, Any], *, if_version: Any = None, if_absent: bool = False) -> dict[str, Any]:
        data = item_fields(self.spec.name, item, self.key, self.sort_key)
        ref = self._ref(data[self.key], data.get(self.sort_key) if self.sort_key else None)
        with google_errors(self.spec.name):
            if if_absent:
                written = ref.create(data)
            elif if_version is not None:
                written = self._replace_at(ref, data, str(if_version))
            else:
                written = ref.set(data)
        return {**data, VERSION_FIELD: written.update_time.rfc3339()}

    def _replace_at(self, ref: Any, data: dict[str, Any], version: str) -> Any:
        from google.api_core.exceptions import FailedPrecondition, NotFound
        from google.cloud.firestore import DELETE_FIELD
        from google.cloud.firestore_v1.field_path import FieldPath

        current = ref.get()
        if not current.exists or current.update_time.rfc3339() != version:
            raise SinkConflictError(self.spec.name, f"item {ref.id!r} is not at version {version!r}")
        updates: dict[str, Any] = {FieldPath(name).to_api_repr(): value for name, value in data.items()}
        for name in current.to_dict() or {}:
            if name not in data:
                updates[FieldPath(name).to_api_repr()] = DELETE_FIELD
        try:
            return ref.update(updates, option=self._client.write_option(last_update_time=current.update_time))
        except (FailedPrecondition, NotFound) as exc:  # someone wrote (or deleted) since our read
            raise SinkConflictError(self.spec.name, f"item {ref.id!r} changed since version {version!r}", exc) from exc

    def delete(self, key: Any, sort: Any = None) -> None:
        ref = self._ref(key, sort)
        with google_errors(self.spec.name):
            ref.delete()  # deleting a missing document is not an error in Firestore either

    def query(
        self, key: Any, *, sort_op: str | None = None, sort_value: Any = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        check_sort_op(self.spec.name, self.sort_key, sort_op, sort_value, SORT_OPERATORS)
        if self.sort_key is None:
            found = self.get(key)
            return iter([found] if found is not None and limit != 0 else [])
        from google.cloud.firestore import FieldFilter
        from google.cloud.firestore_v1.field_path import FieldPath

        field = FieldPath(self.sort_key).to_api_repr()
        query = self._collection.document(doc_id(key)).collection(self._collection.id)
        if sort_op == "begins_with":
            query = query.where(filter=FieldFilter(field, ">=", sort_value))
            query = query.where(filter=FieldFilter(field, "<", sort_value + PREFIX_END))
        elif sort_op is not None:
            query = query.where(filter=FieldFilter(field, SORT_OPERATORS[sort_op], sort_value))
        query = query.order_by(field)
        if limit is not None:
            query = query.limit(limit)
        return islice(self._stream(query), limit)

    def _stream(self, query: Any) -> Iterator[dict[str, Any]]:
        """Lazy: nothing is asked of Firestore before the caller starts reading."""
        with google_errors(self.spec.name):
            snapshots = query.stream()
        for snapshot in translated_items(self.spec.name, to_sink_error, snapshots):
            yield self._item(snapshot)


def open_backend(spec: SinkSpec, url: str) -> FirestoreTable:
    with sdk_required():
        return FirestoreTable(spec, url)
