"""Firestore document changes.

- 2nd gen CloudEvents ``google.cloud.firestore.document.v1.created | updated | deleted |
  written`` (and their ``.withAuthContext`` variants). Google delivers their data as protobuf
  (``datacontenttype: application/protobuf``, a ``DocumentEventData``); it is decoded with the
  ``google-events`` types into the proto3 JSON mapping, which is exactly the JSON form the
  structured fixtures and the 1st gen events use, so one reader serves both.
- 1st gen background events ``providers/cloud.firestore/eventTypes/document.create | update |
  delete | write`` with JSON ``oldValue`` / ``value``.

Values arrive typed (``{"integerValue": "4"}``: proto3 JSON writes int64 as a string) and come
out as plain JSON, decoded lazily (:class:`~corefn.events.LazyMap`): a timestamp as its RFC 3339
text, bytes as their base64 text, a reference as its document path, a geo point as
``{"latitude", "longitude"}``. The table is the collection holding the document, ``keys`` its
document id. ``written`` events tell the operation by which of old / new value is present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from corefn.errors import MissingExtraError
from corefn.events import Event, LazyMap, NoSqlChange, NoSqlOperation, parse_time
from corefn.payload import Reader
from corefn_gcp._envelope import (
    EventShape,
    cloud_event_data,
    is_cloud_event_of,
    is_legacy_of,
    read_legacy,
)

_CE = "google.cloud.firestore.document.v1."
_LEGACY = "providers/cloud.firestore/eventTypes/document."

#: event type → operation; ``None`` = "written": decided by which values are present
_CE_VERBS: dict[str, NoSqlOperation | None] = {"created": "insert", "updated": "modify", "deleted": "remove", "written": None}
OPERATIONS: dict[str, NoSqlOperation | None] = {
    **{f"{_CE}{verb}{auth}": op for verb, op in _CE_VERBS.items() for auth in ("", ".withAuthContext")},
    f"{_LEGACY}create": "insert",
    f"{_LEGACY}update": "modify",
    f"{_LEGACY}delete": "remove",
    f"{_LEGACY}write": None,
}  # fmt: skip

#: (old present, new present) → operation of a "written" event
_BY_PRESENCE: dict[tuple[bool, bool], NoSqlOperation] = {(False, True): "insert", (True, True): "modify", (True, False): "remove"}

PROTOBUF = "application/protobuf"


# ----------------------------------------------------------------------------- typed values

_Decode = Callable[[Reader, Any, str], Any]


def _null(r: Reader, value: Any, where: str) -> None:
    if value not in (None, "NULL_VALUE", 0):
        raise r.error(where, f"should be null, got {value!r}")
    return None


def _typed(kind: type | tuple[type, ...], what: str) -> _Decode:
    def decode(r: Reader, value: Any, where: str) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise r.error(where, f"should be {what}, got {type(value).__name__}")
        return value

    return decode


def _integer(r: Reader, value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise r.error(where, f"should be an int64 (a decimal string), got {value!r}")


def _double(r: Reader, value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):  # proto3 JSON's names for the IEEE specials
        return float(value)
    raise r.error(where, f"should be a number, got {value!r}")


def _timestamp(r: Reader, value: Any, where: str) -> str:
    """Checked, then kept as Google wrote it (RFC 3339 in UTC, ``Z``; up to nanoseconds, which a
    datetime would cut to microseconds)."""
    if not isinstance(value, str):
        raise r.error(where, f"should be an RFC 3339 timestamp, got {type(value).__name__}")
    r.convert(value, parse_time, where, "an RFC 3339 timestamp")
    return value


def _geo_point(r: Reader, value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise r.error(where, "should be an object with latitude and longitude")
    return {axis: _double(r, value.get(axis, 0.0), f"{where}.{axis}") for axis in ("latitude", "longitude")}


def _array(r: Reader, value: Any, where: str) -> list[Any]:
    if not isinstance(value, dict):
        raise r.error(where, "should be an object with values")
    items = value.get("values") or []  # an empty array has no "values" at all
    if not isinstance(items, list):
        raise r.error(f"{where}.values", "should be a list")
    return [plain_value(r, item, f"{where}.values[{i}]") for i, item in enumerate(items)]


def _map(r: Reader, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise r.error(where, "should be an object with fields")
    return plain_fields(r, value.get("fields") or {}, f"{where}.fields")


#: Firestore's Value oneof (proto3 JSON names) → decoder to plain JSON
VALUE_TYPES: dict[str, _Decode] = {
    "nullValue": _null,
    "booleanValue": _typed(bool, "a boolean"),
    "integerValue": _integer,
    "doubleValue": _double,
    "timestampValue": _timestamp,
    "stringValue": _typed(str, "a string"),
    "bytesValue": _typed(str, "base64 text"),
    "referenceValue": _typed(str, "a document path"),
    "geoPointValue": _geo_point,
    "arrayValue": _array,
    "mapValue": _map,
}


def plain_value(r: Reader, value: Any, where: str) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        raise r.error(where, "should be a Firestore value: an object with exactly one type key")
    ((kind, inner),) = value.items()
    decode = VALUE_TYPES.get(kind)
    if decode is None:
        raise r.error(f"{where}.{kind}", "is not a Firestore value type")
    return decode(r, inner, f"{where}.{kind}")


def plain_fields(r: Reader, fields: Any, where: str) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise r.error(where, "should be an object of typed values")
    # sorted: Firestore maps are unordered, and protobuf decoding yields a different order on each
    # run; sorting makes inspect output (and handler iteration) stable
    return {name: plain_value(r, fields[name], f"{where}.{name}") for name in sorted(fields)}


# ------------------------------------------------------------------------------- documents


def _document(r: Reader, data: dict[str, Any], name: str) -> dict[str, Any] | None:
    """``data.value`` / ``data.oldValue``, or None when absent or empty (a delete's new value)."""
    doc = data.get(name)
    if doc is None or doc == {}:
        return None
    if not isinstance(doc, dict):
        raise r.error(f"data.{name}", "should be a Firestore document")
    if not isinstance(doc.get("fields", {}), dict):
        raise r.error(f"data.{name}.fields", "should be an object of typed values")
    return doc


def _lazy_fields(r: Reader, doc: dict[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if doc is None:
        return None
    return LazyMap(lambda: plain_fields(r, doc.get("fields") or {}, f"data.{name}.fields"))


def _split_path(r: Reader, path: str, field: str) -> tuple[str, str]:
    """``.../documents/users/u1/orders/o1`` → (``orders``, ``o1``): the collection holding the
    document is the table, the document id its key."""
    _, found, tail = path.partition("documents/")
    parts = tail.split("/") if found else []
    if len(parts) < 2 or len(parts) % 2 or not all(parts):
        raise r.error(field, f"should be a document path .../documents/COLLECTION/ID, got {path!r}")
    return parts[-2], parts[-1]


def change(r: Reader, event_type: str, type_field: str, data: Any, path: str, path_field: str, **extra: Any) -> NoSqlChange:
    if not isinstance(data, dict):
        raise r.error("data", "should be a Firestore DocumentEventData object")
    try:
        operation = OPERATIONS[event_type]
    except KeyError:
        raise r.error(type_field, f"is not a Firestore event type corefn knows ({event_type!r})") from None
    old, new = _document(r, data, "oldValue"), _document(r, data, "value")
    if operation is None:
        try:
            operation = _BY_PRESENCE[(old is not None, new is not None)]
        except KeyError:
            raise r.error("data.value", "and data.oldValue are both missing") from None
    table, key = _split_path(r, path, path_field)
    return NoSqlChange(
        table=table,
        operation=operation,
        keys={"id": key},
        new=_lazy_fields(r, new, "value"),
        old=_lazy_fields(r, old, "oldValue"),
        **extra,
    )


def decode_protobuf(r: Reader, data: bytes) -> dict[str, Any]:
    """``DocumentEventData`` protobuf bytes → its proto3 JSON mapping (the legacy JSON shape)."""
    try:
        from google.events.cloud.firestore_v1.types import DocumentEventData
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
    except ImportError:
        raise MissingExtraError("google-events", "gcp") from None
    try:
        message = DocumentEventData.pb().FromString(data)
    except (DecodeError, ValueError, TypeError) as exc:
        raise r.error("data", f"is not a Firestore DocumentEventData protobuf ({exc})") from None
    decoded: dict[str, Any] = MessageToDict(message)
    return decoded


# ---------------------------------------------------------------------------------- shapes


class FirestoreCloudEvent(EventShape):
    name: ClassVar[str] = "firestore-cloudevent"
    kind: ClassVar[str] = "nosql"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_cloud_event_of(raw, _CE)

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        data = cloud_event_data(r, raw)
        if isinstance(data, (bytes, bytearray)):
            data = decode_protobuf(r, bytes(data))
        subject = r.opt_str(raw, "subject") or r.opt_str(raw, "document")
        if subject is None:
            raise r.error("subject", "is missing (the changed document's path)")
        if not subject.startswith("documents/"):  # the "document" extension omits the prefix
            subject = f"documents/{subject}"
        return [
            change(r, r.str(raw, "type"), "type", data, subject, "subject", id=r.opt_str(raw, "id"), time=r.time(raw, "time"), raw=raw)
        ]


class FirestoreLegacy(EventShape):
    name: ClassVar[str] = "firestore-legacy"
    kind: ClassVar[str] = "nosql"

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return is_legacy_of(raw, _LEGACY)

    def to_events(self) -> list[Event]:
        r = self.reader
        legacy = read_legacy(r, self.raw)
        where = f"{legacy.at}.".lstrip(".")
        return [
            change(r, legacy.event_type, f"{where}eventType", legacy.data, legacy.resource, f"{where}resource",
                   id=legacy.event_id, time=legacy.time, raw=self.raw)
        ]  # fmt: skip
