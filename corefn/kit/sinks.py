"""The sink helpers an adapter's backends are built from: the one error translation every SDK call
runs in, the table, publisher and object-key rules every backend must apply the same way, and the
stream wrappers for downloads and uploads. Public and stable; the modules they live in
(``corefn.sinks._errors`` ...) are private and may move.

A backend written with these behaves like the others on every cloud: the same
:class:`~corefn.errors.SinkError` family, the same ``_version`` field for optimistic writes, the same
attribute and metadata checks, and ``pip install 'corefn[extra]'`` when its SDK is missing.
"""

from __future__ import annotations

from corefn.sinks._errors import (
    ErrorClass,
    SdkPackages,
    Translate,
    family_by_type,
    from_status,
    retry_after,
    sdk_required,
    translated,
    translated_items,
    wrap,
)
from corefn.sinks._keys import check_metadata
from corefn.sinks._publish import Body, body_bytes, body_text, check_attributes, chunked
from corefn.sinks._streams import CountingReader, TranslatedReader
from corefn.sinks._tables import VERSION_FIELD, check_sort, check_sort_op, gone_is_conflict, item_fields, key_names
from corefn.sinks.base import ObjectInfo, Permission
from corefn.specs import SinkSpec

__all__ = [
    "VERSION_FIELD",
    "Body",
    "CountingReader",
    "ErrorClass",
    "ObjectInfo",
    "Permission",
    "SdkPackages",
    "SinkSpec",
    "Translate",
    "TranslatedReader",
    "body_bytes",
    "body_text",
    "check_attributes",
    "check_metadata",
    "check_sort",
    "check_sort_op",
    "chunked",
    "family_by_type",
    "from_status",
    "gone_is_conflict",
    "item_fields",
    "key_names",
    "retry_after",
    "sdk_required",
    "translated",
    "translated_items",
    "wrap",
]
