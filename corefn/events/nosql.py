"""Change-feed records from NoSQL tables (DynamoDB Streams, Cosmos DB, Firestore, Cloudant).

``keys``, ``new`` and ``old`` are plain JSON values: provider type annotations are removed, lazily
(see :class:`~corefn.events.base.LazyMap`). ``operation`` is ``upsert`` where the feed cannot tell
an insert from an update (Cosmos DB, Cloudant without a revision history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from corefn.events.base import Event, format_time, plain

NoSqlOperation = Literal["insert", "modify", "remove", "upsert"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NoSqlChange(Event):
    kind: ClassVar[str] = "nosql"
    table: str | None
    operation: NoSqlOperation
    keys: Mapping[str, Any] = field(default_factory=dict)
    new: Mapping[str, Any] | None = None
    old: Mapping[str, Any] | None = None
    sequence: str | None = None
    time: datetime | None = None

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
