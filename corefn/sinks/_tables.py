"""What the document-store table backends (Table Storage, Cosmos DB, Firestore, Cloudant) check
the same way before they ask their service anything, so a mistake reads the same on every cloud.

How keys are encoded and how a query becomes a request is each service's own business and stays
in its backend. DynamoDB and SQLite word these errors their own way ("table 'x': sort key ... is
required").
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from corefn.errors import ConfigurationError, SinkConflictError, SinkNotFoundError
from corefn.specs import SinkSpec

#: where a table backend puts an item's version token in what it returns (etag, update time,
#: ``_rev``...); ``put``'s ``if_version`` takes it back, and an item's own copy is never stored
VERSION_FIELD = "_version"


def key_names(spec: SinkSpec) -> tuple[str, str | None]:
    """(key attribute, sort-key attribute or None) from the sink's declaration."""
    return str(spec.options.get("key") or "id"), spec.options.get("sort_key") or None


def item_fields(sink: str, item: Any, key: str, sort_key: str | None) -> dict[str, Any]:
    """``item``'s attributes without its version token, once it is a JSON object that holds its
    key attribute(s)."""
    if not isinstance(item, Mapping):
        raise ConfigurationError(f"sink {sink!r}: an item is a JSON object, not {type(item).__name__}")
    for name in (key, sort_key):
        if name is not None and item.get(name) is None:
            raise ConfigurationError(f"sink {sink!r}: item has no {name!r} attribute")
    return {k: v for k, v in item.items() if k != VERSION_FIELD}


def check_sort(sink: str, sort_key: str | None, sort: Any) -> None:
    """An item is addressed by a sort value exactly when its table has a sort key: a stray one
    is refused (as SQLite and DynamoDB do), not dropped so that ``get("a", "x")`` reads "a"."""
    if sort_key is not None and sort is None:
        raise ConfigurationError(f"sink {sink!r} has sort key {sort_key!r}: pass it too")
    if sort_key is None and sort is not None:
        raise ConfigurationError(f"sink {sink!r} has no sort key, but a sort value was given: {sort!r}")


def check_sort_op(sink: str, sort_key: str | None, sort_op: str | None, sort_value: Any, operators: Collection[str]) -> None:
    """``sort_op`` is ``begins_with`` (with a string) or one of ``operators``, on a table that has a
    sort key to compare with; None (the whole partition) always is."""
    if sort_op is None:
        return
    if sort_key is None:
        raise ConfigurationError(f"sink {sink!r} has no sort key to compare with {sort_op!r}")
    if sort_op == "begins_with":
        if not isinstance(sort_value, str):
            raise ConfigurationError("begins_with needs a string")
    elif sort_op not in operators:
        raise ConfigurationError(f"sort_op must be one of {', '.join([*operators, 'begins_with'])}, not {sort_op!r}")


@contextmanager
def gone_is_conflict(sink: str, if_version: Any) -> Iterator[None]:
    """A write at ``if_version`` whose item is gone (the service answers 404) lost the race to a
    delete: a SinkConflictError, as when someone else wrote first. Unconditional writes keep
    the 404 (a missing table is not a lost race)."""
    try:
        yield
    except SinkNotFoundError as exc:
        if if_version is None:
            raise
        raise SinkConflictError(sink, "no item to replace at that version", exc.cause) from exc
