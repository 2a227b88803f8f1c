"""Change-feed records from NoSQL tables (DynamoDB Streams, Cosmos DB, Firestore, Cloudant).

``keys``, ``new`` and ``old`` are plain JSON values: provider type annotations are removed, lazily
(see :class:`~corefn.events.base.LazyMap`). ``operation`` is ``upsert`` where the feed cannot tell
an insert from an update (Cosmos DB, Cloudant without a revision history).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from corefn._aliases import alias, missing
from corefn._record import _set
from corefn.events.base import Event, format_time, plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Literal

    NoSqlOperation = Literal["insert", "modify", "remove", "upsert"]

_OPERATIONS = ("insert", "modify", "remove", "upsert")  # NoSqlOperation's values
_NO_KEYS: Mapping[str, Any] = {}


class NoSqlChange(Event):
    __slots__ = ("table", "operation", "keys", "new", "old", "sequence", "time")
    kind: ClassVar[str] = "nosql"
    table: str | None
    operation: NoSqlOperation
    keys: Mapping[str, Any]
    new: Mapping[str, Any] | None
    old: Mapping[str, Any] | None
    sequence: str | None
    time: datetime | None

    def __init__(
        self,
        *,
        table: str | None,
        operation: NoSqlOperation,
        keys: Mapping[str, Any] = _NO_KEYS,
        new: Mapping[str, Any] | None = None,
        old: Mapping[str, Any] | None = None,
        sequence: str | None = None,
        time: datetime | None = None,
        id: str | None = None,
        raw: Any = None,
    ) -> None:
        _set(self, "table", table)
        _set(self, "operation", operation)
        _set(self, "keys", keys)
        _set(self, "new", new)
        _set(self, "old", old)
        _set(self, "sequence", sequence)
        _set(self, "time", time)
        _set(self, "id", id)
        _set(self, "raw", raw)

    @property
    def identity(self) -> str | None:
        """The id, else the table's change sequence number (unique per table)."""
        if self.id is not None:
            return self.id
        return None if self.sequence is None else f"{self.table}:{self.sequence}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "nosql",
            "table": self.table,
            "operation": self.operation,
            "keys": plain(self.keys),
            "new": plain(self.new),
            "old": plain(self.old),
        }
        if self.sequence is not None:
            out["sequence"] = self.sequence
        if self.time is not None:
            out["time"] = format_time(self.time)
        if self.id is not None:
            out["id"] = self.id
        return out


def __getattr__(name: str) -> Any:
    """``NoSqlOperation`` at run time (see :mod:`corefn._aliases`)."""
    if name == "NoSqlOperation":
        return alias(globals(), name, _OPERATIONS)
    raise missing(__name__, name)
